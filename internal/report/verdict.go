package report

import (
	"cmp"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
)

// Verdict answers a sweep's four questions — what to ship, how accurate,
// how big, how sure — from its leaderboard.
type Verdict struct {
	// Sweep names the sweep; State is its state; Error why it failed.
	Sweep string `json:"sweep"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Chosen is the leaderboard row of the ensemble to ship; nil until
	// the sweep has chosen one.
	Chosen *coordinator.Row `json:"chosen,omitempty"`
	// Method and Members describe the chosen ensemble (empty when none).
	Method  string   `json:"method,omitempty"`
	Members []string `json:"members,omitempty"`
	// BundleBytes is the size of the exported bundle file (0 when none).
	BundleBytes int64 `json:"bundle_bytes,omitempty"`
	// Best is the most accurate honest row (no caveat): while a sweep
	// runs, the best so far; nil when no trial has finished.
	Best *coordinator.Row `json:"best,omitempty"`
	// Folds is the number of cross-validation folds.
	Folds int `json:"folds"`
	// Tied counts the honest rows other than Chosen (or Best, when
	// nothing is chosen) statistically tied with the best.
	Tied int `json:"tied"`
	// Smallest is the smallest row tied with the best when it is smaller
	// than Chosen (or Best); nil otherwise.
	Smallest *coordinator.Row `json:"smallest,omitempty"`
	// Student is the distilled student's row, nil when there is none.
	Student *coordinator.Row `json:"student,omitempty"`
	// Trials counts the sweep's trials.
	Trials Counts `json:"trials"`
}

// Counts are a sweep's trials by kind and state.
type Counts struct {
	// Members by state; Budget is the member stage's trial budget (0:
	// bounded by wall time only).
	Done    int `json:"done"`
	Running int `json:"running"`
	Queued  int `json:"queued"`
	Failed  int `json:"failed"`
	Stopped int `json:"stopped"`
	Budget  int `json:"budget"`
	// Ensembles counts ensemble candidates, EnsemblesDone the finished
	// ones.
	Ensembles     int `json:"ensembles"`
	EnsemblesDone int `json:"ensembles_done"`
}

// Summarize draws the verdict from a sweep and its leaderboard rows (in
// any order).
func Summarize(s *coordinator.Sweep, rows []coordinator.Row) *Verdict {
	v := &Verdict{State: string(s.Status.State), Error: s.Status.Error, Trials: Count(s)}
	if s.Spec != nil {
		v.Sweep, v.Folds = s.Spec.Name, s.Spec.Data.Folds
		v.Trials.Budget = s.Spec.Budget.Trials
	}
	b := s.Status.Best
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Chosen:
			v.Chosen = r
		case r.Kind == "student" && b != nil && r.Trial == b.Student:
			v.Student = r
		}
		if r.Caveat == "" && (v.Best == nil || better(*r, *v.Best)) {
			v.Best = r
		}
	}
	if b != nil {
		v.Method, v.Members, v.BundleBytes = b.Spec.Method, b.Members, b.BundleBytes
	}
	ref := cmp.Or(v.Chosen, v.Best)
	if ref == nil {
		return v
	}
	for i := range rows {
		r := &rows[i]
		if !r.Tied || r == ref {
			continue
		}
		v.Tied++
		if r.SizeBytes < ref.SizeBytes && (v.Smallest == nil || r.SizeBytes < v.Smallest.SizeBytes) {
			v.Smallest = r
		}
	}
	return v
}

// better orders rows as the leaderboard ranks them by accuracy.
func better(a, b coordinator.Row) bool {
	return cmp.Or(-cmp.Compare(a.CVAccuracy, b.CVAccuracy), cmp.Compare(a.SizeBytes, b.SizeBytes), cmp.Compare(a.Trial, b.Trial)) < 0
}

// Count counts a sweep's trials by kind and state.
func Count(s *coordinator.Sweep) Counts {
	var c Counts
	for _, r := range s.Records {
		switch r.Kind {
		case wire.Member:
			switch r.State {
			case wire.TrialDone:
				c.Done++
			case wire.Running:
				c.Running++
			case wire.Queued:
				c.Queued++
			case wire.TrialFailed:
				c.Failed++
			case wire.Stopped:
				c.Stopped++
			}
		case wire.Ensemble:
			c.Ensembles++
			if r.State.Final() {
				c.EnsemblesDone++
			}
		}
	}
	return c
}
