package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// stage copies rows of set into the fitter's batch buffers.
func stage(f *fitter, set *Set, rows []int) {
	d, c := f.net.Inputs(), f.net.Classes()
	for r, i := range rows {
		copy(f.acts[0][r*d:(r+1)*d], set.rows(d, i))
		f.yb[r] = set.Y[i]
		if set.Teacher != nil {
			copy(f.soft[r*c:(r+1)*c], set.Teacher[i*c:(i+1)*c])
		}
	}
}

func randomSet(rng *rand.Rand, n, d, c int, teacher bool) *Set {
	s := &Set{X: make([]float32, n*d), Y: make([]int32, n), N: n}
	for i := range s.X {
		s.X[i] = float32(rng.NormFloat64())
	}
	for i := range s.Y {
		s.Y[i] = int32(rng.IntN(c))
	}
	if teacher {
		s.Teacher = make([]float32, n*c)
		for i := 0; i < n; i++ {
			var sum float32
			for j := 0; j < c; j++ {
				v := float32(rng.Float64() + 0.05)
				s.Teacher[i*c+j] = v
				sum += v
			}
			for j := 0; j < c; j++ {
				s.Teacher[i*c+j] /= sum
			}
		}
	}
	return s
}

// batchLoss is the full objective the gradient differentiates: the
// hard-label cross-entropy mixed with the distillation term.
func batchLoss(f *fitter, m int, distill bool) float64 {
	l, _ := batchLossPattern(f, m, distill)
	return l
}

// batchLossPattern also returns which hidden units are active, so a finite
// difference that crosses a ReLU kink can be recognised.
func batchLossPattern(f *fitter, m int, distill bool) (float64, []bool) {
	var pattern []bool
	net := f.net
	c := net.Classes()
	in := f.acts[0][:m*net.Inputs()]
	buf := make([]float32, m*net.maxWidth())
	buf2 := make([]float32, m*net.maxWidth())
	for li := range net.Layers {
		l := &net.Layers[li]
		out := buf[:m*l.Out]
		denseForward(in, out, m, l, f.fw[li], net.Act, li == len(net.Layers)-1)
		if li < len(net.Layers)-1 && net.Act == ReLU {
			for _, v := range out {
				pattern = append(pattern, v > 0)
			}
		}
		in = out
		buf, buf2 = buf2, buf
	}
	logits := in
	var loss float64
	T := f.cfg.DistillT
	alpha := f.cfg.DistillAlpha
	for r := 0; r < m; r++ {
		z := logits[r*c : (r+1)*c]
		lse := func(scale float64) float64 {
			mx := math.Inf(-1)
			for _, v := range z {
				mx = math.Max(mx, float64(v)*scale)
			}
			var s float64
			for _, v := range z {
				s += math.Exp(float64(v)*scale - mx)
			}
			return mx + math.Log(s)
		}
		ce := lse(1) - float64(z[f.yb[r]])
		if !distill {
			loss += ce
			continue
		}
		// T²·CE(q, softmax(z/T)) differs from T²·KL by a constant.
		var soft float64
		l := lse(1 / T)
		for j := 0; j < c; j++ {
			soft += float64(f.soft[r*c+j]) * (l - float64(z[j])/T)
		}
		loss += (1-alpha)*ce + alpha*T*T*soft
	}
	return loss / float64(m), pattern
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name    string
		act     Activation
		distill bool
	}{
		{"tanh", Tanh, false},
		{"relu", ReLU, false},
		{"tanh-distill", Tanh, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			const n, d, c = 7, 5, 4
			cfg := DefaultConfig()
			cfg.Batch = n
			set := randomSet(rng, n, d, c, tc.distill)
			net := NewMLP([]int{d, 6, 5, c}, tc.act, rng)
			for _, l := range net.Layers {
				for i := range l.B {
					l.B[i] = float32(rng.NormFloat64() * 0.1)
				}
			}
			f := newFitter(net, &cfg, n)
			stage(f, set, []int{0, 1, 2, 3, 4, 5, 6})
			f.gradient(n, tc.distill)
			const h = 1e-2
			_, base := batchLossPattern(f, n, tc.distill)
			checked, bad, kinks := 0, 0, 0
			for li := range net.Layers {
				l := &net.Layers[li]
				for _, p := range []struct {
					w, g []float32
				}{{l.W, f.gW[li]}, {l.B, f.gB[li]}} {
					for i := range p.w {
						old := p.w[i]
						p.w[i] = old + h
						lp, pp := batchLossPattern(f, n, tc.distill)
						p.w[i] = old - h
						lm, pm := batchLossPattern(f, n, tc.distill)
						p.w[i] = old
						if !slices.Equal(pp, base) || !slices.Equal(pm, base) {
							kinks++ // the difference straddles a ReLU kink
							continue
						}
						num := (lp - lm) / (2 * h)
						ana := float64(p.g[i])
						checked++
						if math.Abs(num-ana) > 2e-3+2e-2*math.Abs(num) {
							bad++
							if bad < 5 {
								t.Errorf("layer %d param %d: analytic %.6f, numeric %.6f", li, i, ana, num)
							}
						}
					}
				}
			}
			if kinks > checked/4 {
				t.Fatalf("%d of %d differences crossed a kink: the check is not checking", kinks, checked+kinks)
			}
			if bad > 0 {
				t.Errorf("%d of %d gradients disagree", bad, checked)
			}
		})
	}
}

