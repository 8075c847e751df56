package ensemble

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Result is a scored ensemble candidate.
type Result struct {
	// Spec is the candidate scored.
	Spec Spec `json:"spec"`

	// CV holds the nested cross-validation scores, the ones to rank by.
	CV CV `json:"cv"`

	// Members lists the ids the ensemble refitted on all OOF rows uses, in
	// Spec.Members order.
	Members []string `json:"members"`

	// Bytes is the total packed size of Members, each counted once.
	Bytes int64 `json:"bytes"`

	// Weights maps each used member id to its weight, for the weighted
	// methods (all but vote and stacking); nil otherwise.
	Weights map[string]float64 `json:"weights,omitempty"`

	// Test holds the scores of the refitted ensemble on the test split.
	// Only Final sets it.
	Test *Scores `json:"test,omitempty"`

	// Combiner is the ensemble refitted on all OOF rows, over
	// Problem.Subset(Spec.Members). It is not serialised: anyone holding
	// the artifacts refits it from Spec.
	Combiner Combiner `json:"-"`
}

// Evaluate scores spec on p: nested cross-validation (NestedCV), then a
// refit on all OOF rows, whose members, bytes and weights it reports. It
// never reads test labels or test probabilities.
//
// Errors wrap ErrSpec (including ErrUnknownMember for an id not in p),
// ErrProblem, ErrBudget, or are ctx.Err().
func Evaluate(ctx context.Context, spec Spec, p *Problem) (Result, error) {
	f, err := spec.Fitter()
	if err != nil {
		return Result{}, err
	}
	sub, err := p.Subset(spec.Members)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	// NestedCV validates train: only the spec's members need be valid. The
	// methods see neither test labels nor test probabilities.
	train := &Problem{Classes: sub.Classes, Labels: sub.Labels, Folds: sub.Folds, Members: make([]Member, len(sub.Members))}
	for j, m := range sub.Members {
		m.Test = nil
		train.Members[j] = m
	}
	cv, err := NestedCV(ctx, train, f)
	if err != nil {
		return Result{}, err
	}
	comb, err := f.Fit(ctx, train)
	if err != nil {
		return Result{}, fmt.Errorf("ensemble: refit: %w", err)
	}
	r := Result{Spec: spec, CV: cv, Combiner: comb}
	for _, j := range comb.Used() {
		r.Members = append(r.Members, sub.Members[j].ID)
		r.Bytes += sub.Members[j].Bytes
	}
	if w, ok := comb.(*Weighted); ok {
		r.Weights = make(map[string]float64, len(r.Members))
		for j, wj := range w.Weights {
			if wj > 0 {
				r.Weights[sub.Members[j].ID] = wj
			}
		}
	}
	return r, nil
}

// Final is Evaluate followed by the one look at the test split: the
// refitted ensemble predicts the test samples and Result.Test holds its
// scores. Call it once, for the ensemble chosen by nested CV. Without test
// labels or without test probabilities for a used member it fails with
// ErrNoTest.
func Final(ctx context.Context, spec Spec, p *Problem) (Result, error) {
	if err := spec.Validate(); err != nil {
		return Result{}, err
	}
	sub, err := p.Subset(spec.Members)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	if err := sub.Validate(); err != nil {
		return Result{}, err
	}
	if len(p.TestLabels) == 0 {
		return Result{}, fmt.Errorf("%w: problem has no test labels", ErrNoTest)
	}
	r, err := Evaluate(ctx, spec, p)
	if err != nil {
		return Result{}, err
	}
	probs := sub.Test()
	for _, j := range r.Combiner.Used() {
		if probs[j] == nil {
			return Result{}, fmt.Errorf("%w: member %q has no test probabilities", ErrNoTest, sub.Members[j].ID)
		}
	}
	dst := make([]float64, len(p.TestLabels)*p.Classes)
	r.Combiner.Predict(dst, probs)
	s, err := Score(dst, p.TestLabels, p.Classes)
	if err != nil {
		return Result{}, err
	}
	r.Test = &s
	return r, nil
}

// Pareto returns the positions of the results on the Pareto front of
// (nested-CV mean accuracy, higher is better; Bytes, lower is better):
// those no other result matches or beats on both with one strictly better.
// They are ordered by Bytes, then by accuracy descending; equal points are
// all kept.
func Pareto(results []Result) []int {
	var front []int
	for i, a := range results {
		dominated := false
		for j, b := range results {
			if i == j {
				continue
			}
			if b.CV.Mean.Accuracy >= a.CV.Mean.Accuracy && b.Bytes <= a.Bytes &&
				(b.CV.Mean.Accuracy > a.CV.Mean.Accuracy || b.Bytes < a.Bytes) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, i)
		}
	}
	slices.SortStableFunc(front, func(i, j int) int {
		if c := cmp.Compare(results[i].Bytes, results[j].Bytes); c != 0 {
			return c
		}
		return cmp.Compare(results[j].CV.Mean.Accuracy, results[i].CV.Mean.Accuracy)
	})
	return front
}

// Gain is what adding a member does to an ensemble's OOF scores.
type Gain struct {
	// Before and After are the OOF scores without and with the candidate.
	Before, After Scores

	// Accuracy is After.Accuracy − Before.Accuracy: positive helps.
	Accuracy float64

	// LogLoss is Before.LogLoss − After.LogLoss: positive helps.
	LogLoss float64
}

// MarginalGain measures how much candidate improves the current ensemble,
// Caruana-style: current holds the ensemble's N×C OOF probabilities (for
// example Result.Combiner's prediction from Problem.Subset(...).OOF()),
// standing for n equally weighted selections, and the candidate joins as
// one more, so the new probabilities are (n·current + candidate)/(n+1).
// Only p's Classes and Labels are read.
//
// Both sides are scored on all OOF rows, in-sample for the ensemble's
// weights: it ranks candidates for ensemble-aware search, it is not an
// honest estimate (Evaluate gives that). Shape errors wrap ErrProblem.
func MarginalGain(p *Problem, current []float64, n int, candidate Member) (Gain, error) {
	c, rows := p.Classes, len(p.Labels)
	switch {
	case c < 2 || rows == 0:
		return Gain{}, fmt.Errorf("%w: marginal gain: %d classes, %d labels", ErrProblem, c, rows)
	case n < 1:
		return Gain{}, fmt.Errorf("%w: marginal gain: current ensemble size %d, want at least 1", ErrProblem, n)
	case len(current) != rows*c:
		return Gain{}, fmt.Errorf("%w: marginal gain: current: %d values, want %d×%d", ErrProblem, len(current), rows, c)
	}
	if err := checkProbs(candidate.OOF, rows, c); err != nil {
		return Gain{}, fmt.Errorf("%w: marginal gain: member %q: oof: %v", ErrProblem, candidate.ID, err)
	}
	before, err := Score(current, p.Labels, c)
	if err != nil {
		return Gain{}, fmt.Errorf("ensemble: marginal gain: %w", err)
	}
	mixed := make([]float64, len(current))
	a, b := float64(n)/float64(n+1), 1/float64(n+1)
	for i, v := range current {
		mixed[i] = a*v + b*float64(candidate.OOF[i])
	}
	after, err := Score(mixed, p.Labels, c)
	if err != nil {
		return Gain{}, fmt.Errorf("ensemble: marginal gain: %w", err)
	}
	return Gain{
		Before:   before,
		After:    after,
		Accuracy: after.Accuracy - before.Accuracy,
		LogLoss:  before.LogLoss - after.LogLoss,
	}, nil
}
