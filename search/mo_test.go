package search

import (
	"math"
	"strconv"
	"testing"
)

// moProblem is a synthetic two-objective benchmark.
type moProblem struct {
	name  string
	space *Space
	dirs  []Direction
	ref   []float64
	eval  func(p Params) []float64
}

func zdt1(x []float64) []float64 {
	g := 0.0
	for _, v := range x[1:] {
		g += v
	}
	g = 1 + 9*g/float64(len(x)-1)
	return []float64{x[0], g * (1 - math.Sqrt(x[0]/g))}
}

// compression is a size/accuracy trade-off shaped like consort's: more
// and wider layers, more bits and less sparsity raise accuracy and size
// (the second objective is log10 of the packed bytes).
func compression(p Params) []float64 {
	widths, _ := p.IntList("width")
	bits, _ := p.Int("bits")
	sparsity, _ := p.Float("sparsity")
	prev, weights := 64, 0
	for _, w := range append(widths, 10) {
		weights += prev * w
		prev = w
	}
	kept := float64(weights) * (1 - sparsity)
	penalty := map[int]float64{2: 0.15, 3: 0.08, 4: 0.03, 5: 0.015, 6: 0.01, 8: 0.005}[bits]
	acc := 0.98 - 0.6*math.Exp(-kept/10000) - penalty - 0.1*math.Pow(sparsity, 4)
	return []float64{acc, math.Log10(kept * float64(bits) / 8)}
}

func moProblems(tb testing.TB) []moProblem {
	tb.Helper()
	return []moProblem{
		{"zdt1", unitBox(tb, 6), []Direction{Minimize, Minimize}, []float64{1.1, 11},
			func(p Params) []float64 { return zdt1(coords(p, 6)) }},
		{"size-accuracy", mustSpace(tb, map[string]any{
			"layers":   map[string]any{"type": "int", "low": 1, "high": 3},
			"width":    map[string]any{"type": "int", "low": 8, "high": 256, "log": true, "per": "layers"},
			"bits":     []any{2, 3, 4, 5, 6, 8, 16, 32},
			"sparsity": map[string]any{"type": "float", "low": 0, "high": 0.95},
		}), []Direction{Maximize, Minimize}, []float64{0.3, 6}, compression},
	}
}

// frontHypervolume runs n sequential trials and returns the hypervolume of
// everything observed.
func frontHypervolume(tb testing.TB, s Sampler, pr moProblem, seed uint64, n int) float64 {
	tb.Helper()
	var hist []Trial
	var pts [][]float64
	for i := range n {
		p, err := s.Sample(pr.space, hist, NewRand(seed, i))
		if err != nil {
			tb.Fatal(err)
		}
		v := pr.eval(p)
		hist = append(hist, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: v})
		pts = append(pts, v)
	}
	hv, err := Hypervolume(pts, pr.ref, pr.dirs)
	if err != nil {
		tb.Fatal(err)
	}
	return hv
}

// TestMultiObjectiveBeatsRandom is the quality bar: after 100 trials the
// median hypervolume of MOTPE's observations is at least random search's.
func TestMultiObjectiveBeatsRandom(t *testing.T) {
	seeds := uint64(10)
	if testing.Short() {
		seeds = 5
	}
	for _, pr := range moProblems(t) {
		t.Run(pr.name, func(t *testing.T) {
			samplers := []struct {
				name string
				s    Sampler
			}{
				{"motpe", &TPE{Directions: pr.dirs}},
				{"motpe-multivariate", &TPE{Directions: pr.dirs, Multivariate: true}},
			}
			var rnd []float64
			for seed := range seeds {
				rnd = append(rnd, frontHypervolume(t, Random{}, pr, seed, 100))
			}
			for _, sc := range samplers {
				var hv []float64
				for seed := range seeds {
					hv = append(hv, frontHypervolume(t, sc.s, pr, seed, 100))
				}
				t.Logf("median hypervolume at 100 trials over %d seeds: %s %.6g, random %.6g", seeds, sc.name, median(hv), median(rnd))
				if median(hv) < median(rnd) {
					t.Errorf("%s median hypervolume %.6g below random's %.6g", sc.name, median(hv), median(rnd))
				}
			}
		})
	}
}

func TestSplitMultiObjective(t *testing.T) {
	// Front 0: a, b, c; front 1: d, e; f is dominated twice; g is NaN.
	losses := [][]float64{{1, 5}, {2, 2}, {5, 1}, {3, 5}, {6, 3}, {7, 7}, {math.Inf(1), 0}}
	tests := []struct {
		nBelow int
		want   []int
	}{
		{0, nil},
		{3, []int{0, 1, 2}},
		{4, []int{0, 1, 2, 3}}, // w.r.t. (6.6, 5.5), d adds 1.8, e only 1.5
		{5, []int{0, 1, 2, 3, 4}},
		{7, []int{0, 1, 2, 3, 4, 5}}, // the non-finite one is never good
	}
	for _, tc := range tests {
		pos, w := splitMultiObjective(losses, tc.nBelow)
		if len(pos) != len(tc.want) || len(w) != len(pos) {
			t.Fatalf("nBelow %d: got %v (weights %v), want %v", tc.nBelow, pos, w, tc.want)
		}
		for i := range pos {
			if pos[i] != tc.want[i] {
				t.Fatalf("nBelow %d: got %v, want %v", tc.nBelow, pos, tc.want)
			}
			if !(w[i] > 0 && w[i] <= 1) {
				t.Errorf("nBelow %d: weight %g outside (0, 1]", tc.nBelow, w[i])
			}
		}
	}
	// Dominated members of the good group weigh (almost) nothing.
	_, w := splitMultiObjective(losses, 5)
	if w[3] > 1e-6 || w[4] > 1e-6 || w[1] != 1 && w[0] != 1 && w[2] != 1 {
		t.Errorf("weights %v: want ~0 for the dominated d, e and 1 for the largest contribution", w)
	}
}
