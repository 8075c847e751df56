package search

import (
	"math"
	"math/rand/v2"
)

// Sampler proposes the next configuration of a sweep. Sample must be a
// function of its arguments only: given the same space, the same ordered
// history and a source in the same state it returns the same Params. That
// makes a sampler's state recoverable from the history (see NewRand).
// history holds every trial of the sweep in creation order, including
// pending, running and failed ones and ASHA promotions. Implementations are
// safe for concurrent use.
type Sampler interface {
	Sample(space *Space, history []Trial, rng *rand.Rand) (Params, error)
}

// Compile-time interface checks.
var (
	_ Sampler = Random{}
	_ Sampler = (*Grid)(nil)
	_ Sampler = (*Sobol)(nil)
	_ Sampler = (*TPE)(nil)
)

// Random samples every active parameter independently and uniformly (log-
// uniformly where declared). It has no settings.
type Random struct{}

// Sample implements Sampler.
func (Random) Sample(space *Space, _ []Trial, rng *rand.Rand) (Params, error) {
	return space.build(func(i int) any { return space.params[i].fromUnit(rng.Float64()) }), nil
}

// build assembles an assignment in sampling order, asking value for each
// parameter that is active given the values chosen so far.
func (s *Space) build(value func(i int) any) Params {
	p := make(Params, len(s.params))
	for i := range s.params {
		if s.holds(p, i, nil) {
			p[s.params[i].Name] = value(i)
		}
	}
	return p
}

// fromUnit maps u in [0, 1) to a value of the parameter so that a uniform u
// gives the parameter's declared distribution.
func (prm *Param) fromUnit(u float64) any {
	u = min(max(u, 0), math.Nextafter(1, 0))
	switch prm.Kind {
	case Float:
		if prm.Log {
			lo, hi := math.Log(prm.Low), math.Log(prm.High)
			return min(max(math.Exp(lo+u*(hi-lo)), prm.Low), prm.High)
		}
		return min(max(prm.Low+u*(prm.High-prm.Low), prm.Low), prm.High)
	case Int:
		if prm.Log {
			lo, hi := math.Log(prm.Low-0.5), math.Log(prm.High+0.5)
			return int(min(max(math.Round(math.Exp(lo+u*(hi-lo))), prm.Low), prm.High))
		}
		n := prm.count()
		k := min(math.Floor(u*n), n-1)
		return int(prm.Low + k*float64(prm.step()))
	case Categorical:
		n := len(prm.Values)
		return prm.Values[min(int(u*float64(n)), n-1)]
	}
	return nil
}

// count returns the number of values of an Int parameter.
func (prm *Param) count() float64 {
	return math.Floor((prm.High-prm.Low)/float64(prm.step())) + 1
}
