package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/consort-ml/consort/coordinator"
)

// Stylesheet styles the report, its plots and the fragments of Page; the
// live dashboard serves it too.
//
//go:embed assets/report.css
var Stylesheet string

// Script shows a tooltip over plotted points and highlights a trial in
// every plot at once; it works on fragments swapped in later.
//
//go:embed assets/report.js
var Script string

// Page is a sweep's report, built once and rendered whole (WriteHTML) or
// in the fragments the live dashboard swaps in.
type Page struct {
	// Verdict is what to ship, how accurate, how big, how sure.
	Verdict *Verdict
	// Plots are the figures, Pareto first.
	Plots []Plot
	// Header, VerdictHTML and TableHTML are HTML fragments: the title
	// line, the verdict card and the leaderboard table.
	Header, VerdictHTML, TableHTML string
	// Rows is the number of leaderboard rows; the table shows the first
	// Options.Top.
	Rows int

	opts Options
}

// Build renders a sweep's report. rows is its leaderboard in the order
// the table should show.
func Build(s *coordinator.Sweep, rows []coordinator.Row, o Options) (*Page, error) {
	p := &Page{Verdict: Summarize(s, rows), Rows: len(rows), opts: o}
	if !o.NoPlots {
		p.Plots = Plots(s, rows, o)
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "header", headerOf(s, p.Verdict)); err != nil {
		return nil, fmt.Errorf("report: header: %w", err)
	}
	p.Header = b.String()
	b.Reset()
	if err := tmpl.ExecuteTemplate(&b, "verdict", verdictOf(p.Verdict)); err != nil {
		return nil, fmt.Errorf("report: verdict: %w", err)
	}
	p.VerdictHTML = b.String()
	b.Reset()
	if err := tmpl.ExecuteTemplate(&b, "table", tableOf(rows, o.top(), cmp.Or(o.MoreHint, "all of them are in leaderboard.csv"))); err != nil {
		return nil, fmt.Errorf("report: table: %w", err)
	}
	p.TableHTML = b.String()
	return p, nil
}

