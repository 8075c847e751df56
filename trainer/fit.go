package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/consort-ml/consort/internal/vec"
	"github.com/consort-ml/consort/trainer/packed"
)

// Set is a block of standardised training samples.
type Set struct {
	// X holds N×D features, row-major.
	X []float32
	// Y holds N class indices.
	Y []int32
	// N is the number of samples.
	N int
	// Teacher, when not nil, holds N×C soft targets (a teacher's class
	// probabilities) for distillation.
	Teacher []float32
}

func (s *Set) rows(d int, i int) []float32 { return s.X[i*d : (i+1)*d] }

// fitter trains one MLP in place. All scratch is allocated when the fitter
// is built, so a training step allocates nothing.
type fitter struct {
	net   *MLP
	cfg   *Config
	batch int

	acts   [][]float32 // acts[0]: input batch; acts[l+1]: output of layer l (probabilities for the last)
	deltas [][]float32 // deltas[l]: dLoss/dZ of layer l
	gW, gB [][]float32
	// Optimizer state: Adam's first and second moments, or SGD's velocity
	// in m1.
	m1W, m2W, m1B, m2B [][]float32
	// fw holds the weights used by the forward and backward passes: the
	// layer's own W, or a fake-quantized copy during quantization-aware
	// training.
	fw [][]float32
	t  int // optimizer steps taken (Adam bias correction)

	perm  []int
	yb    []int32
	soft  []float32 // teacher targets of the batch
	probT []float32 // student's softened probabilities

	// onStep, when set, runs after every optimizer update (pruning
	// schedules, fake-quant refresh).
	onStep func()
	// actScale, when set, fake-quantizes each layer's input to its static
	// 8-bit grid in the forward pass (straight-through in the backward).
	actScale []float32
}

func newFitter(net *MLP, cfg *Config, maxN int) *fitter {
	b := cfg.Batch
	L := len(net.Layers)
	f := &fitter{net: net, cfg: cfg, batch: b, perm: make([]int, maxN), yb: make([]int32, b)}
	f.acts = make([][]float32, L+1)
	f.acts[0] = make([]float32, b*net.Inputs())
	f.deltas = make([][]float32, L)
	f.fw = make([][]float32, L)
	for li, l := range net.Layers {
		f.acts[li+1] = make([]float32, b*l.Out)
		f.deltas[li] = make([]float32, b*l.Out)
		f.gW = append(f.gW, make([]float32, len(l.W)))
		f.gB = append(f.gB, make([]float32, len(l.B)))
		f.m1W = append(f.m1W, make([]float32, len(l.W)))
		f.m1B = append(f.m1B, make([]float32, len(l.B)))
		if cfg.Optimizer == "adam" {
			f.m2W = append(f.m2W, make([]float32, len(l.W)))
			f.m2B = append(f.m2B, make([]float32, len(l.B)))
		}
		f.fw[li] = l.W
	}
	c := net.Classes()
	f.soft = make([]float32, b*c)
	f.probT = make([]float32, b*c)
	return f
}

// resetOptimizer clears momentum state, as when a new training phase
// starts on a changed network.
func (f *fitter) resetOptimizer() {
	for _, s := range [][][]float32{f.m1W, f.m2W, f.m1B, f.m2B} {
		for _, v := range s {
			clear(v)
		}
	}
	f.t = 0
}

// step runs forward, backward and one optimizer update on the first m
// rows staged in acts[0], yb and soft, at learning rate lr. It returns the
// batch's mean cross-entropy against the hard labels.
func (f *fitter) step(m int, lr float64, distill bool) float64 {
	loss := f.gradient(m, distill)
	f.update(lr)
	if f.onStep != nil {
		f.onStep()
	}
	return loss
}

