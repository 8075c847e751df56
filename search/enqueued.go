package search

import (
	"maps"
	"math/rand/v2"
)

// Enqueued proposes Points first, in order, and then whatever Then
// proposes: configurations to evaluate before the search starts (the
// model in production, last sweep's best, a colleague's hunch), as
// Optuna's enqueue_trial and Ray Tune's points_to_evaluate do. A point may
// leave parameters out; those active given the others are drawn at random
// from their declared distributions (Space.Complete).
//
// The n-th configuration of a sweep — the n-th trial of the history
// without a Parent, so ASHA promotions do not count — is Points[n] while
// n < len(Points): like every sampler's, its state is a function of the
// history, and a resumed sweep neither repeats nor skips a point. The
// points' results are observations like any others (they count towards
// TPE's Startup, for one).
type Enqueued struct {
	Points []Params
	Then   Sampler
}

var _ Sampler = (*Enqueued)(nil)

// Sample implements Sampler.
func (e *Enqueued) Sample(space *Space, history []Trial, rng *rand.Rand) (Params, error) {
	n := 0
	for i := range history {
		if history[i].Parent == "" {
			n++
		}
	}
	if n < len(e.Points) {
		return space.Complete(e.Points[n], rng)
	}
	return e.Then.Sample(space, history, rng)
}

// Complete returns the assignment that takes p's values and draws every
// other parameter active given them at random, each from its declared
// distribution. p's values are returned in the types samplers use (int
// for Int, float64 for Float, the declared choice for Categorical). It is
// an error, naming every problem as Check does, for p to hold an unknown
// parameter, a value outside its parameter's range or choices, or a
// parameter its own values leave inactive.
func (s *Space) Complete(p Params, rng *rand.Rand) (Params, error) {
	out := s.build(func(i int) any {
		prm := &s.params[i]
		if v, ok := p[prm.Name]; ok {
			return prm.canonical(v)
		}
		return prm.fromUnit(rng.Float64())
	})
	// A key of p that is not in out is unknown or inactive: Check says which.
	check := maps.Clone(out)
	for k, v := range p {
		if _, ok := out[k]; !ok {
			check[k] = v
		}
	}
	if err := s.Check(check); err != nil {
		return nil, err
	}
	return out, nil
}

// canonical returns v in the type samplers give the parameter's values,
// or v itself when it is not a valid value (Check reports it).
func (prm *Param) canonical(v any) any {
	if prm.checkValue(v) != "" {
		return v
	}
	switch prm.Kind {
	case Int:
		x, _ := number(v)
		return int(x)
	case Float:
		x, _ := number(v)
		return x
	case Categorical:
		return prm.Values[prm.catIndex(v)]
	}
	return v
}