// WriteHTML writes the report as one self-contained HTML document:
// styles, script and plots inline, nothing fetched from the network.
func (p *Page) WriteHTML(w io.Writer) error {
	var main, params []Plot
	for _, pl := range p.Plots {
		if strings.HasPrefix(pl.ID, "param-") {
			params = append(params, pl)
		} else {
			main = append(main, pl)
		}
	}
	v := struct {
		Title                  string
		CSS                    template.CSS
		JS                     template.JS
		Header, Verdict, Table template.HTML
		Plots, Params          []plotView
		Generated, Version     string
	}{
		Title: "consort · " + p.Verdict.Sweep, CSS: template.CSS(Stylesheet), JS: template.JS(Script),
		Header: template.HTML(p.Header), Verdict: template.HTML(p.VerdictHTML), Table: template.HTML(p.TableHTML),
		Plots: plotViews(main), Params: plotViews(params), Generated: time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Version: p.opts.Version,
	}
	if err := tmpl.ExecuteTemplate(w, "page", v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteHTML builds a sweep's report and writes it to w.
func WriteHTML(w io.Writer, s *coordinator.Sweep, rows []coordinator.Row, o Options) error {
	p, err := Build(s, rows, o)
	if err != nil {
		return err
	}
	return p.WriteHTML(w)
}

type plotView struct {
	ID, Title, Caption string
	SVG                template.HTML
}

func plotViews(ps []Plot) []plotView {
	out := make([]plotView, len(ps))
	for i, p := range ps {
		out[i] = plotView{p.ID, p.Title, p.Caption, template.HTML(p.SVG)}
	}
	return out
}

type headerView struct {
	Sweep, State, Sub string
}

func headerOf(s *coordinator.Sweep, v *Verdict) headerView {
	h := headerView{Sweep: v.Sweep, State: v.State}
	var parts []string
	if sp := s.Spec; sp != nil {
		parts = append(parts, sp.Data.Source, fmt.Sprintf("%d-fold cross-validation", sp.Data.Folds))
	}
	c := v.Trials
	m := fmt.Sprintf("%d member trials", c.Done+c.Failed+c.Stopped)
	if c.Running+c.Queued > 0 {
		m += fmt.Sprintf(" (+%d in flight)", c.Running+c.Queued)
	}
	if c.Failed > 0 {
		m += fmt.Sprintf(", %d failed", c.Failed)
	}
	parts = append(parts, m)
	if c.Ensembles > 0 {
		parts = append(parts, fmt.Sprintf("%d ensemble candidates", c.Ensembles))
	}
	st := s.Status
	if !st.Started.IsZero() {
		end := st.Finished
		if end.IsZero() {
			end = time.Now()
		}
		took := "took "
		if !st.State.Final() {
			took = "running for "
		}
		parts = append(parts, "started "+st.Started.UTC().Format("2006-01-02 15:04 MST"), took+Duration(end.Sub(st.Started)))
	}
	h.Sub = strings.Join(parts, " · ")
	return h
}

// Duration renders a duration to the second ("54s", "3m20s", "2h05m").
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

type tile struct{ K, V, S string }

type verdictView struct {
	Chosen       bool
	What, How    string
	Tiles        []tile
	Notes        []string
	Error        string
	Running      bool
	Trial, State string
}

// verdictOf turns the verdict into the card's words.
func verdictOf(v *Verdict) verdictView {
	vv := verdictView{Error: v.Error, State: v.State, Running: v.State == "running" || v.State == "pending" || v.State == "ensembling"}
	c := v.Trials
	progress := fmt.Sprintf("%d done, %d running, %d queued, %d failed", c.Done, c.Running, c.Queued, c.Failed)
	if c.Budget > 0 {
		progress = fmt.Sprintf("%d of %d members done · %d running · %d failed", c.Done+c.Failed+c.Stopped, c.Budget, c.Running, c.Failed)
	}
	if c.Ensembles > 0 {
		progress += fmt.Sprintf(" · ensembles %d/%d", c.EnsemblesDone, c.Ensembles)
	}
	if r := v.Chosen; r != nil {
		vv.Chosen, vv.Trial = true, r.Trial
		vv.What = fmt.Sprintf("%s of %d member%s", v.Method, len(v.Members), plural(len(v.Members)))
		vv.How = "members " + strings.Join(v.Members, ", ") + " · file best.consort · consort predict --model best.consort --data DATA"
		test := tile{"Test accuracy", "—", "not scored"}
		if r.TestAccuracy != nil {
			test = tile{"Test accuracy", Percent(*r.TestAccuracy, 2), "held-out split, scored once"}
		}
		size := fmt.Sprintf("%d-bit, %s sparse", r.Bits, Percent(r.Sparsity, 0))
		if v.BundleBytes > 0 {
			size = "bundle file " + HumanBytes(v.BundleBytes) + " · " + size
		}
		vv.Tiles = []tile{
			{"CV accuracy", Percent(r.CVAccuracy, 2), fmt.Sprintf("95%% CI %s–%s over %d folds (nested CV)", Percent(r.CILow, 2), Percent(r.CIHigh, 2), len(r.Folds))},
			test,
			{"Size", HumanBytes(r.SizeBytes), size},
			{"Latency", latency(r.LatencyUS), "per sample, summed over members"},
			sureTile(v, r),
		}
	} else if r := v.Best; r != nil {
		vv.Trial = r.Trial
		vv.What = "nothing chosen yet"
		if !vv.Running {
			vv.What = "no ensemble was chosen"
		}
		vv.How = "best so far: " + r.Trial + " (" + r.Kind + ") " + r.Desc
		vv.Tiles = []tile{
			{"Best CV so far", Percent(r.CVAccuracy, 2), fmt.Sprintf("95%% CI %s–%s over %d folds", Percent(r.CILow, 2), Percent(r.CIHigh, 2), len(r.Folds))},
			{"Size", HumanBytes(r.SizeBytes), fmt.Sprintf("of the best so far: %d-bit, %s sparse", r.Bits, Percent(r.Sparsity, 0))},
			{"Latency", latency(r.LatencyUS), "of the best so far, per sample"},
			{"Progress", fmt.Sprintf("%d/%d", c.Done+c.Failed+c.Stopped, max(c.Budget, c.Done+c.Failed+c.Stopped)), progress},
			sureTile(v, r),
		}
	} else {
		vv.What = "no results yet"
		vv.Tiles = []tile{{"Progress", fmt.Sprintf("%d/%d", c.Done+c.Failed, max(c.Budget, c.Done+c.Failed)), progress}}
	}
	if v.Chosen != nil {
		vv.Notes = append(vv.Notes, "Trials: "+progress+".")
	}
	if s := v.Smallest; s != nil {
		ref := v.Chosen
		if ref == nil {
			ref = v.Best
		}
		vv.Notes = append(vv.Notes, fmt.Sprintf("%s (%s) is statistically tied with %s and %s smaller: %s, CV %s.",
			s.Trial, s.Kind, ref.Trial, Percent(1-float64(s.SizeBytes)/float64(ref.SizeBytes), 0), HumanBytes(s.SizeBytes), Percent(s.CVAccuracy, 2)))
	}
	if s := v.Student; s != nil {
		vv.Notes = append(vv.Notes, fmt.Sprintf("Student %s, distilled from the chosen ensemble: %s, %d-bit. Its CV %s is optimistic — its teacher saw all folds; check it on fresh data before shipping it instead.",
			s.Trial, HumanBytes(s.SizeBytes), s.Bits, Percent(s.CVAccuracy, 2)))
	}
	return vv
}

// sureTile says how sure: the interval's half-width and the ties.
func sureTile(v *Verdict, r *coordinator.Row) tile {
	half := (r.CIHigh - r.CILow) / 2 * 100
	s := "no other entry is statistically tied with it"
	switch v.Tied {
	case 0:
	case 1:
		s = "1 other entry is statistically tied with it"
	default:
		s = fmt.Sprintf("%d other entries are statistically tied with it", v.Tied)
	}
	return tile{"How sure", "± " + strconv.FormatFloat(half, 'f', 2, 64) + " pt", s + " (paired t-test over folds)"}
}

func latency(us float64) string {
	if us >= 1000 {
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(us, 'f', 1, 64) + " µs"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

type rowView struct {
	coordinator.Row
	Acc, CI, Test, Sparsity, Size, Latency string
	Class                                  string
	// BarL, BarW and Mean place the interval in the CI bar, in percent.
	BarL, BarW, Mean float64
}

type tableView struct {
	Rows     []rowView
	More     int
	MoreHint string
}

// tableOf formats the first top rows.
func tableOf(rows []coordinator.Row, top int, hint string) tableView {
	t := tableView{More: max(0, len(rows)-top), MoreHint: hint}
	rows = rows[:min(top, len(rows))]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		lo, hi = min(lo, r.CILow), max(hi, min(r.CIHigh, 1))
	}
	if !(hi > lo) {
		lo, hi = lo-0.01, hi+0.01
	}
	pos := func(a float64) float64 { return math.Max(0, math.Min(100, 100*(a-lo)/(hi-lo))) }
	for _, r := range rows {
		v := rowView{Row: r, Acc: Percent(r.CVAccuracy, 2), CI: Percent(r.CILow, 2) + "–" + Percent(r.CIHigh, 2),
			Test: "", Sparsity: Percent(r.Sparsity, 0), Size: HumanBytes(r.SizeBytes), Latency: latency(r.LatencyUS)}
		if r.TestAccuracy != nil {
			v.Test = Percent(*r.TestAccuracy, 2)
		}
		v.BarL, v.BarW, v.Mean = pos(r.CILow), max(pos(r.CIHigh)-pos(r.CILow), 1), pos(r.CVAccuracy)
		var cls []string
		for _, c := range []struct {
			on   bool
			name string
		}{{r.Chosen, "chosen"}, {r.Tied, "tied"}, {r.Pareto, "pareto"}, {r.Caveat != "", "caveat"}} {
			if c.on {
				cls = append(cls, c.name)
			}
		}
		v.Class = strings.Join(cls, " ")
		t.Rows = append(t.Rows, v)
	}
	return t
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).Parse(`
{{define "header"}}<h1>{{.Sweep}} <span class="state {{.State}}">{{.State}}</span></h1>
<p class="sub">{{.Sub}}</p>{{end}}

{{define "verdict"}}<section class="card verdict" id="verdict">
<div class="ship">{{if .Chosen}}<span class="what">Ship <b>{{.Trial}}</b> — {{.What}}</span>{{else}}<span class="what">{{.What}}</span>{{end}}
<span class="how">{{.How}}</span></div>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<div class="tiles">{{range .Tiles}}<div class="tile"><div class="k">{{.K}}</div><div class="v">{{.V}}</div><div class="s">{{.S}}</div></div>{{end}}</div>
{{if .Notes}}<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>{{end}}

{{define "table"}}<div class="scroll"><table class="board" id="board">
<thead><tr><th class="num">#</th><th>trial</th><th>kind</th><th class="num">CV acc</th><th>95% interval</th><th class="num">test</th><th class="num">sparsity</th><th class="num">bits</th><th class="num">size</th><th class="num">latency</th><th>marks</th><th>what</th></tr></thead>
<tbody>{{range .Rows}}<tr class="{{.Class}}" data-trial="{{.Trial}}" data-rank="{{.Rank}}">
<td class="num">{{.Rank}}</td><td class="mono">{{.Trial}}</td><td>{{.Kind}}</td><td class="num">{{.Acc}}</td>
<td><span class="cibar"><i style="left:{{pct .BarL}}%;width:{{pct .BarW}}%"></i><b style="left:{{pct .Mean}}%"></b></span><span class="mono">{{.CI}}</span></td>
<td class="num">{{.Test}}</td><td class="num">{{.Sparsity}}</td><td class="num">{{.Bits}}</td><td class="num">{{.Size}}</td><td class="num">{{.Latency}}</td>
<td class="marks">{{if .Chosen}}<span class="badge ship">ship</span>{{end}}{{if .Tied}}<span class="badge tied">tied</span>{{end}}{{if .Pareto}}<span class="badge pareto">Pareto</span>{{end}}{{if .Caveat}}<span class="badge caveat" title="{{.Caveat}}">† optimistic</span>{{end}}</td>
<td class="desc">{{.Desc}}</td></tr>
{{end}}</tbody></table></div>
{{if .More}}<p class="more">… and {{.More}} more entries ({{.MoreHint}}).</p>{{end}}{{end}}

{{define "page"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>{{.CSS}}</style></head>
<body><main>
<header id="header">{{.Header}}</header>
{{.Verdict}}
{{range .Plots}}<section class="card"><figure><h2>{{.Title}}</h2>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure></section>
{{end}}
{{if .Params}}<section class="card params"><h2>Each searched parameter against CV accuracy</h2>
<div class="grid2">{{range .Params}}<figure>{{.SVG}}</figure>{{end}}</div>
<figcaption>One dot per member entry (its highest ASHA rung); orange dots are the chosen ensemble's members; "–" means the parameter was inactive.</figcaption></section>{{end}}
<section class="card"><h2>Leaderboard</h2>{{.Table}}</section>
<section class="card howto"><h2>How to read this</h2><dl>
<dt>CV accuracy and its 95% interval</dt><dd>Mean accuracy over the cross-validation folds the model did not train on, and the Student-t interval of that mean. Ensembles are scored by nested CV: their weights were fitted without the fold they are scored on.</dd>
<dt>Test accuracy</dt><dd>The held-out test split is used once, for the chosen ensemble only.</dd>
<dt>tied</dt><dd>Not significantly worse than the best honest entry: one-sided paired t-test over the same folds at 5%.</dd>
<dt>Pareto</dt><dd>No other entry is at least as accurate and at most as big, and better in one of the two.</dd>
<dt>† CV optimistic</dt><dd>The distilled student learned from the chosen ensemble's probabilities, whose members trained on every fold; its CV accuracy is not an honest estimate, so it is never marked tied or Pareto.</dd>
<dt>size and latency</dt><dd>The packed model's bytes as written to disk, and measured inference time per sample; for an ensemble, summed over its members.</dd>
</dl></section>
<footer>Generated {{.Generated}} by consort {{.Version}}. This file is self-contained and works offline.</footer>
</main><script>{{.JS}}</script></body></html>
{{end}}`))