// gradient runs the forward and backward passes on the first m staged
// rows, leaving the gradients in gW and gB, and returns the batch's mean
// cross-entropy against the hard labels.
func (f *fitter) gradient(m int, distill bool) float64 {
	net := f.net
	L := len(net.Layers)
	c := net.Classes()
	for li := range net.Layers {
		l := &net.Layers[li]
		in := f.acts[li][:m*l.In]
		if f.actScale != nil {
			packed.FakeQuantizeActivations(in, in, f.actScale[li], packed.InputUnsigned(li, packedAct(net.Act)))
		}
		denseForward(in, f.acts[li+1][:m*l.Out], m, l, f.fw[li], net.Act, li == L-1)
	}
	out := f.acts[L][:m*c]
	var T, alpha float32
	if distill {
		T, alpha = float32(f.cfg.DistillT), float32(f.cfg.DistillAlpha)
		pt := f.probT[:m*c]
		inv := 1 / T
		for i, z := range out {
			pt[i] = z * inv
		}
		vec.SoftmaxRows(pt, c)
	}
	vec.SoftmaxRows(out, c)

	// Output delta: softmax cross-entropy, mean over the batch, mixed with
	// the distillation term α·T·(p_T − q_T) (Hinton et al. 2015).
	d := f.deltas[L-1][:m*c]
	inv := 1 / float32(m)
	var loss float64
	for r := 0; r < m; r++ {
		p := out[r*c : (r+1)*c]
		dr := d[r*c : (r+1)*c]
		y := int(f.yb[r])
		loss -= math.Log(math.Max(float64(p[y]), 1e-30))
		if distill {
			pt := f.probT[r*c : (r+1)*c]
			q := f.soft[r*c : (r+1)*c]
			for j := range dr {
				dr[j] = ((1-alpha)*p[j] + alpha*T*(pt[j]-q[j])) * inv
			}
			dr[y] -= (1 - alpha) * inv
		} else {
			for j := range dr {
				dr[j] = p[j] * inv
			}
			dr[y] -= inv
		}
	}

	for li := L - 1; li >= 0; li-- {
		l := &net.Layers[li]
		dl := blas32.General{Rows: m, Cols: l.Out, Stride: l.Out, Data: f.deltas[li][:m*l.Out]}
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, dl,
			blas32.General{Rows: m, Cols: l.In, Stride: l.In, Data: f.acts[li][:m*l.In]},
			0, blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: f.gW[li]})
		vec.SumRows(f.gB[li], dl.Data)
		if li > 0 {
			prev := f.deltas[li-1][:m*l.In]
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, dl,
				blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: f.fw[li]},
				0, blas32.General{Rows: m, Cols: l.In, Stride: l.In, Data: prev})
			actGrad(prev, f.acts[li][:m*l.In], net.Act)
		}
	}
	return loss / float64(m)
}

// actGrad multiplies the gradient g by the activation's derivative, given
// the activation's output a.
func actGrad(g, a []float32, act Activation) {
	if act == ReLU {
		vec.ReLUGrad(g, a[:len(g)])
		return
	}
	vec.TanhGrad(g, a[:len(g)])
}

// update applies one optimizer step. Masked weights get a zero gradient,
// so weights pruned to exactly zero (with their moments cleared) stay
// exactly zero.
func (f *fitter) update(lr float64) {
	f.t++
	cfg := f.cfg
	l2 := float32(cfg.L2)
	if cfg.Optimizer == "adam" {
		const b1, b2, eps = 0.9, 0.999, 1e-8
		bc1 := 1 - math.Pow(b1, float64(f.t))
		bc2 := 1 - math.Pow(b2, float64(f.t))
		step := float32(lr / bc1)
		rbc2 := float32(1 / math.Sqrt(bc2))
		for li := range f.net.Layers {
			l := &f.net.Layers[li]
			vec.Adam(l.W, f.gW[li], f.m1W[li], f.m2W[li], l.Mask, l2, step, rbc2, b1, b2, eps)
			vec.Adam(l.B, f.gB[li], f.m1B[li], f.m2B[li], l.BMask, 0, step, rbc2, b1, b2, eps)
		}
		return
	}
	mu := float32(cfg.Momentum)
	for li := range f.net.Layers {
		l := &f.net.Layers[li]
		vec.SGD(l.W, f.gW[li], f.m1W[li], l.Mask, l2, float32(lr), mu)
		vec.SGD(l.B, f.gB[li], f.m1B[li], l.BMask, 0, float32(lr), mu)
	}
}

// lrAt returns the learning rate at step s of a phase of total steps.
func lrAt(cfg *Config, s, total int) float64 {
	if cfg.LRSchedule == "cosine" && total > 0 {
		return cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(s)/float64(total)))
	}
	return cfg.LR
}

