package report_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/report"
	"github.com/consort-ml/consort/internal/report/reporttest"
	"github.com/consort-ml/consort/internal/wire"
)

// svgPoint is a plotted entry read back from an SVG.
type svgPoint struct {
	trial, kind, class string
	acc                float64
	bytes              int64
}

// parseSVG parses one SVG element as XML and returns its data points
// (elements with data-trial).
func parseSVG(t *testing.T, svg string) []svgPoint {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var pts []svgPoint
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			var p svgPoint
			for _, a := range e.Attr {
				switch a.Name.Local {
				case "data-trial":
					p.trial = a.Value
				case "data-kind":
					p.kind = a.Value
				case "class":
					p.class = a.Value
				case "data-acc":
					if p.acc, err = strconv.ParseFloat(a.Value, 64); err != nil {
						t.Fatalf("data-acc %q: %v", a.Value, err)
					}
				case "data-bytes":
					if p.bytes, err = strconv.ParseInt(a.Value, 10, 64); err != nil {
						t.Fatalf("data-bytes %q: %v", a.Value, err)
					}
				}
			}
			if p.trial != "" {
				pts = append(pts, p)
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("SVG ends at depth %d", depth)
	}
	return pts
}

// svgByID cuts the <svg id="id"> element out of an HTML document.
func svgByID(t *testing.T, doc, id string) string {
	t.Helper()
	i := strings.Index(doc, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element with id %q", id)
	}
	start := strings.LastIndex(doc[:i], "<svg")
	end := strings.Index(doc[i:], "</svg>")
	if start < 0 || end < 0 {
		t.Fatalf("id %q is not inside an <svg>", id)
	}
	return doc[start : i+end+len("</svg>")]
}

func sweeps() []struct {
	name string
	s    *coordinator.Sweep
} {
	empty := reporttest.Sweep("empty", reporttest.Options{Members: 1, Running: 1, Seed: 9})
	return []struct {
		name string
		s    *coordinator.Sweep
	}{
		{"finished", reporttest.Sweep("finished", reporttest.Options{Members: 60, Ensembles: 12, Seed: 1})},
		{"running", reporttest.Sweep("running", reporttest.Options{Members: 30, Running: 3, Folds: 3, Seed: 2})},
		{"nothing finished", empty},
		{"large", reporttest.Sweep("large", reporttest.Options{Members: 3000, Ensembles: 40, Seed: 3})},
	}
}

func TestParetoPointsAreTheLeaderboard(t *testing.T) {
	for _, tc := range sweeps() {
		t.Run(tc.name, func(t *testing.T) {
			rows := coordinator.Leaderboard(tc.s, "cv")
			var b bytes.Buffer
			if err := report.WriteHTML(&b, tc.s, rows, report.Options{Version: "test"}); err != nil {
				t.Fatal(err)
			}
			pts := parseSVG(t, svgByID(t, b.String(), "pareto"))
			if len(pts) != len(rows) {
				t.Fatalf("Pareto plot has %d points, leaderboard %d rows", len(pts), len(rows))
			}
			byTrial := map[string]coordinator.Row{}
			for _, r := range rows {
				byTrial[r.Trial] = r
			}
			seen := map[string]bool{}
			fronts := 0
			for _, p := range pts {
				r, ok := byTrial[p.trial]
				switch {
				case !ok:
					t.Fatalf("point %s is not on the leaderboard", p.trial)
				case seen[p.trial]:
					t.Fatalf("point %s plotted twice", p.trial)
				case p.acc != r.CVAccuracy || p.bytes != r.SizeBytes || p.kind != r.Kind:
					t.Fatalf("point %s at (%v, %d, %s), row (%v, %d, %s)", p.trial, p.acc, p.bytes, p.kind, r.CVAccuracy, r.SizeBytes, r.Kind)
				case strings.Contains(p.class, "front") != r.Pareto:
					t.Fatalf("point %s class %q, row Pareto %v", p.trial, p.class, r.Pareto)
				}
				seen[p.trial] = true
				if r.Pareto {
					fronts++
				}
			}
			if slices.ContainsFunc(rows, func(r coordinator.Row) bool { return r.Caveat == "" }) && fronts == 0 {
				t.Error("no point on the Pareto front")
			}
		})
	}
}

func TestReportIsSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:|//)|@import|url\(\s*["']?(https?:|//)|<link\b|<iframe\b`)
	for _, tc := range sweeps() {
		t.Run(tc.name, func(t *testing.T) {
			rows := coordinator.Leaderboard(tc.s, "cv")
			var b bytes.Buffer
			if err := report.WriteHTML(&b, tc.s, rows, report.Options{}); err != nil {
				t.Fatal(err)
			}
			doc := b.String()
			if m := external.FindString(doc); m != "" {
				t.Errorf("report fetches from the network: %q", m)
			}
			if strings.Count(doc, "<svg") != strings.Count(doc, "</svg>") {
				t.Error("unbalanced <svg> elements")
			}
			for _, id := range []string{"pareto", "progress", "folds"} {
				parseSVG(t, svgByID(t, doc, id))
			}
			params := regexp.MustCompile(`id="(param-[a-z0-9_]+)"`).FindAllStringSubmatch(doc, -1)
			if len(params) != 7 { // layers, width_1, width_2, lr, sparsity, bits, qat
				t.Errorf("%d parameter plots, want 7", len(params))
			}
			for _, m := range params {
				parseSVG(t, svgByID(t, doc, m[1]))
			}
			for _, want := range []string{"<style>", "<script>", tc.s.Spec.Name, "How to read this"} {
				if !strings.Contains(doc, want) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	s := reporttest.Sweep("v", reporttest.Options{Members: 80, Ensembles: 15, Seed: 4})
	rows := coordinator.Leaderboard(s, "size") // any order
	v := report.Summarize(s, rows)
	b := s.Status.Best
	if v.Chosen == nil || v.Chosen.Trial != b.Trial || v.Chosen.TestAccuracy == nil || *v.Chosen.TestAccuracy != b.Test.Accuracy {
		t.Fatalf("chosen %+v, status best %s", v.Chosen, b.Trial)
	}
	if v.Student == nil || v.Student.Trial != b.Student || v.Student.Caveat == "" {
		t.Fatalf("student %+v", v.Student)
	}
	if v.Best == nil || v.Best.Caveat != "" {
		t.Fatalf("best %+v", v.Best)
	}
	for _, r := range rows {
		if r.Caveat == "" && r.CVAccuracy > v.Best.CVAccuracy {
			t.Fatalf("%s (%v) beats the best %s (%v)", r.Trial, r.CVAccuracy, v.Best.Trial, v.Best.CVAccuracy)
		}
	}
	tied := 0
	for _, r := range rows {
		if r.Tied && r.Trial != v.Chosen.Trial {
			tied++
		}
	}
	if v.Tied != tied {
		t.Errorf("tied %d, want %d", v.Tied, tied)
	}
	if s := v.Smallest; s != nil && (!s.Tied || s.SizeBytes >= v.Chosen.SizeBytes) {
		t.Errorf("smallest tied %+v is not a smaller tied row", s)
	}
	if c := v.Trials; c.Done+c.Failed != 80 || c.Ensembles != 15 || c.EnsemblesDone != 15 {
		t.Errorf("counts %+v", c)
	}
	p, err := report.Build(s, rows, report.Options{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ship", b.Trial, report.Percent(b.CV.Mean.Accuracy, 2), report.Percent(b.Test.Accuracy, 2),
		report.HumanBytes(v.Chosen.SizeBytes), "How sure", "optimistic"} {
		if !strings.Contains(p.VerdictHTML, want) {
			t.Errorf("verdict lacks %q:\n%s", want, p.VerdictHTML)
		}
	}
	if n := strings.Count(p.TableHTML, "<tr class"); n != 10 {
		t.Errorf("table has %d rows, want Top 10", n)
	}
}

func TestRunningVerdict(t *testing.T) {
	s := reporttest.Sweep("r", reporttest.Options{Members: 20, Running: 2, Seed: 5})
	rows := coordinator.Leaderboard(s, "cv")
	p, err := report.Build(s, rows, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Verdict.Chosen != nil || p.Verdict.Best == nil || p.Verdict.Trials.Running != 2 {
		t.Fatalf("verdict %+v", p.Verdict)
	}
	for _, want := range []string{"nothing chosen yet", "Best CV so far", p.Verdict.Best.Trial} {
		if !strings.Contains(p.VerdictHTML, want) {
			t.Errorf("verdict lacks %q:\n%s", want, p.VerdictHTML)
		}
	}
	if s.Status.State != wire.SweepRunning || !strings.Contains(p.Header, "running") {
		t.Errorf("header %q", p.Header)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{report.HumanBytes(0), "0 B"},
		{report.HumanBytes(1023), "1023 B"},
		{report.HumanBytes(1024), "1 KiB"},
		{report.HumanBytes(3891), "3.8 KiB"},
		{report.HumanBytes(150 << 10), "150 KiB"},
		{report.HumanBytes(5 << 20), "5 MiB"},
		{report.Percent(0.97705, 2), "97.70%"},
		{report.Percent(1, 0), "100%"},
		{report.Duration(54300 * time.Millisecond), "54s"},
		{report.Duration(200 * time.Second), "3m20s"},
		{report.Duration(2*time.Hour + 5*time.Minute), "2h05m"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func ExampleHumanBytes() {
	fmt.Println(report.HumanBytes(840), report.HumanBytes(3891), report.HumanBytes(1<<20))
	// Output: 840 B 3.8 KiB 1 MiB
}

func BenchmarkWriteHTML(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		s := reporttest.Sweep("bench", reporttest.Options{Members: n, Ensembles: 200, Seed: 1})
		rows := coordinator.Leaderboard(s, "cv")
		b.Run("trials="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := report.WriteHTML(io.Discard, s, rows, report.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
