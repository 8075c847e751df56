package report_test

import (
	"testing"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/report/reporttest"
)

// TestLeaderboardHonesty checks the leaderboard data the report draws:
// the student keeps its row but carries a caveat and is never tied nor
// Pareto; ties are judged against the best honest row; the Pareto marks
// match the definition pair by pair; intervals stay within [0, 1].
func TestLeaderboardHonesty(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    reporttest.Options
		// coarse rounds sizes so that many rows share one.
		coarse bool
	}{
		{"finished", reporttest.Options{Members: 300, Ensembles: 30, Seed: 1}, false},
		{"equal sizes", reporttest.Options{Members: 300, Ensembles: 30, Seed: 2}, true},
		{"running", reporttest.Options{Members: 100, Running: 5, Seed: 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := reporttest.Sweep("h", tc.o)
			if tc.coarse {
				for _, r := range s.Records {
					if r.Metrics != nil {
						r.Metrics.SizeBytes = r.Metrics.SizeBytes / 4096 * 4096
					}
				}
			}
			rows := coordinator.Leaderboard(s, "cv")
			best := -1
			for i, r := range rows {
				if r.CILow < 0 || r.CIHigh > 1 || r.CILow > r.CVAccuracy || r.CIHigh < r.CVAccuracy {
					t.Errorf("%s: interval [%v, %v] around %v", r.Trial, r.CILow, r.CIHigh, r.CVAccuracy)
				}
				if r.Kind == "student" {
					if r.Caveat == "" || r.Tied || r.Pareto {
						t.Errorf("student %+v: want a caveat, never tied nor Pareto", r)
					}
					continue
				}
				if r.Stopped {
					if r.Caveat == "" || r.Tied || r.Pareto || r.Kind != "member" {
						t.Errorf("screen %+v: want a member with a caveat, never tied nor Pareto", r)
					}
					if i+1 < len(rows) && !rows[i+1].Stopped {
						t.Errorf("screen %s ranks above the fully trained %s", r.Trial, rows[i+1].Trial)
					}
					continue
				}
				if r.Caveat != "" {
					t.Errorf("%s (%s) has a caveat", r.Trial, r.Kind)
				}
				if best < 0 {
					best = i
					if !r.Tied {
						t.Errorf("the best honest row %s is not tied with itself", r.Trial)
					}
				}
				dominated := false
				for _, o := range rows {
					if o.Caveat == "" && o.CVAccuracy >= r.CVAccuracy && o.SizeBytes <= r.SizeBytes && (o.CVAccuracy > r.CVAccuracy || o.SizeBytes < r.SizeBytes) {
						dominated = true
						break
					}
				}
				if r.Pareto == dominated {
					t.Errorf("%s (%v, %d bytes): Pareto %v, dominated %v", r.Trial, r.CVAccuracy, r.SizeBytes, r.Pareto, dominated)
				}
			}
			if tc.o.Running == 0 && (rows[0].Kind != "student" || best != 1) {
				t.Errorf("the optimistic student should rank first and the best honest row second; got %s, best at %d", rows[0].Kind, best)
			}
		})
	}
}
