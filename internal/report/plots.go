package report

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
)

// Plot is one rendered figure.
type Plot struct {
	// ID is the SVG element's id: "pareto", "progress", "folds", or
	// "param-NAME" for each searched parameter.
	ID string `json:"id"`
	// Title and Caption say what it shows and how to read it.
	Title   string `json:"title"`
	Caption string `json:"caption"`
	// SVG is the figure: one <svg> element, well-formed XML, styled by
	// Stylesheet. Plotted entries are <circle> elements with data-trial,
	// data-acc and further data-* attributes.
	SVG string `json:"svg"`
}

// Options tunes the plots and the report.
type Options struct {
	// Top is the number of leaderboard rows the report's table shows;
	// zero means 50.
	Top int
	// FoldsTop is the number of best entries the per-fold plot shows;
	// zero means 12.
	FoldsTop int
	// MaxPoints caps the points of the over-time and per-parameter plots
	// (the most accurate and every new best are kept); zero means 4000.
	MaxPoints int
	// MaxPareto caps the points of the Pareto plot: every Pareto-optimal,
	// chosen or caveated entry, the most accurate, and an even sample of
	// the rest. Zero means every leaderboard row (the report's default).
	MaxPareto int
	// Version is the consort version named in the report's footer.
	Version string
	// MoreHint is what the table says about the rows it leaves out;
	// empty means "all of them are in leaderboard.csv".
	MoreHint string
	// NoPlots makes Build skip the plots (Page.Plots stays empty): the
	// dashboard's first, quickest response.
	NoPlots bool
}

func (o Options) top() int       { return cmp.Or(o.Top, 50) }
func (o Options) foldsTop() int  { return cmp.Or(o.FoldsTop, 12) }
func (o Options) maxPoints() int { return cmp.Or(o.MaxPoints, 4000) }

// Plots renders every figure of a sweep: the Pareto front, the best so
// far over time, the per-fold spread of the best entries and one scatter
// per searched parameter. rows is the sweep's leaderboard, in any order.
func Plots(s *coordinator.Sweep, rows []coordinator.Row, o Options) []Plot {
	byCV := slices.Clone(rows)
	slices.SortStableFunc(byCV, func(a, b coordinator.Row) int {
		return cmp.Or(-cmp.Compare(a.CVAccuracy, b.CVAccuracy), cmp.Compare(a.SizeBytes, b.SizeBytes), cmp.Compare(a.Trial, b.Trial))
	})
	acc := accuracyScale(byCV)
	out := []Plot{paretoPlot(byCV, acc, o.MaxPareto), progressPlot(s, o), foldsPlot(byCV, o.foldsTop())}
	return append(out, paramPlots(s, byCV, acc, o)...)
}

// accuracyScale spans the rows' CV accuracies, cutting off a long tail
// of poor trials (they are drawn on the bottom edge) so the top stays
// readable.
func accuracyScale(rows []coordinator.Row) scale {
	if len(rows) == 0 {
		return linearScale(0, 1, 0.05)
	}
	hi, lo := rows[0].CVAccuracy, rows[len(rows)-1].CVAccuracy
	p10 := rows[min(len(rows)-1, len(rows)*9/10)].CVAccuracy
	lo = max(lo, p10-0.5*(hi-p10))
	return linearScale(lo, hi, 0.06)
}

// clipNote says how many points fell below an accuracy axis.
func clipNote(n int, s scale) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d below %s are drawn on the bottom edge.", n, Percent(s.lo, 1))
}

// yAxis sets up an accuracy y axis on f.
func yAxis(f *frame, s scale, label string) {
	f.setY(s)
	ticks, step := linearTicks(s.lo, s.hi, 5)
	f.yticks, f.yfmt, f.ylabel = ticks, percentTick(step), label
}

// rowAttrs are the data-* attributes of a leaderboard row's point:
// trial, kind, exact accuracy and bytes for every one; the interval,
// latency and description only for the few that matter (front, chosen,
// caveat), which keeps a plot of thousands of entries light.
func rowAttrs(r coordinator.Row) [][2]string {
	a := [][2]string{
		{"trial", r.Trial}, {"kind", r.Kind},
		{"acc", strconv.FormatFloat(r.CVAccuracy, 'g', -1, 64)},
		{"bytes", strconv.FormatInt(r.SizeBytes, 10)},
	}
	if r.Pareto || r.Chosen || r.Caveat != "" {
		a = append(a, [2]string{"lo", strconv.FormatFloat(r.CILow, 'f', 5, 64)}, [2]string{"hi", strconv.FormatFloat(r.CIHigh, 'f', 5, 64)},
			[2]string{"latency", strconv.FormatFloat(r.LatencyUS, 'f', 1, 64)}, [2]string{"desc", r.Desc})
	}
	if r.Caveat != "" {
		a = append(a, [2]string{"caveat", r.Caveat})
	}
	return a
}

