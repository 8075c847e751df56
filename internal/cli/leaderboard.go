package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/local"
	"github.com/consort-ml/consort/internal/report"
)

// Leaderboard formats.
var leaderboardFormats = []string{"table", "csv", "json", "markdown", "html"}

// marksLegend explains the marks column of the table and markdown.
const marksLegend = "marks: * chosen: ship it   = tied with the best (paired t-test over folds)\n" +
	"       P Pareto-optimal in accuracy and size   † CV optimistic   s ASHA screen (see below)"

// writeLeaderboard renders the first top rows in format.
func writeLeaderboard(w io.Writer, format string, rows []coordinator.Row, top int, s *coordinator.Sweep) error {
	all, full := len(rows), rows
	if top < len(rows) {
		rows = rows[:top]
	}
	switch format {
	case "html":
		return report.WriteHTML(w, s, full, report.Options{Top: top, Version: Version})
	case "json":
		out := struct {
			Sweep     string            `json:"sweep"`
			State     string            `json:"state"`
			Best      any               `json:"best,omitempty"`
			Rows      []coordinator.Row `json:"rows"`
			TotalRows int               `json:"total_rows"`
			Marker    string            `json:"legend"`
		}{s.Spec.Name, string(s.Status.State), s.Status.Best, rows, all,
			"chosen: the ensemble to ship; tied: not significantly below the best honest row (paired t-test over folds); " +
				"pareto: not dominated in accuracy and size; caveat: why a row's CV accuracy is not an honest estimate (such rows are never tied or pareto)"}
		if out.Rows == nil {
			out.Rows = []coordinator.Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"rank", "trial", "kind", "cv_accuracy", "ci_low", "ci_high", "test_accuracy", "sparsity", "bits", "size_bytes",
			"latency_us", "status", "chosen", "tied", "pareto", "caveat", "desc"})
		for _, r := range rows {
			test := ""
			if r.TestAccuracy != nil {
				test = f6(*r.TestAccuracy)
			}
			cw.Write([]string{strconv.Itoa(r.Rank), r.Trial, r.Kind, f6(r.CVAccuracy), f6(r.CILow), f6(r.CIHigh), test,
				f6(r.Sparsity), strconv.Itoa(r.Bits), strconv.FormatInt(r.SizeBytes, 10), strconv.FormatFloat(r.LatencyUS, 'f', 2, 64),
				r.Status, strconv.FormatBool(r.Chosen), strconv.FormatBool(r.Tied), strconv.FormatBool(r.Pareto), r.Caveat, r.Desc})
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		fmt.Fprintln(w, "| # | trial | kind | CV accuracy | 95% CI | test | size | latency | sparsity | bits | marks | what |")
		fmt.Fprintln(w, "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---|---|")
		for _, r := range rows {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s–%s | %s | %s | %s | %s | %d | %s | %s |\n", r.Rank, r.Trial, r.Kind,
				report.Percent(r.CVAccuracy, 2), report.Percent(r.CILow, 2), report.Percent(r.CIHigh, 2), testCell(r),
				report.HumanBytes(r.SizeBytes), latencyCell(r.LatencyUS), report.Percent(r.Sparsity, 0), r.Bits, marks(r), mdEscape(r.Desc))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s\n", marksLegend)
		writeCaveats(w, rows, "")
		return nil
	case "table":
		cells := [][]string{{"#", "TRIAL", "KIND", "CV ACC", "95% CI", "TEST", "SIZE", "LATENCY", "SPARSITY", "BITS", "MARKS", "WHAT"}}
		for _, r := range rows {
			cells = append(cells, []string{strconv.Itoa(r.Rank), r.Trial, r.Kind, report.Percent(r.CVAccuracy, 2),
				report.Percent(r.CILow, 2) + "–" + report.Percent(r.CIHigh, 2), testCell(r), report.HumanBytes(r.SizeBytes),
				latencyCell(r.LatencyUS), report.Percent(r.Sparsity, 0), strconv.Itoa(r.Bits), marks(r), r.Desc})
		}
		cells, align := fitColumns(cells, "r..rrrrrrrl.", terminalWidth(w), 56, "SPARSITY", "BITS", "LATENCY", "KIND", "TEST")
		writeTable(w, cells, align)
		if all > len(rows) {
			fmt.Fprintf(w, "… and %d more (--top %d shows them all)\n", all-len(rows), all)
		}
		fmt.Fprintln(w, marksLegend)
		writeCaveats(w, rows, "")
		return nil
	}
	return usageError(fmt.Errorf("--format %q: allowed %s", format, strings.Join(leaderboardFormats, ", ")))
}