func TestTrainingStepAllocatesNothing(t *testing.T) {
	for _, opt := range []string{"adam", "sgd"} {
		t.Run(opt, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			cfg := DefaultConfig()
			cfg.Optimizer = opt
			cfg.Batch = 16
			set := randomSet(rng, 100, 20, 5, true)
			net := NewMLP([]int{20, 32, 16, 5}, ReLU, rng)
			f := newFitter(net, &cfg, set.N)
			s := 0
			allocs := testing.AllocsPerRun(20, func() {
				f.epoch(set, rng, &s, 1000)
			})
			if allocs != 0 {
				t.Fatalf("an epoch of training steps allocated %.1f times", allocs)
			}
		})
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Epochs = 5
	cfg.Patience = 2
	run := func(seed uint64) *MLP {
		rng := rand.New(rand.NewPCG(9, 9))
		set := randomSet(rng, 300, 12, 3, false)
		val := randomSet(rng, 50, 12, 3, false)
		net, _, err := Train(context.Background(), &cfg, set, val, 12, 3, rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	a, b, other := run(1), run(1), run(2)
	same := func(x, y *MLP) bool {
		for i := range x.Layers {
			for j := range x.Layers[i].W {
				if math.Float32bits(x.Layers[i].W[j]) != math.Float32bits(y.Layers[i].W[j]) {
					return false
				}
			}
			for j := range x.Layers[i].B {
				if math.Float32bits(x.Layers[i].B[j]) != math.Float32bits(y.Layers[i].B[j]) {
					return false
				}
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("same seed gave different weights")
	}
	if same(a, other) {
		t.Fatal("different seeds gave identical weights")
	}
}

func TestMaskedWeightsStayZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := DefaultConfig()
	cfg.L2 = 1e-3
	set := randomSet(rng, 200, 10, 3, false)
	for _, opt := range []string{"adam", "sgd"} {
		net := NewMLP([]int{10, 16, 3}, ReLU, rng)
		cfg.Optimizer = opt
		for li := range net.Layers {
			l := &net.Layers[li]
			l.Mask = make([]float32, len(l.W))
			for i := range l.Mask {
				if i%3 != 0 {
					l.Mask[i] = 1
				} else {
					l.W[i] = 0
				}
			}
		}
		f := newFitter(net, &cfg, set.N)
		s := 0
		for e := 0; e < 5; e++ {
			f.epoch(set, rng, &s, 100)
		}
		for li, l := range net.Layers {
			for i, m := range l.Mask {
				if m == 0 && l.W[i] != 0 {
					t.Fatalf("%s: layer %d weight %d pruned but now %g", opt, li, i, l.W[i])
				}
			}
		}
	}
}

func TestTrainingLearnsSeparableData(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, d = 600, 4
	set := &Set{X: make([]float32, n*d), Y: make([]int32, n), N: n}
	for i := 0; i < n; i++ {
		var s float32
		for j := 0; j < d; j++ {
			v := float32(rng.NormFloat64())
			set.X[i*d+j] = v
			s += v * float32(j+1)
		}
		if s > 0 {
			set.Y[i] = 1
		}
	}
	for _, act := range []string{"relu", "tanh"} {
		for _, opt := range []string{"adam", "sgd"} {
			cfg := DefaultConfig()
			cfg.Activation, cfg.Optimizer, cfg.Epochs = act, opt, 20
			cfg.LRSchedule = "cosine"
			if opt == "sgd" {
				cfg.LR = 0.05
			}
			net, _, err := Train(context.Background(), &cfg, set, nil, d, 2, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			probs := make([]float32, n*2)
			NewPredictor(net).Proba(probs, set.X, n)
			if acc := Score(probs, set.Y, 2).Accuracy; acc < 0.95 {
				t.Errorf("%s/%s: training accuracy %.3f on a linearly separable problem", act, opt, acc)
			}
		}
	}
}
