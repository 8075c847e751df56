package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/embedded/embeddedtest"
	"github.com/consort-ml/consort/internal/report"
	"github.com/consort-ml/consort/internal/report/reporttest"
)

func storeSweep(t testing.TB, cli *clientv3.Client, s *coordinator.Sweep) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := reporttest.Store(ctx, cli, s); err != nil {
		t.Fatal(err)
	}
}

// writeRunDirFor writes sweep.json as `consort run` does, in a new
// directory.
func writeRunDirFor(t *testing.T, s *coordinator.Sweep) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), s.Spec.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sweep.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteLeaderboardFormats(t *testing.T) {
	s := reporttest.Sweep("fmt", reporttest.Options{Members: 60, Ensembles: 8, Seed: 11})
	rows := coordinator.Leaderboard(s, "cv")
	var student, chosen coordinator.Row
	for _, r := range rows {
		switch {
		case r.Kind == "student":
			student = r
		case r.Chosen:
			chosen = r
		}
	}
	if student.Caveat == "" || chosen.Trial == "" {
		t.Fatalf("the synthetic sweep lacks a student (%+v) or a chosen ensemble", student)
	}
	for _, tc := range []struct {
		format string
		top    int
		check  func(t *testing.T, out string)
	}{
		{"csv", len(rows), func(t *testing.T, out string) {
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(rows)+1 {
				t.Fatalf("%d CSV records, want a header and %d rows", len(recs), len(rows))
			}
			col := map[string]int{}
			for i, h := range recs[0] {
				col[h] = i
			}
			for _, h := range []string{"rank", "trial", "cv_accuracy", "ci_low", "ci_high", "test_accuracy", "size_bytes", "latency_us", "chosen", "tied", "pareto", "caveat"} {
				if _, ok := col[h]; !ok {
					t.Errorf("no column %q", h)
				}
			}
			for i, r := range rows {
				rec := recs[i+1]
				if rec[col["trial"]] != r.Trial || rec[col["caveat"]] != r.Caveat || (rec[col["test_accuracy"]] != "") != (r.TestAccuracy != nil) {
					t.Fatalf("row %d: %v, want %+v", i, rec, r)
				}
			}
		}},
		{"json", 5, func(t *testing.T, out string) {
			var v struct {
				Sweep     string            `json:"sweep"`
				Rows      []coordinator.Row `json:"rows"`
				TotalRows int               `json:"total_rows"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatal(err)
			}
			if v.Sweep != "fmt" || len(v.Rows) != 5 || v.TotalRows != len(rows) {
				t.Fatalf("sweep %q, %d rows of %d", v.Sweep, len(v.Rows), v.TotalRows)
			}
			if !strings.Contains(out, `"caveat": "`+student.Caveat) {
				t.Error("the student's caveat is missing")
			}
		}},
		{"markdown", len(rows), func(t *testing.T, out string) {
			lines := strings.Split(out, "\n")
			table := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "| ") {
					table++
					if strings.Count(l, " | ") != 11 {
						t.Errorf("markdown row with %d cells: %s", strings.Count(l, " | ")+1, l)
					}
				}
			}
			if table != len(rows)+1 {
				t.Errorf("%d markdown table lines, want %d", table, len(rows)+1)
			}
			for _, want := range []string{"| " + student.Trial + " | student |", "†", student.Caveat, "Pareto-optimal"} {
				if !strings.Contains(out, want) {
					t.Errorf("markdown lacks %q", want)
				}
			}
		}},
		{"html", 10, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `id="pareto"`) || strings.Count(out, `<tr class`) != 10 {
				t.Errorf("not the report with 10 rows: %.200s", out)
			}
			if strings.Count(out, `data-bytes=`) != len(rows) {
				t.Errorf("%d Pareto points, want all %d rows", strings.Count(out, `data-bytes=`), len(rows))
			}
		}},
		{"table", 10, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(strings.TrimSpace(lines[0]), "#  TRIAL") {
				t.Fatalf("header %q", lines[0])
			}
			width := len([]rune(lines[1]))
			for _, l := range lines[1:11] {
				if !strings.Contains(l, "%") {
					t.Errorf("row without an accuracy: %q", l)
				}
				if len([]rune(l)) > width+60 {
					t.Errorf("ragged row: %q", l)
				}
			}
			for _, want := range []string{"… and " + strconv.Itoa(len(rows)-10) + " more", "marks:", "† " + student.Trial + " (student): " + student.Caveat} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeLeaderboard(&b, tc.format, rows, tc.top, s); err != nil {
				t.Fatal(err)
			}
			tc.check(t, b.String())
		})
	}
}