// writeCaveats prints a line per row with a caveat, and one for all the
// ASHA screens.
func writeCaveats(w io.Writer, rows []coordinator.Row, indent string) {
	screens := 0
	for _, r := range rows {
		switch {
		case r.Stopped:
			screens++
		case r.Caveat != "":
			fmt.Fprintf(w, "%s† %s (%s): %s\n", indent, r.Trial, r.Kind, r.Caveat)
		}
	}
	if screens > 0 {
		fmt.Fprintf(w, "%ss %d ASHA screen%s: trained for fewer epochs than the top rung and not refitted; listed after the fully trained entries\n",
			indent, screens, plural(screens))
	}
}

// terminalWidth is w's width in columns when w is a terminal, else 0.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			return cols
		}
	}
	return 0
}

// fitColumns fits a table into width columns (0: no limit, but the last
// column clipped to maxLast runes). It clips the last column, drops it
// when fewer than 12 runes of it would remain, then drops the columns
// named in drop, in that order, until the rest fits.
func fitColumns(cells [][]string, align string, width, maxLast int, drop ...string) ([][]string, string) {
	tableWidth := func(upTo int) int {
		w := 0
		for i := range upTo {
			col := 0
			for _, row := range cells {
				col = max(col, utf8.RuneCountInString(row[i]))
			}
			w += col + 2
		}
		return w
	}
	n := len(cells[0])
	limit := maxLast
	if width > 0 {
		limit = width - 1 - tableWidth(n-1)
	}
	if limit < 12 {
		for i, row := range cells {
			cells[i] = row[:n-1]
		}
		align = align[:n-1]
	} else {
		for _, row := range cells {
			row[n-1] = clip(row[n-1], limit)
		}
		return cells, align
	}
	for _, name := range drop {
		if width == 0 || tableWidth(len(cells[0])) <= width+1 {
			break
		}
		col := slices.Index(cells[0], name)
		if col < 0 {
			continue
		}
		for i, row := range cells {
			cells[i] = slices.Delete(row, col, col+1)
		}
		align = align[:col] + align[col+1:]
	}
	return cells, align
}