// rowClass is a row's point class: its kind and marks.
func rowClass(r coordinator.Row) string {
	c := "pt " + r.Kind
	if r.Pareto {
		c += " front"
	}
	if r.Chosen {
		c += " chosen"
	}
	if r.Caveat != "" {
		c += " caveat"
	}
	return c
}

// paretoPlot plots the leaderboard rows' CV accuracy against their packed
// size (log scale), the Pareto front as a staircase, the chosen ensemble
// ringed: every row, or when maxPoints > 0 and there are more, every
// front, chosen and caveated row, the most accurate and an even sample
// of the rest. rows must be sorted by accuracy, best first.
func paretoPlot(rows []coordinator.Row, acc scale, maxPoints int) Plot {
	all := len(rows)
	rows = thin(rows, maxPoints)
	const w, h = 1040, 440
	c := newCanvas("pareto", "CV accuracy against packed size", w, h)
	f := newFrame(c, 0, 0, w, h)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		b := float64(max(r.SizeBytes, 1))
		lo, hi = min(lo, b), max(hi, b)
	}
	if len(rows) == 0 {
		lo, hi = 1024, 65536
	}
	xs := logScale(lo, hi, 1.25)
	f.setX(xs)
	f.xticks, f.xfmt, f.xlabel = byteTicks(xs.lo, xs.hi, 8), func(v float64) string { return HumanBytes(int64(v)) }, "packed size (log scale)"
	yAxis(f, acc, "CV accuracy")
	f.axes()
	clipped := 0
	var front []coordinator.Row
	var chosen *coordinator.Row
	// Draw the crowd first (worst on top of nothing), the front above.
	c.open("points")
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if r.Pareto {
			front = append(front, r)
			continue
		}
		if r.CVAccuracy < acc.lo {
			clipped++
		}
		rad := 3.0
		if r.Kind != "member" {
			rad = 3.5
		}
		c.point(point{x: f.x.at(float64(max(r.SizeBytes, 1))), y: f.y.at(r.CVAccuracy), r: rad, class: rowClass(r), attrs: rowAttrs(r)})
		if r.Chosen {
			chosen = &rows[i]
		}
	}
	c.close()
	slices.SortFunc(front, func(a, b coordinator.Row) int { return cmp.Compare(a.SizeBytes, b.SizeBytes) })
	var sx, sy []float64
	for i, r := range front {
		x, y := f.x.at(float64(max(r.SizeBytes, 1))), f.y.at(r.CVAccuracy)
		if i > 0 {
			sx, sy = append(sx, x), append(sy, sy[len(sy)-1])
		}
		sx, sy = append(sx, x), append(sy, y)
	}
	if len(sx) > 0 {
		sx, sy = append(sx, f.r), append(sy, sy[len(sy)-1])
	}
	c.polyline("frontline", sx, sy)
	c.open("points front-points")
	for i, r := range front {
		x, y := f.x.at(float64(max(r.SizeBytes, 1))), f.y.at(r.CVAccuracy)
		c.line("ci", x, f.y.at(r.CILow), x, f.y.at(r.CIHigh))
		c.point(point{x: x, y: y, r: 4.5, class: rowClass(r), attrs: rowAttrs(r)})
		if r.Chosen {
			chosen = &front[i]
		}
	}
	c.close()
	if chosen != nil {
		x, y := f.x.at(float64(max(chosen.SizeBytes, 1))), f.y.at(chosen.CVAccuracy)
		fmt.Fprintf(&c.b, `<circle class="ring" cx="%.1f" cy="%.1f" r="9"/>`, x, y)
		anchor, dx := "start", 13.0
		if x > f.r-120 {
			anchor, dx = "end", -13
		}
		c.text("callout", anchor, x+dx, y+4, "ship "+chosen.Trial)
	}
	kinds := map[string]bool{}
	for _, r := range rows {
		kinds[r.Kind] = true
	}
	var items []legendItem
	for _, it := range []legendItem{{"pt member", "member"}, {"pt ensemble", "ensemble"}, {"pt student caveat", "student (CV optimistic)"}} {
		if kinds[strings.Fields(it.class)[1]] {
			items = append(items, it)
		}
	}
	if len(front) > 0 {
		items = append(items, legendItem{"pt member front", "Pareto front"})
	}
	if chosen != nil {
		items = append(items, legendItem{"ring", "chosen"})
	}
	if len(items) > 0 {
		legend(c, f.r-10, f.b-10, items)
	}
	cap := fmt.Sprintf("Every leaderboard entry (%d): members at their highest ASHA rung, ensemble candidates and the distilled student. ", all)
	if len(rows) < all {
		cap = fmt.Sprintf("%d of the %d leaderboard entries: every Pareto-optimal one, the most accurate and an even sample of the rest. ", len(rows), all)
	}
	cap += "The staircase joins the Pareto-optimal entries — none is both more accurate and smaller — with their 95% CI; the ring marks the ensemble chosen to ship."
	return Plot{ID: "pareto", Title: "Accuracy against size", Caption: cap + clipNote(clipped, acc), SVG: c.String()}
}