// epoch shuffles the set with rng and runs one pass of mini-batch steps,
// continuing the phase's step counter *s. It returns the mean training
// loss.
func (f *fitter) epoch(set *Set, rng *rand.Rand, s *int, total int) float64 {
	n, d, c := set.N, f.net.Inputs(), f.net.Classes()
	perm := f.perm[:n]
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	distill := set.Teacher != nil
	var sum float64
	for b0 := 0; b0 < n; b0 += f.batch {
		m := min(f.batch, n-b0)
		xb := f.acts[0]
		for r := 0; r < m; r++ {
			i := perm[b0+r]
			copy(xb[r*d:(r+1)*d], set.rows(d, i))
			f.yb[r] = set.Y[i]
			if distill {
				copy(f.soft[r*c:(r+1)*c], set.Teacher[i*c:(i+1)*c])
			}
		}
		sum += f.step(m, lrAt(f.cfg, *s, total), distill) * float64(m)
		*s++
	}
	return sum / float64(n)
}

// PhaseInfo describes one training phase.
type PhaseInfo struct {
	// Epochs actually run (fewer than asked when early stopping fired).
	Epochs int `json:"epochs"`
	// BestEpoch is the 1-based epoch whose weights were kept; equal to
	// Epochs without early stopping.
	BestEpoch int `json:"best_epoch"`
	// TrainLoss is the mean training loss of the last epoch run.
	TrainLoss float64 `json:"train_loss"`
	// ValLoss is the best validation loss seen, or 0 without a
	// validation set.
	ValLoss float64 `json:"val_loss,omitempty"`
	// Seconds is the phase's wall time; SamplesPerSecond its training
	// throughput (samples × epochs run / Seconds, validation included).
	Seconds          float64 `json:"seconds"`
	SamplesPerSecond float64 `json:"samples_per_second"`
}

// phase trains for up to epochs epochs. With a validation set and
// patience > 0 it stops early and restores the best weights.
func (f *fitter) phase(ctx context.Context, set, val *Set, epochs, patience int, rng *rand.Rand) (PhaseInfo, error) {
	steps := (set.N + f.batch - 1) / f.batch
	total := epochs * steps
	var info PhaseInfo
	t0 := time.Now()
	s := 0
	var ev *evaluator
	var best *MLP
	bestLoss := math.Inf(1)
	if val != nil && val.N > 0 && patience > 0 {
		ev = newEvaluator(f.net, f.fw, val.N)
		best = f.net.Clone()
	}
	for e := 1; e <= epochs; e++ {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		info.TrainLoss = f.epoch(set, rng, &s, total)
		info.Epochs = e
		if ev == nil {
			info.BestEpoch = e
			continue
		}
		if vl := ev.loss(val); vl < bestLoss {
			bestLoss = vl
			best.copyWeightsFrom(f.net)
			info.ValLoss = vl
			info.BestEpoch = e
		} else if e-info.BestEpoch >= patience {
			break
		}
	}
	if ev != nil && info.BestEpoch != info.Epochs {
		f.net.copyWeightsFrom(best)
		if f.onStep != nil {
			f.onStep() // refresh derived weights (fake-quant copies)
		}
	}
	info.Seconds = time.Since(t0).Seconds()
	if info.Seconds > 0 {
		info.SamplesPerSecond = float64(set.N*info.Epochs) / info.Seconds
	}
	return info, nil
}

// evaluator computes the loss of a fixed-size set with preallocated
// buffers.
type evaluator struct {
	p     *Predictor
	probs []float32
	c     int
}

func newEvaluator(m *MLP, weights [][]float32, n int) *evaluator {
	return &evaluator{p: newPredictorWeights(m, weights), probs: make([]float32, n*m.Classes()), c: m.Classes()}
}

// loss returns the mean cross-entropy of set under the current weights.
func (e *evaluator) loss(set *Set) float64 {
	e.p.Proba(e.probs, set.X, set.N)
	var l float64
	for i, y := range set.Y[:set.N] {
		l -= math.Log(math.Max(float64(e.probs[i*e.c+int(y)]), 1e-15))
	}
	return l / float64(set.N)
}
