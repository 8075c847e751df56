package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestAGPSparsity(t *testing.T) {
	// s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ with t0 = 10, n = 4, Δt = 5, s_i = 0, s_f = 0.8.
	for _, tc := range []struct {
		t    int
		want float64
	}{
		{0, 0}, {10, 0},
		{15, 0.8 - 0.8*math.Pow(0.75, 3)},
		{20, 0.8 - 0.8*math.Pow(0.5, 3)},
		{25, 0.8 - 0.8*math.Pow(0.25, 3)},
		{30, 0.8}, {1000, 0.8},
	} {
		if got := AGPSparsity(tc.t, 10, 4, 5, 0, 0.8); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("t=%d: %v, want %v", tc.t, got, tc.want)
		}
	}
	// Monotone and reaching the target.
	prev := -1.0
	for step := 0; step <= 40; step++ {
		s := AGPSparsity(step, 10, 4, 5, 0.1, 0.9)
		if s < prev {
			t.Fatalf("not monotone at t=%d", step)
		}
		prev = s
	}
}

func countZero(w []float32) int {
	z := 0
	for _, v := range w {
		if v == 0 {
			z++
		}
	}
	return z
}

func TestPruneUnstructuredExactSparsity(t *testing.T) {
	for _, scope := range []string{"global", "layer"} {
		rng := rand.New(rand.NewPCG(1, 1))
		net := NewMLP([]int{30, 20, 10, 3}, ReLU, rng)
		cfg := DefaultConfig()
		cfg.PruneScope = scope
		p := newPruner(net, &cfg)
		for _, s := range []float64{0.3, 0.6, 0.9} {
			p.prune(s)
			total, zero := 0, 0
			for _, l := range net.Layers {
				total += len(l.W)
				zero += countZero(l.W)
				if scope == "layer" {
					want := int(math.Round(s * float64(len(l.W))))
					if got := countZero(l.W); got != want {
						t.Errorf("%s s=%v: layer %dx%d has %d zeros, want %d", scope, s, l.Out, l.In, got, want)
					}
				}
			}
			if want := int(math.Round(s * float64(total))); scope == "global" && zero != want {
				t.Errorf("global s=%v: %d zeros, want %d", s, zero, want)
			}
		}
	}
}

func TestPruneGlobalRemovesSmallestMagnitudes(t *testing.T) {
	net := &MLP{Sizes: []int{2, 2, 1}, Layers: []Layer{
		{In: 2, Out: 2, W: []float32{0.5, -0.1, 2, -0.3}, B: []float32{0, 0}},
		{In: 2, Out: 1, W: []float32{0.2, -4}, B: []float32{0}},
	}}
	cfg := DefaultConfig()
	p := newPruner(net, &cfg)
	p.prune(0.5) // 3 of 6 weights: |−0.1|, |0.2|, |−0.3|
	want := [][]float32{{0.5, 0, 2, 0}, {0, -4}}
	for li, l := range net.Layers {
		for i := range l.W {
			if l.W[i] != want[li][i] {
				t.Fatalf("layer %d: %v, want %v", li, l.W, want[li])
			}
		}
	}
}

func TestStructuredPruningShrinksAndKeepsFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	net := NewMLP([]int{6, 10, 8, 3}, Tanh, rng)
	for _, l := range net.Layers {
		for i := range l.B {
			l.B[i] = float32(rng.NormFloat64())
		}
	}
	cfg := DefaultConfig()
	cfg.Prune = "structured"
	p := newPruner(net, &cfg)
	p.prune(0.5)
	small := net.Shrink()
	if got := small.Sizes; got[1] != 5 || got[2] != 4 || got[0] != 6 || got[3] != 3 {
		t.Fatalf("shrunk sizes %v, want [6 5 4 3]", got)
	}
	x := make([]float32, 20*6)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	a, b := make([]float32, 20*3), make([]float32, 20*3)
	NewPredictor(net).Proba(a, x, 20)
	NewPredictor(small).Proba(b, x, 20)
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			t.Fatalf("shrunk network differs at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestPrunedWeightsStayZeroThroughTraining(t *testing.T) {
	for _, tc := range []struct{ prune, schedule string }{
		{"unstructured", "oneshot"}, {"unstructured", "agp"}, {"structured", "oneshot"}, {"structured", "agp"},
	} {
		t.Run(tc.prune+"-"+tc.schedule, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 3))
			set := randomSet(rng, 256, 12, 3, false)
			cfg := DefaultConfig()
			cfg.Hidden = []int{16, 8}
			cfg.Epochs, cfg.FineTune = 8, 4
			cfg.Sparsity, cfg.Prune, cfg.Schedule = 0.75, tc.prune, tc.schedule
			cfg.L2 = 1e-3
			net, info, err := Train(context.Background(), &cfg, set, nil, 12, 3, rng)
			if err != nil {
				t.Fatal(err)
			}
			if info.FineTune == nil || info.FineTune.Epochs != 4 {
				t.Fatalf("fine-tuning did not run: %+v", info)
			}
			for li, l := range net.Layers {
				for i, m := range l.Mask {
					if m == 0 && l.W[i] != 0 {
						t.Fatalf("layer %d weight %d pruned but %g after fine-tuning", li, i, l.W[i])
					}
				}
			}
			if tc.prune == "unstructured" {
				if s := net.Sparsity(); math.Abs(s-0.75) > 0.01 {
					t.Fatalf("sparsity %v, want 0.75", s)
				}
			} else if net.Sizes[1] != 4 || net.Sizes[2] != 2 {
				t.Fatalf("structured pruning left sizes %v, want 12-4-2-3", net.Sizes)
			}
		})
	}
}