// thin keeps at most about n of rows (sorted by accuracy): the front,
// chosen and caveated ones, the most accurate half of n, and every k-th
// of the rest. n ≤ 0 keeps them all.
func thin(rows []coordinator.Row, n int) []coordinator.Row {
	if n <= 0 || len(rows) <= n {
		return rows
	}
	k := max(1, (len(rows)-n/2)/max(1, n/2))
	out := make([]coordinator.Row, 0, n+16)
	for i, r := range rows {
		if i < n/2 || r.Pareto || r.Chosen || r.Caveat != "" || (i-n/2)%k == 0 {
			out = append(out, r)
		}
	}
	return out
}

type legendItem struct{ class, label string }

// legend draws a boxed key of point classes, its bottom-right corner at
// (right, bottom).
func legend(c *canvas, right, bottom float64, items []legendItem) {
	c.open("legend")
	wid := 0.0
	for _, it := range items {
		wid = max(wid, float64(len([]rune(it.label)))*6.2+32)
	}
	hgt := float64(len(items))*16 + 8
	x, y := right-wid, bottom-hgt
	c.rect("legend-box", x, y, wid, hgt)
	for i, it := range items {
		cy := y + 12 + float64(i)*16
		if it.class == "ring" {
			fmt.Fprintf(&c.b, `<circle class="ring" cx="%.1f" cy="%.1f" r="6"/>`, x+12, cy)
		} else {
			fmt.Fprintf(&c.b, `<circle class="%s" cx="%.1f" cy="%.1f" r="4"/>`, it.class, x+12, cy)
		}
		c.text("legend-text", "start", x+24, cy+4, it.label)
	}
	c.close()
}

