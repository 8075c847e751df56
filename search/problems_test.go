package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// problem is a synthetic minimization benchmark.
type problem struct {
	name    string
	space   *Space
	optimum float64
	// eval returns the observed (possibly noisy) and the true value.
	eval func(p Params, noise *rand.Rand) (observed, truth float64)
}

// mustSpace parses a space or fails the test.
func mustSpace(tb testing.TB, raw map[string]any) *Space {
	tb.Helper()
	s, err := ParseSpace(raw)
	if err != nil {
		tb.Fatalf("ParseSpace: %v", err)
	}
	return s
}

func unitBox(tb testing.TB, d int) *Space {
	tb.Helper()
	raw := map[string]any{}
	for i := range d {
		raw["x"+strconv.Itoa(i)] = map[string]any{"type": "float", "low": 0, "high": 1}
	}
	return mustSpace(tb, raw)
}

func coords(p Params, d int) []float64 {
	x := make([]float64, d)
	for i := range x {
		x[i], _ = p.Float("x" + strconv.Itoa(i))
	}
	return x
}

func branin(x1, x2 float64) float64 {
	const (
		a = 1.0
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6.0
		s = 10.0
		t = 1 / (8 * math.Pi)
	)
	return a*math.Pow(x2-b*x1*x1+c*x1-r, 2) + s*(1-t)*math.Cos(x1) + s
}

var (
	h3A = [4][3]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
	h3P = [4][3]float64{{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}}
	h6A = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}}
	h6P = [4][6]float64{
		{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
		{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
		{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
		{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}}
	hAlpha = [4]float64{1, 1.2, 3, 3.2}
)

func hartmann3(x []float64) float64 {
	sum := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 3 {
			e += h3A[i][j] * (x[j] - h3P[i][j]) * (x[j] - h3P[i][j])
		}
		sum += hAlpha[i] * math.Exp(-e)
	}
	return -sum
}

func hartmann6(x []float64) float64 {
	sum := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 6 {
			e += h6A[i][j] * (x[j] - h6P[i][j]) * (x[j] - h6P[i][j])
		}
		sum += hAlpha[i] * math.Exp(-e)
	}
	return -sum
}

func problems(tb testing.TB) []problem {
	tb.Helper()
	return []problem{
		{
			name: "branin",
			space: mustSpace(tb, map[string]any{
				"x1": map[string]any{"type": "float", "low": -5, "high": 10},
				"x2": map[string]any{"type": "float", "low": 0, "high": 15},
			}),
			optimum: 0.397887,
			eval: func(p Params, _ *rand.Rand) (float64, float64) {
				x1, _ := p.Float("x1")
				x2, _ := p.Float("x2")
				v := branin(x1, x2)
				return v, v
			},
		},
		{
			name:    "hartmann6",
			space:   unitBox(tb, 6),
			optimum: -3.32237,
			eval: func(p Params, _ *rand.Rand) (float64, float64) {
				v := hartmann6(coords(p, 6))
				return v, v
			},
		},
		{
			name:    "noisy-hartmann3",
			space:   unitBox(tb, 3),
			optimum: -3.86278,
			eval: func(p Params, noise *rand.Rand) (float64, float64) {
				v := hartmann3(coords(p, 3))
				return v + 0.2*noise.NormFloat64(), v
			},
		},
	}
}

// regret runs n sequential trials and returns the true regret of the trial
// with the best observed value.
func regret(tb testing.TB, s Sampler, pr problem, seed uint64, n int) float64 {
	tb.Helper()
	noise := rand.New(rand.NewPCG(seed, 0xfeed))
	var hist []Trial
	bestObs, bestTrue := math.Inf(1), math.Inf(1)
	for i := range n {
		p, err := s.Sample(pr.space, hist, NewRand(seed, i))
		if err != nil {
			tb.Fatalf("%s: Sample %d: %v", pr.name, i, err)
		}
		if err := pr.space.Check(p); err != nil {
			tb.Fatalf("%s: proposal %d outside the space: %v", pr.name, i, err)
		}
		obs, truth := pr.eval(p, noise)
		hist = append(hist, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: []float64{obs}})
		if obs < bestObs {
			bestObs, bestTrue = obs, truth
		}
	}
	return bestTrue - pr.optimum
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