// writeTable writes cells as aligned columns two spaces apart; align
// has a letter per column: r right, l left, "." left without padding
// when last.
func writeTable(w io.Writer, cells [][]string, align string) {
	widths := make([]int, len(align))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	last := len(cells[0]) - 1
	var b strings.Builder
	for _, row := range cells {
		b.Reset()
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case align[i] == 'r':
				b.WriteString(pad + c)
			case i == last:
				b.WriteString(c)
			default:
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func f6(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

func testCell(r coordinator.Row) string {
	if r.TestAccuracy == nil {
		return "-"
	}
	return report.Percent(*r.TestAccuracy, 2)
}

func latencyCell(us float64) string {
	if us >= 1000 {
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(us, 'f', 1, 64) + " µs"
}

// countScreens counts the ASHA screens among rows.
func countScreens(rows []coordinator.Row) int {
	n := 0
	for _, r := range rows {
		if r.Stopped {
			n++
		}
	}
	return n
}

func marks(r coordinator.Row) string {
	var b strings.Builder
	if r.Chosen {
		b.WriteByte('*')
	}
	if r.Tied {
		b.WriteByte('=')
	}
	if r.Pareto {
		b.WriteByte('P')
	}
	switch {
	case r.Stopped:
		b.WriteByte('s')
	case r.Caveat != "":
		b.WriteString("†")
	}
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// printVerdict answers, in words, the four questions a sweep is run for:
// what to ship, how accurate, how big, how sure. dir is the run
// directory ("" when there is none).
func printVerdict(w io.Writer, s *coordinator.Sweep, rows []coordinator.Row, dir string, took time.Duration) {
	v := report.Summarize(s, rows)
	c := v.Trials
	fmt.Fprintln(w)
	head := fmt.Sprintf("sweep %s %s", v.Sweep, v.State)
	final := s.Status.State.Final()
	switch {
	case took > 0 && final:
		head += " in " + report.Duration(took)
	case took > 0:
		head += " for " + report.Duration(took)
	}
	head += fmt.Sprintf(": %d member trials", c.Done+c.Failed+c.Stopped)
	if !final && c.Budget > 0 {
		head += fmt.Sprintf(" of %d", c.Budget)
	}
	if c.Failed > 0 {
		head += fmt.Sprintf(" (%d failed)", c.Failed)
	}
	if c.Running+c.Queued > 0 {
		head += fmt.Sprintf(", %d running, %d queued", c.Running, c.Queued)
	}
	if c.Ensembles > 0 {
		head += fmt.Sprintf(", %d ensemble candidates", c.Ensembles)
	}
	fmt.Fprintln(w, head)
	if v.Error != "" {
		fmt.Fprintf(w, "error     %s\n", v.Error)
	}
	width := terminalWidth(w)
	line := func(label, format string, a ...any) {
		fmt.Fprint(w, wrap(fmt.Sprintf("%-9s %s", label, fmt.Sprintf(format, a...)), width, 10))
	}
	r := v.Chosen
	if r == nil {
		label, why := "best", "no ensemble was chosen"
		if !s.Status.State.Final() {
			label, why = "so far", "nothing is chosen until the sweep ends"
		}
		if b := v.Best; b != nil {
			line(label, "%s (%s): CV %s, 95%% CI %s–%s, %s — %s", b.Trial, b.Kind, report.Percent(b.CVAccuracy, 2),
				report.Percent(b.CILow, 2), report.Percent(b.CIHigh, 2), report.HumanBytes(b.SizeBytes), why)
		} else if screens := countScreens(rows); screens > 0 {
			line(label, "no member fully trained yet (%d ASHA screen%s finished) — %s", screens, plural(screens), why)
		} else {
			line(label, "no trial has finished")
		}
		return
	}
	what := fmt.Sprintf("%s — %s of %d member%s", r.Trial, v.Method, len(v.Members), plural(len(v.Members)))
	if descs := memberDescs(rows, v.Members); len(v.Members) <= 3 && descs != "" {
		what += ": " + descs
	} else {
		what += ": " + strings.Join(v.Members, " ")
	}
	line("ship", "%s", what)
	if dir != "" {
		line("", "file %s; run it with: consort predict --model %s --data DATA", bundlePath(dir), bundlePath(dir))
	}
	line("accuracy", "%s cross-validated (nested CV over %d folds; 95%% CI %s–%s)", report.Percent(r.CVAccuracy, 2), len(r.Folds),
		report.Percent(r.CILow, 2), report.Percent(r.CIHigh, 2))
	if r.TestAccuracy != nil {
		line("", "%s on the held-out test split, scored once", report.Percent(*r.TestAccuracy, 2))
	}
	size := fmt.Sprintf("%s packed (%d-bit, %s sparse)", report.HumanBytes(r.SizeBytes), r.Bits, report.Percent(r.Sparsity, 0))
	if v.BundleBytes > 0 {
		size += fmt.Sprintf(", bundle file %s", report.HumanBytes(v.BundleBytes))
	}
	line("size", "%s; %s per sample", size, latencyCell(r.LatencyUS))
	sure := fmt.Sprintf("±%.2f points (95%% CI)", (r.CIHigh-r.CILow)/2*100)
	switch v.Tied {
	case 0:
		sure += "; no other entry is statistically tied with it"
	case 1:
		sure += "; 1 other entry is statistically tied with it"
	default:
		sure += fmt.Sprintf("; %d other entries are statistically tied with it", v.Tied)
	}
	line("sure", "%s", sure)
	if m := v.Smallest; m != nil {
		line("", "the smallest of those: %s (%s), %s, CV %s", m.Trial, m.Kind, report.HumanBytes(m.SizeBytes), report.Percent(m.CVAccuracy, 2))
	}
	if st := v.Student; st != nil {
		line("student", "%s distilled from it: %s, %d-bit, %s sparse; its CV %s is optimistic (its teacher saw all folds):",
			st.Trial, report.HumanBytes(st.SizeBytes), st.Bits, report.Percent(st.Sparsity, 0), report.Percent(st.CVAccuracy, 2))
		line("", "check it on fresh data before shipping it instead")
	}
	var files []string
	for _, f := range []string{"report.html", "leaderboard.csv", "leaderboard.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); dir != "" && err == nil {
			files = append(files, filepath.Join(dir, f))
		}
	}
	if len(files) > 0 {
		line("more", "%s", strings.Join(files, ", "))
	}
}

// wrap breaks text at spaces into lines of at most width runes (0: no
// limit), continuing them indent spaces in; it ends with a newline.
func wrap(text string, width, indent int) string {
	if width <= indent+20 || utf8.RuneCountInString(text) < width {
		return text + "\n"
	}
	var b strings.Builder
	col := 0
	for i, word := range strings.Split(text, " ") {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case col+1+n >= width && col > indent:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String() + "\n"
}

// bundlePath is where writeRunDir puts the chosen ensemble.
func bundlePath(dir string) string { return filepath.Join(dir, "best.consort") }

// memberDescs describes an ensemble's members from their rows.
func memberDescs(rows []coordinator.Row, members []string) string {
	var out []string
	for _, m := range members {
		for _, r := range rows {
			if r.Trial == m {
				out = append(out, m+" ("+r.Desc+")")
			}
		}
	}
	if len(out) != len(members) {
		return ""
	}
	return strings.Join(out, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// dashboardSources is what `consort run --http` serves on: health,
// metrics and the live dashboard, whose address is announced on w.
func dashboardSources(cl *local.Cluster, sweep string, w io.Writer) httpSources {
	return httpSources{coordinator: cl.Coordinator, etcd: cl.Client, nc: cl.Conn, announce: w, sweep: sweep}
}