// progressPlot plots every finished member trial's CV accuracy against the
// time it finished, the best so far as a staircase, the ensemble stage
// shaded and the chosen ensemble's accuracy as a line.
func progressPlot(s *coordinator.Sweep, o Options) Plot {
	const w, h = 1040, 320
	c := newCanvas("progress", "best CV accuracy so far over time", w, h)
	f := newFrame(c, 0, 0, w, h)
	var done []*wire.TrialRecord
	t0 := s.Status.Started
	var end, ensFrom, ensTo time.Time
	for _, r := range s.Records {
		if t0.IsZero() || (!r.QueuedAt.IsZero() && r.QueuedAt.Before(t0)) {
			t0 = r.QueuedAt
		}
		end = latest(end, r.FinishedAt)
		switch {
		case r.Kind == wire.Member && r.State == wire.TrialDone && r.Metrics != nil && !r.FinishedAt.IsZero():
			done = append(done, r)
		case r.Kind == wire.Ensemble && !r.StartedAt.IsZero():
			if ensFrom.IsZero() || r.StartedAt.Before(ensFrom) {
				ensFrom = r.StartedAt
			}
			ensTo = latest(ensTo, r.FinishedAt)
		}
	}
	if !s.Status.Finished.IsZero() {
		end = latest(end, s.Status.Finished)
	}
	slices.SortFunc(done, func(a, b *wire.TrialRecord) int { return a.FinishedAt.Compare(b.FinishedAt) })
	span := end.Sub(t0)
	unit, uname := time.Second, "seconds"
	if span > 3*time.Minute {
		unit, uname = time.Minute, "minutes"
	}
	if span > 3*time.Hour {
		unit, uname = time.Hour, "hours"
	}
	at := func(t time.Time) float64 { return float64(t.Sub(t0)) / float64(unit) }
	xs := linearScale(0, max(at(end), 1e-9), 0.02)
	xs.lo = 0
	f.setX(xs)
	ticks, step := linearTicks(0, xs.hi, 8)
	f.xticks, f.xlabel = ticks, uname+" since the sweep started"
	f.xfmt = func(v float64) string { return strconv.FormatFloat(v, 'f', decimals(step), 64) }
	vals := make([]float64, 0, len(done))
	for _, r := range done {
		vals = append(vals, r.Metrics.CVAccuracy)
	}
	slices.SortFunc(vals, func(a, b float64) int { return cmp.Compare(b, a) })
	ys := accuracyScaleOf(vals)
	yAxis(f, ys, "CV accuracy")
	f.axes()
	if !ensFrom.IsZero() {
		x1, x2 := f.x.at(at(ensFrom)), f.x.at(at(latest(ensTo, ensFrom)))
		c.rect("band", x1, f.t, max(x2-x1, 2), f.b-f.t)
		c.text("band-label", "end", x1-4, f.b-8, "ensemble stage →")
	}
	// The best so far, and which points to keep under MaxPoints.
	var bx, by []float64
	best := math.Inf(-1)
	keep := make([]bool, len(done))
	cut := math.Inf(-1)
	if len(vals) > o.maxPoints() {
		cut = vals[o.maxPoints()-1]
	}
	shown, clipped := 0, 0
	top := s.TopEpochs() // with ASHA, screens below the top rung do not make the best
	for i, r := range done {
		a := r.Metrics.CVAccuracy
		x := f.x.at(at(r.FinishedAt))
		if a > best && r.Epochs >= top {
			if len(bx) > 0 {
				bx, by = append(bx, x), append(by, by[len(by)-1])
			}
			best = a
			bx, by = append(bx, x), append(by, f.y.at(a))
			keep[i] = true
		}
		keep[i] = keep[i] || a >= cut
	}
	if len(bx) > 0 {
		bx, by = append(bx, f.x.at(at(end))), append(by, by[len(by)-1])
	}
	c.open("points")
	for i, r := range done {
		if !keep[i] {
			continue
		}
		shown++
		a := r.Metrics.CVAccuracy
		if a < ys.lo {
			clipped++
		}
		class := "pt member"
		if r.Rung > 0 {
			class += " promoted"
		}
		c.point(point{x: f.x.at(at(r.FinishedAt)), y: f.y.at(a), r: 2.5, class: class, attrs: [][2]string{
			{"trial", r.ID}, {"acc", strconv.FormatFloat(a, 'g', -1, 64)}, {"epochs", strconv.Itoa(r.Metrics.Epochs)},
			{"finished", strconv.FormatFloat(at(r.FinishedAt), 'f', 2, 64) + " " + uname},
		}})
	}
	c.close()
	c.polyline("bestline", bx, by)
	if b := s.Status.Best; b != nil {
		y := f.y.at(b.CV.Mean.Accuracy)
		c.line("chosenline", f.l, y, f.r, y)
		c.text("callout", "start", f.l+6, y-5, "chosen ensemble "+Percent(b.CV.Mean.Accuracy, 2))
	}
	cap := fmt.Sprintf("Each finished member trial (%d) at the time it finished; darker points trained past ASHA's first rung (promotions, and Hyperband brackets that start higher). "+
		"The line is the best CV accuracy so far of a fully trained member (ASHA screens do not count).", len(done))
	if shown < len(done) {
		cap += fmt.Sprintf(" Showing the %d most accurate and every new best.", shown)
	}
	return Plot{ID: "progress", Title: "Best so far over time", Caption: cap + clipNote(clipped, ys), SVG: c.String()}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// decimals is the number of decimals a tick spacing needs.
func decimals(step float64) int {
	d := 0
	for ; d < 4 && math.Abs(step-math.Round(step)) > 1e-9; step *= 10 {
		d++
	}
	return d
}

// accuracyScaleOf is accuracyScale over plain values sorted descending.
func accuracyScaleOf(vals []float64) scale {
	rows := make([]coordinator.Row, len(vals))
	for i, v := range vals {
		rows[i].CVAccuracy = v
	}
	return accuracyScale(rows)
}

// foldsPlot plots, for the n most accurate entries, each fold's accuracy as
// a dot, the mean as a tick and the 95% interval as a bar; entries tied
// with the best are coloured. rows must be sorted by accuracy.
func foldsPlot(rows []coordinator.Row, n int) Plot {
	rows = rows[:min(n, len(rows))]
	const w, rowH, labelW = 1040.0, 22.0, 200.0
	h := marginT + marginB + rowH*float64(max(len(rows), 1)) + 6
	c := newCanvas("folds", "per-fold accuracy of the best entries", w, h)
	f := newFrame(c, labelW-marginL, 0, w-labelW+marginL, h)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		lo, hi = min(lo, r.CILow), max(hi, r.CIHigh)
		for _, a := range r.Folds {
			lo, hi = min(lo, a), max(hi, a)
		}
	}
	if len(rows) == 0 {
		lo, hi = 0, 1
	}
	xs := linearScale(lo, min(hi, 1), 0.04)
	f.setX(xs)
	ticks, step := linearTicks(xs.lo, xs.hi, 7)
	f.xticks, f.xfmt, f.xlabel = ticks, percentTick(step), "accuracy on each held-out fold"
	f.noYTicks = true
	f.axes()
	c.open("points")
	for i, r := range rows {
		y := f.t + rowH*(float64(i)+0.5) + 3
		state := "untied"
		if r.Tied {
			state = "tied"
		}
		label := r.Trial + "  " + r.Kind
		if r.Chosen {
			label += " ★"
		}
		if r.Caveat != "" {
			label += " †"
		}
		c.text("rowlabel "+state, "end", f.l-8, y+4, label)
		c.line("row-guide", f.l, y, f.r, y)
		c.line("ci "+state, f.x.at(r.CILow), y, f.x.at(r.CIHigh), y)
		c.line("mean "+state, f.x.at(r.CVAccuracy), y-7, f.x.at(r.CVAccuracy), y+7)
		for k, a := range r.Folds {
			c.point(point{x: f.x.at(a), y: y + 5*jitter(r.Trial, k), r: 3, class: "pt fold " + state, attrs: [][2]string{
				{"trial", r.Trial}, {"fold", strconv.Itoa(k + 1)}, {"acc", strconv.FormatFloat(a, 'g', -1, 64)},
			}})
		}
	}
	c.close()
	cap := fmt.Sprintf("The %d most accurate entries: a dot per cross-validation fold, the mean (tick) and its 95%% interval (bar). "+
		"Coloured entries are statistically tied with the best (paired t-test over the same folds); ★ chosen, † CV optimistic.", len(rows))
	return Plot{ID: "folds", Title: "Per-fold spread of the best entries", Caption: cap, SVG: c.String()}
}