func TestVerdictAnswersTheFourQuestions(t *testing.T) {
	s := reporttest.Sweep("verdict", reporttest.Options{Members: 60, Ensembles: 8, Seed: 12})
	rows := coordinator.Leaderboard(s, "cv")
	dir := t.TempDir()
	for _, f := range []string{"report.html", "leaderboard.csv"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	var b bytes.Buffer
	printVerdict(&b, s, rows, dir, 54*time.Second)
	out := b.String()
	best := s.Status.Best
	var chosen coordinator.Row
	for _, r := range rows {
		if r.Chosen {
			chosen = r
		}
	}
	for _, want := range []string{
		"ship      " + best.Trial, filepath.Join(dir, "best.consort"), "consort predict --model", // what
		report.Percent(best.CV.Mean.Accuracy, 2) + " cross-validated", report.Percent(best.Test.Accuracy, 2) + " on the held-out test split, scored once", // how accurate
		"size      " + report.HumanBytes(chosen.SizeBytes) + " packed", // how big
		"sure      ±", "statistically tied", // how sure
		"student", "optimistic",
		filepath.Join(dir, "report.html"), "in 54s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verdict lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "leaderboard.json") {
		t.Error("verdict names a file that does not exist")
	}

	running := reporttest.Sweep("running", reporttest.Options{Members: 20, Running: 3, Seed: 13})
	b.Reset()
	printVerdict(&b, running, coordinator.Leaderboard(running, "cv"), "", 0)
	if out := b.String(); !strings.Contains(out, "so far") || !strings.Contains(out, "nothing is chosen until the sweep ends") {
		t.Errorf("running verdict:\n%s", out)
	}
}

func TestLeaderboardCommandRunDir(t *testing.T) {
	s := reporttest.Sweep("quick", reporttest.Options{Members: 40, Ensembles: 6, Seed: 14})
	dir := writeRunDirFor(t, s)
	rows := coordinator.Leaderboard(s, "size")
	code, out, stderr := run(t, "leaderboard", dir, "--format", "json", "--top", "7", "--sort", "size")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v struct{ Rows []coordinator.Row }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Rows) != 7 {
		t.Fatalf("%d rows, want 7", len(v.Rows))
	}
	for i, r := range v.Rows {
		if r.Trial != rows[i].Trial {
			t.Fatalf("row %d is %s, want %s (sorted by size)", i, r.Trial, rows[i].Trial)
		}
	}
	for _, arg := range []string{dir, filepath.Join(dir, "sweep.json")} {
		code, out, stderr = run(t, "leaderboard", arg)
		if code != 0 || !strings.Contains(out, "ship      "+s.Status.Best.Trial) || !strings.Contains(out, "marks:") {
			t.Errorf("leaderboard %s: exit %d, stderr %s\n%s", arg, code, stderr, out)
		}
	}
}

