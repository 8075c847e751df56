package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/local"
)

// Leaderboard formats.
var leaderboardFormats = []string{"table", "csv", "json", "markdown"}

// writeLeaderboard renders the top rows in format.
func writeLeaderboard(w io.Writer, format string, rows []coordinator.Row, top int, s *coordinator.Sweep) error {
	if top < len(rows) {
		rows = rows[:top]
	}
	switch format {
	case "json":
		out := struct {
			Sweep  string            `json:"sweep"`
			State  string            `json:"state"`
			Best   any               `json:"best,omitempty"`
			Rows   []coordinator.Row `json:"rows"`
			Marker string            `json:"legend"`
		}{s.Spec.Name, string(s.Status.State), s.Status.Best, rows, "chosen: the ensemble to ship; tied: not significantly below the best (paired t-test over folds); pareto: not dominated in accuracy and size"}
		if out.Rows == nil {
			out.Rows = []coordinator.Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"rank", "trial", "kind", "cv_accuracy", "ci_low", "ci_high", "test_accuracy", "sparsity", "bits", "size_bytes", "latency_us", "status", "chosen", "tied", "pareto", "desc"})
		for _, r := range rows {
			test := ""
			if r.TestAccuracy != nil {
				test = strconv.FormatFloat(*r.TestAccuracy, 'f', 6, 64)
			}
			cw.Write([]string{strconv.Itoa(r.Rank), r.Trial, r.Kind, f6(r.CVAccuracy), f6(r.CILow), f6(r.CIHigh), test,
				f6(r.Sparsity), strconv.Itoa(r.Bits), strconv.FormatInt(r.SizeBytes, 10), strconv.FormatFloat(r.LatencyUS, 'f', 2, 64),
				r.Status, strconv.FormatBool(r.Chosen), strconv.FormatBool(r.Tied), strconv.FormatBool(r.Pareto), r.Desc})
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		fmt.Fprintln(w, "| rank | trial | kind | CV accuracy (95% CI) | test | sparsity | bits | size | latency | marks | what |")
		fmt.Fprintln(w, "|---:|---|---|---|---:|---:|---:|---:|---:|---|---|")
		for _, r := range rows {
			fmt.Fprintf(w, "| %d | %s | %s | %.4f (%.4f–%.4f) | %s | %.2f | %d | %s | %.1f µs | %s | %s |\n", r.Rank, r.Trial, r.Kind,
				r.CVAccuracy, r.CILow, r.CIHigh, testCell(r), r.Sparsity, r.Bits, humanBytes(r.SizeBytes), r.LatencyUS, marks(r), strings.ReplaceAll(r.Desc, "|", "/"))
		}
		return nil
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RANK\tTRIAL\tKIND\tCV ACC\t95% CI\tTEST\tSPARSITY\tBITS\tSIZE\tLATENCY\tMARKS\tWHAT")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.4f\t%.4f–%.4f\t%s\t%.2f\t%d\t%s\t%.1f µs\t%s\t%s\n", r.Rank, r.Trial, r.Kind, r.CVAccuracy,
				r.CILow, r.CIHigh, testCell(r), r.Sparsity, r.Bits, humanBytes(r.SizeBytes), r.LatencyUS, marks(r), clip(r.Desc, 60))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "marks: * chosen ensemble (test scored once)   = statistically tied with the best (paired t-test over folds)   P Pareto-optimal in accuracy and size")
		return nil
	}
	return usageError(fmt.Errorf("--format %q: allowed %s", format, strings.Join(leaderboardFormats, ", ")))
}

func f6(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

func testCell(r coordinator.Row) string {
	if r.TestAccuracy == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *r.TestAccuracy)
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
	return b.String()
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// printVerdict answers, in words: what to ship, how accurate, how big,
// how sure.
func printVerdict(w io.Writer, s *coordinator.Sweep, rows []coordinator.Row, dir string, took time.Duration) {
	b := s.Status.Best
	fmt.Fprintln(w)
	if b == nil {
		fmt.Fprintf(w, "no ensemble was chosen (sweep %s)\n", s.Status.State)
		return
	}
	var chosen coordinator.Row
	for _, r := range rows {
		if r.Chosen {
			chosen = r
		}
	}
	fmt.Fprintf(w, "ship     %s/best.consort — %s of %d member(s) (trial %s); run it with: consort predict --model %s/best.consort --data DATA\n",
		dir, b.Spec.Method, len(b.Members), b.Trial, dir)
	fmt.Fprintf(w, "accuracy nested-CV %.4f, 95%% CI %.4f–%.4f over %d folds", b.CV.Mean.Accuracy, chosen.CILow, chosen.CIHigh, len(b.CV.Folds))
	if b.Test != nil {
		fmt.Fprintf(w, "; held-out test %.4f (scored once)", b.Test.Accuracy)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "size     %s in %d packed member(s) (bundle file %s); %.1f µs per sample\n", humanBytes(b.Bytes), len(b.Members), humanBytes(b.BundleBytes), chosen.LatencyUS)
	tied := 0
	for _, r := range rows {
		if r.Tied && !r.Chosen {
			tied++
		}
	}
	fmt.Fprintf(w, "sure     %d other entr%s statistically tied with the best; see %s/leaderboard.csv\n", tied, map[bool]string{true: "y is", false: "ies are"}[tied == 1], dir)
	if b.Student != "" {
		for _, r := range rows {
			if r.Trial == b.Student {
				fmt.Fprintf(w, "student  %s distilled from it: CV %.4f, %s, %d-bit, sparsity %.2f\n", r.Trial, r.CVAccuracy, humanBytes(r.SizeBytes), r.Bits, r.Sparsity)
			}
		}
	}
	fmt.Fprintf(w, "time     %s\n", took.Round(100*time.Millisecond))
}

// dashboardSources is what `consort run --http` serves on.
func dashboardSources(cl *local.Cluster, sweep string) httpSources {
	return httpSources{coordinator: cl.Coordinator, etcd: cl.Client, nc: cl.Conn}
}