// jitter returns a deterministic offset in [-1, 1] for point k of trial.
func jitter(trial string, k int) float64 {
	h := fnv.New32a()
	h.Write([]byte(trial))
	h.Write([]byte{byte(k), byte(k >> 8)})
	return float64(h.Sum32()%2001)/1000 - 1
}

// paramPlots plots, for each searched parameter, every member entry's CV
// accuracy against its value, the chosen ensemble's members highlighted.
// rows must be sorted by accuracy.
func paramPlots(s *coordinator.Sweep, rows []coordinator.Row, acc scale, o Options) []Plot {
	recs := make(map[string]*wire.TrialRecord, len(s.Records))
	for _, r := range s.Records {
		recs[r.ID] = r
	}
	chosen := map[string]bool{}
	if b := s.Status.Best; b != nil {
		for _, m := range b.Members {
			chosen[m] = true
		}
	}
	type entry struct {
		row coordinator.Row
		rec *wire.TrialRecord
	}
	var members []entry
	for _, r := range rows {
		if r.Kind == "member" && recs[r.Trial] != nil {
			members = append(members, entry{r, recs[r.Trial]})
		}
	}
	if len(members) > o.maxPoints() {
		kept := members[:o.maxPoints()]
		for _, e := range members[o.maxPoints():] {
			if chosen[e.row.Trial] {
				kept = append(kept, e)
			}
		}
		members = kept
	}
	var out []Plot
	for _, p := range searched(s, recs) {
		const w, h = 250, 210
		id := "param-" + p.Name
		c := newCanvas(id, "CV accuracy against "+p.Name, w, h)
		f := newFrame(c, 0, 0, w, h)
		yAxis(f, acc, "")
		f.xlabel = p.Name
		// x position of each entry, or NaN when the entry lacks it.
		xpos := make([]float64, len(members))
		var cats []string
		categorical := p.Kind == search.Categorical || (p.Kind == search.Int && p.High-p.Low <= 5 && !p.Log)
		if categorical {
			idx := map[string]int{}
			var vals []any
			if p.Kind == search.Categorical {
				vals = p.Values
			} else {
				for v := p.Low; v <= p.High; v++ {
					vals = append(vals, v)
				}
			}
			for _, v := range vals {
				idx[fmt.Sprint(v)] = len(cats)
				cats = append(cats, catLabel(v))
			}
			for i, e := range members {
				v, ok := e.rec.Params[p.Name]
				if !ok {
					if _, ok := idx["–"]; !ok {
						idx["–"] = len(cats)
						cats = append(cats, "–")
					}
					xpos[i] = float64(idx["–"])
					continue
				}
				k, ok := idx[fmt.Sprint(v)]
				if !ok {
					if f, isF := v.(float64); isF {
						k, ok = idx[strconv.FormatFloat(f, 'f', -1, 64)]
					}
				}
				if !ok {
					k = len(cats)
					idx[fmt.Sprint(v)] = k
					cats = append(cats, catLabel(v))
				}
				xpos[i] = float64(k)
			}
			f.setX(scale{lo: -0.5, hi: float64(len(cats)) - 0.5})
			f.xcats = cats
		} else {
			lo, hi := p.Low, p.High
			for i, e := range members {
				v, ok := e.rec.Params[p.Name].(float64)
				if !ok {
					xpos[i] = math.NaN()
					continue
				}
				xpos[i] = v
				lo, hi = min(lo, v), max(hi, v)
			}
			if p.Log && lo > 0 {
				xs := logScale(lo, hi, 1.06)
				f.setX(xs)
				f.xticks = logTicks(xs.lo, xs.hi, 4)
			} else {
				xs := linearScale(lo, hi, 0.04)
				f.setX(xs)
				f.xticks, _ = linearTicks(xs.lo, xs.hi, 4)
			}
			f.xfmt = number
		}
		f.axes()
		c.open("points")
		// Best last, so the top of the cloud is on top.
		for i := len(members) - 1; i >= 0; i-- {
			e, x := members[i], xpos[i]
			if math.IsNaN(x) {
				continue
			}
			px := f.x.at(x)
			if categorical {
				px += jitter(e.row.Trial, 0) * 0.3 * (f.r - f.l) / float64(len(cats))
			}
			class := "pt member"
			if chosen[e.row.Trial] {
				class += " chosen-member"
			}
			c.point(point{x: px, y: f.y.at(e.row.CVAccuracy), r: 2.5, class: class, attrs: [][2]string{
				{"trial", e.row.Trial}, {"acc", strconv.FormatFloat(e.row.CVAccuracy, 'g', -1, 64)}, {"value", fmt.Sprint(e.rec.Params[p.Name])},
			}})
		}
		c.close()
		out = append(out, Plot{ID: id, Title: p.Name, SVG: c.String(),
			Caption: fmt.Sprintf("CV accuracy of each member entry against %s; orange: members of the chosen ensemble.", p.Name)})
	}
	return out
}