func TestLeaderboardUsageErrors(t *testing.T) {
	dir := writeRunDirFor(t, reporttest.Sweep("u", reporttest.Options{Members: 10, Seed: 1}))
	bad := filepath.Join(t.TempDir(), "corrupt")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "sweep.json"), []byte("{not json"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no argument", []string{"leaderboard"}, []string{"1 argument"}},
		{"two arguments", []string{"leaderboard", "a", "b"}, []string{"1 argument"}},
		{"bad format", []string{"leaderboard", dir, "--format", "xml"}, []string{"--format", "table, csv, json, markdown, html"}},
		{"bad sort", []string{"leaderboard", dir, "--sort", "speed"}, []string{"--sort", "cv, size, latency"}},
		{"bad top", []string{"leaderboard", dir, "--top", "0"}, []string{"--top 0"}},
		{"all bad at once", []string{"leaderboard", dir, "--top", "0", "--sort", "x"}, []string{"--top 0", "--sort"}},
		{"not a run dir", []string{"leaderboard", t.TempDir()}, []string{"not a run directory", "sweep.json"}},
		{"watch a run dir", []string{"leaderboard", dir, "--watch"}, []string{"--watch", "run directory"}},
		{"corrupt sweep.json", []string{"leaderboard", bad}, []string{"sweep.json"}},
		{"unknown flag", []string{"leaderboard", dir, "--colour"}, []string{"unknown flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

// TestLeaderboardAt10k is the bar: with 10,000 trials recorded in etcd,
// `consort leaderboard SWEEP --top 20` prints in under a second.
func TestLeaderboardAt10k(t *testing.T) {
	endpoint, cli := embeddedtest.Etcd(t)
	s := reporttest.Sweep("big", reporttest.Options{Members: 10000, Ensembles: 300, Seed: 1})
	storeSweep(t, cli, s)
	for _, format := range []string{"table", "json"} {
		start := time.Now()
		code, out, stderr := run(t, "leaderboard", "big", "--etcd", endpoint, "--top", "20", "--format", format)
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		t.Logf("consort leaderboard big --top 20 --format %s with %d trials: %v", format, len(s.Records), took)
		if took > time.Second && !raceEnabled {
			t.Errorf("took %v, want < 1s", took)
		}
		if n := boardRows(out); format == "table" && n != 20 {
			t.Errorf("%d rows printed, want 20:\n%s", n, out)
		}
	}
	code, _, stderr := run(t, "leaderboard", "nope", "--etcd", endpoint)
	if code != 2 || !strings.Contains(stderr, "no such sweep") {
		t.Errorf("unknown sweep: exit %d: %s", code, stderr)
	}
}

// TestLeaderboardWatch follows a running sweep until it ends.
func TestLeaderboardWatch(t *testing.T) {
	endpoint, cli := embeddedtest.Etcd(t)
	storeSweep(t, cli, reporttest.Sweep("w", reporttest.Options{Members: 30, Running: 4, Seed: 5}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(400 * time.Millisecond)
		storeSweep(t, cli, reporttest.Sweep("w", reporttest.Options{Members: 30, Running: 2, Seed: 5}))
		time.Sleep(400 * time.Millisecond)
		storeSweep(t, cli, reporttest.Sweep("w", reporttest.Options{Members: 30, Ensembles: 4, Seed: 5}))
	}()
	code, out, stderr := run(t, "leaderboard", "w", "--etcd", endpoint, "--watch", "--every", "100ms")
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	blocks := strings.Count(out, "── ")
	if blocks < 3 || !strings.Contains(out, "sweep w running") || !strings.Contains(out, "sweep w done") {
		t.Fatalf("%d blocks; want one per change, from running to done:\n%s", blocks, out)
	}
	if strings.Count(out, "  sweep w done\n") != 1 || !strings.Contains(out, "ship") {
		t.Errorf("the final board is not printed once with its verdict:\n%s", out)
	}
}

// boardRows counts the table rows in out: lines starting with a rank.
func boardRows(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[0] != "#" && strings.Trim(f[0], "0123456789") == "" && strings.HasSuffix(f[3], "%") {
			n++
		}
	}
	return n
}

func BenchmarkLeaderboardCommand(b *testing.B) {
	endpoint, cli := embeddedtest.Etcd(b)
	storeSweep(b, cli, reporttest.Sweep("big", reporttest.Options{Members: 10000, Ensembles: 300, Seed: 1}))
	b.ReportAllocs()
	for b.Loop() {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"leaderboard", "big", "--etcd", endpoint, "--top", "20"}, strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		width, ind int
		want       string
	}{
		{"no limit", "ship      a b c", 0, 10, "ship      a b c\n"},
		{"fits", "ship      a b c", 40, 10, "ship      a b c\n"},
		{"wraps with a hanging indent", "sure      ±0.78 points; 30 other entries are tied with it", 36, 10,
			"sure      ±0.78 points; 30 other\n          entries are tied with it\n"},
		{"a word longer than the line", "file      /a/very/long/path/to/the/best.consort x", 32, 10,
			"file      /a/very/long/path/to/the/best.consort\n          x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wrap(tc.text, tc.width, tc.ind); got != tc.want {
				t.Errorf("wrap(%q, %d) =\n%q, want\n%q", tc.text, tc.width, got, tc.want)
			}
		})
	}
}

func TestFitColumns(t *testing.T) {
	s := reporttest.Sweep("fit", reporttest.Options{Members: 30, Ensembles: 4, Seed: 15})
	rows := coordinator.Leaderboard(s, "cv")
	for _, width := range []int{0, 60, 80, 100, 140, 200} {
		var b bytes.Buffer
		cells := [][]string{{"#", "TRIAL", "KIND", "CV ACC", "TEST", "SPARSITY", "WHAT"}}
		for _, r := range rows {
			cells = append(cells, []string{strconv.Itoa(r.Rank), r.Trial, r.Kind, report.Percent(r.CVAccuracy, 2), testCell(r), report.Percent(r.Sparsity, 0), r.Desc})
		}
		cells, align := fitColumns(cells, "r..rrrl", width, 40, "SPARSITY", "KIND")
		writeTable(&b, cells, align)
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if n := len([]rune(l)); width > 0 && n >= width {
				t.Errorf("width %d: line of %d: %q", width, n, l)
			}
			if width == 0 && len([]rune(l)) > 120 {
				t.Errorf("no width: the last column is not clipped: %q", l)
			}
		}
		if !strings.Contains(b.String(), "CV ACC") || !strings.Contains(b.String(), rows[0].Trial) {
			t.Errorf("width %d: essential columns dropped:\n%s", width, b.String())
		}
		if (width == 0 || width == 60) && strings.Contains(b.String(), "WHAT") != (width == 0) {
			t.Errorf("width %d: WHAT shown %v", width, width != 0)
		}
	}
}
