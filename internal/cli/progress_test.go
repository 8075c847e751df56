package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/consort-ml/consort/internal/embedded/embeddedtest"
	"github.com/consort-ml/consort/internal/report/reporttest"
	"github.com/consort-ml/consort/internal/wire"
)

// progressRun drives a progress display through a sweep that runs, gains
// trials and ends, and returns what it wrote.
func progressRun(t *testing.T, format string) string {
	t.Helper()
	_, cli := embeddedtest.Etcd(t)
	first := reporttest.Sweep("prog", reporttest.Options{Members: 20, Running: 4, Seed: 21})
	first.Spec.Budget.Trials = 35
	storeSweep(t, cli, first)
	var out bytes.Buffer
	p := newProgress(&out, cli, first.Spec, format)
	p.draw(false)
	storeSweep(t, cli, reporttest.Sweep("prog", reporttest.Options{Members: 35, Running: 3, Seed: 21}))
	p.draw(false)
	last := reporttest.Sweep("prog", reporttest.Options{Members: 35, Ensembles: 5, Seed: 21})
	storeSweep(t, cli, last)
	p.update(last.Status)
	p.update(last.Status) // Wait's last call and runLocal's: one closing line
	p.stop()
	return out.String()
}

func TestProgressPlain(t *testing.T) {
	out := progressRun(t, "text")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var news, plain, final int
	for _, l := range lines {
		switch {
		case strings.Contains(l, "  new best  "):
			news++
		case strings.Contains(l, "  running    members "):
			plain++
			if !strings.Contains(l, "/35 (") || !strings.Contains(l, "best ") {
				t.Errorf("progress line %q lacks the budget or the best", l)
			}
		case strings.Contains(l, "  sweep done after "):
			final++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if news == 0 || plain != 2 || final != 1 {
		t.Fatalf("%d new-best, %d progress, %d closing lines:\n%s", news, plain, final, out)
	}
	if strings.Contains(out, "\033") {
		t.Error("escape codes in output that is not a terminal")
	}
}

func TestProgressJSON(t *testing.T) {
	out := progressRun(t, "json")
	msgs := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", l)
		}
		msgs[rec["msg"].(string)]++
		if rec["sweep"] != "prog" || rec["level"] != "INFO" {
			t.Errorf("record %v", rec)
		}
		if rec["msg"] == "progress" {
			for _, k := range []string{"state", "done", "running", "failed", "budget", "best_cv", "elapsed_s"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("progress record lacks %q: %s", k, l)
				}
			}
		}
	}
	if msgs["progress"] != 3 || msgs["new best"] == 0 {
		t.Fatalf("records by message %v:\n%s", msgs, out)
	}
}

func TestProgressBarFits(t *testing.T) {
	s := reporttest.Sweep("bar", reporttest.Options{Members: 40, Running: 6, Seed: 22})
	s.Records[3].State, s.Records[3].Error = wire.TrialFailed, "boom"
	p := &progress{sweep: s.Spec, bestID: "t00007", bestAcc: 0.9764, base: 0}
	c := p.count(s)
	c.elapsed, c.eta = 75e9, 38e9
	for _, width := range []int{30, 60, 80, 100, 200} {
		p.width = func() int { return width }
		bar := p.bar(s, c)
		if n := utf8.RuneCountInString(bar); n >= width {
			t.Errorf("width %d: a bar of %d runes: %q", width, n, bar)
		}
		if !strings.Contains(bar, "members 34/40") {
			t.Errorf("width %d: %q lacks the count", width, bar)
		}
		if width >= 80 && (!strings.Contains(bar, "best 97.64% t00007") || !strings.Contains(bar, "eta 38s") || !strings.Contains(bar, fmt.Sprintf("%d failed", c.Failed)) || !strings.HasPrefix(bar, "[")) {
			t.Errorf("width %d: %q lacks the bar, best, failures or eta", width, bar)
		}
		if width >= 200 && !strings.Contains(bar, fmt.Sprintf("%d running", c.Running)) {
			t.Errorf("width %d: %q lacks the running trials", width, bar)
		}
	}
	s.Status.State = wire.SweepEnsembling
	s.Records = append(s.Records, &wire.TrialRecord{ID: "e00001", Kind: wire.Ensemble, State: wire.Running})
	p.width = func() int { return 100 }
	if bar := p.bar(s, p.count(s)); !strings.Contains(bar, "ensembles 0/1") {
		t.Errorf("ensembling: %q", bar)
	}
}
