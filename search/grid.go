package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Grid proposes the points of a Cartesian grid in a fixed order, skipping
// points already in the history (in any state), and returns ErrExhausted
// once every point has been proposed. Conditional parameters multiply the
// grid only where they are active. The zero Grid uses 5 points per numeric
// parameter and allows 100 000 grid points.
type Grid struct {
	// Points is the number of values per Float parameter (evenly spaced,
	// log-spaced when Log, both bounds included) and the maximum per Int
	// parameter (all values when there are fewer). Zero means 5.
	Points int
	// MaxPoints bounds the size of the grid; a larger grid is an
	// ErrInvalidConfig error. Zero means 100 000.
	MaxPoints int
}

// Sample implements Sampler. The source is not used: the grid order is
// fixed.
func (g *Grid) Sample(space *Space, history []Trial, _ *rand.Rand) (Params, error) {
	points, maxPoints := g.Points, g.MaxPoints
	if points <= 0 {
		points = 5
	}
	if maxPoints <= 0 {
		maxPoints = 100_000
	}
	values := make([][]any, len(space.params))
	for i := range space.params {
		values[i] = space.params[i].gridValues(points)
	}
	seen := make(map[string]bool, len(history))
	for i := range history {
		seen[space.key(history[i].Params)] = true
	}
	var (
		found Params
		count int
		cur   = make(Params, len(space.params))
	)
	// Depth-first walk in sampling order; leaf returns true to stop.
	var walk func(i int, leaf func() bool) bool
	walk = func(i int, leaf func() bool) bool {
		if i == len(space.params) {
			return leaf()
		}
		if !space.holds(cur, i, nil) {
			return walk(i+1, leaf)
		}
		name := space.params[i].Name
		for _, v := range values[i] {
			cur[name] = v
			if walk(i+1, leaf) {
				delete(cur, name)
				return true
			}
		}
		delete(cur, name)
		return false
	}
	walk(0, func() bool { count++; return count > maxPoints })
	if count > maxPoints {
		return nil, fmt.Errorf("%w: grid has more than MaxPoints = %d points", ErrInvalidConfig, maxPoints)
	}
	walk(0, func() bool {
		if seen[space.key(cur)] {
			return false
		}
		found = cur.Clone()
		return true
	})
	if found != nil {
		return found, nil
	}
	return nil, ErrExhausted
}

// gridValues returns the grid values of one parameter.
func (prm *Param) gridValues(points int) []any {
	switch prm.Kind {
	case Categorical:
		return slices.Clone(prm.Values)
	case Int:
		n := int(prm.count())
		if n <= points {
			out := make([]any, n)
			for k := range n {
				out[k] = int(prm.Low) + k*prm.step()
			}
			return out
		}
		var out []any
		last := math.Inf(-1)
		for k := range points {
			t := 0.5
			if points > 1 {
				t = float64(k) / float64(points-1)
			}
			var x float64
			if prm.Log {
				x = math.Round(math.Exp(math.Log(prm.Low) + t*(math.Log(prm.High)-math.Log(prm.Low))))
			} else {
				st := float64(prm.step())
				x = prm.Low + math.Round(t*(prm.High-prm.Low)/st)*st
			}
			x = min(max(x, prm.Low), prm.High)
			if x != last {
				out = append(out, int(x))
				last = x
			}
		}
		return out
	}
	if points == 1 {
		if prm.Log {
			return []any{math.Sqrt(prm.Low * prm.High)}
		}
		return []any{(prm.Low + prm.High) / 2}
	}
	out := make([]any, points)
	for k := range points {
		t := float64(k) / float64(points-1)
		switch {
		case k == 0: // the bounds exactly, not exp(log(x)) (0.0010000000000000002)
			out[k] = prm.Low
		case k == points-1:
			out[k] = prm.High
		case prm.Log:
			out[k] = min(max(math.Exp(math.Log(prm.Low)+t*(math.Log(prm.High)-math.Log(prm.Low))), prm.Low), prm.High)
		default:
			out[k] = min(max(prm.Low+t*(prm.High-prm.Low), prm.Low), prm.High)
		}
	}
	return out
}