// catLabel renders a categorical value.
func catLabel(v any) string {
	switch v := v.(type) {
	case float64:
		return number(v)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// searched returns the sweep's (expanded) parameters, or when its spec
// does not parse, the parameters found on its member records.
func searched(s *coordinator.Sweep, recs map[string]*wire.TrialRecord) []search.Param {
	if s.Spec != nil {
		if sp, err := s.Spec.Parsed(); err == nil && sp.Len() > 0 {
			ps := sp.Params()
			slices.SortStableFunc(ps, func(a, b search.Param) int { return strings.Compare(a.Name, b.Name) })
			return ps
		}
	}
	seen := map[string]*search.Param{}
	for _, r := range recs {
		if r.Kind != wire.Member {
			continue
		}
		for k, v := range r.Params {
			p := seen[k]
			if p == nil {
				p = &search.Param{Name: k, Kind: search.Float, Low: math.Inf(1), High: math.Inf(-1)}
				seen[k] = p
			}
			if f, ok := v.(float64); ok && p.Kind == search.Float {
				p.Low, p.High = min(p.Low, f), max(p.High, f)
			} else if !ok {
				p.Kind = search.Categorical
				if !slices.ContainsFunc(p.Values, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
					p.Values = append(p.Values, v)
				}
			}
		}
	}
	var out []search.Param
	for _, p := range seen {
		if p.Kind == search.Float && p.Low > 0 && p.High/p.Low >= 30 {
			p.Log = true
		}
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b search.Param) int { return strings.Compare(a.Name, b.Name) })
	return out
}
