package trainer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/consort-ml/consort/trainer/packed"
)

// TrainInfo describes how a model was trained.
type TrainInfo struct {
	// Train is the main training phase (with gradual pruning under AGP).
	Train PhaseInfo `json:"train"`
	// FineTune is the fine-tuning phase after pruning or for
	// quantization-aware training; nil when there was none.
	FineTune *PhaseInfo `json:"fine_tune,omitempty"`
	// QAT says whether the fine-tuning was quantization-aware.
	QAT bool `json:"qat,omitempty"`
	// ActScale holds each layer's static 8-bit activation step when
	// cfg.ActBits is 8, for the packed model.
	ActScale []float32 `json:"-"`
}

// Sizes returns the layer widths for d inputs and c classes.
func (c *Config) Sizes(d, classes int) []int {
	s := make([]int, 0, len(c.Hidden)+2)
	s = append(s, d)
	s = append(s, c.Hidden...)
	return append(s, classes)
}

// agpPlan places automated gradual pruning in a training phase of total
// optimizer steps: from a quarter to three quarters of the phase, a
// pruning step every quarter epoch.
func agpPlan(total, stepsPerEpoch int) (t0, n, dt int) {
	t0 = total / 4
	dt = max(1, stepsPerEpoch/4)
	n = max(1, (3*total/4-t0)/dt)
	return t0, n, dt
}

// Train builds a network for cfg and trains it on set (already
// standardised), using val for early stopping when cfg.Patience > 0.
// set.Teacher, when present, turns on distillation. d and classes give the
// input width and the number of classes.
//
// With cfg.Sparsity > 0 the network is pruned by weight magnitude — one
// shot after training, or gradually during it (AGP) — and fine-tuned for
// cfg.FineTune epochs with pruned weights held at exactly zero.
// Structurally pruned neurons are removed from the returned network. With
// cfg.QAT the fine-tuning is quantization-aware: the passes see weights
// fake-quantized to cfg.Bits (and, with cfg.ActBits = 8, layer inputs on
// a static 8-bit grid), the optimizer updates the float weights
// (straight-through estimator). Quantization itself happens when the
// model is packed (Pack).
func Train(ctx context.Context, cfg *Config, set, val *Set, d, classes int, rng *rand.Rand) (*MLP, TrainInfo, error) {
	net, info, _, err := train(ctx, cfg, set, val, d, classes, rng, resume{})
	return net, info, err
}

// resume says how train starts and what it keeps: from a checkpointed
// state after from epochs (with src, rng's source, restored), and whether
// to snapshot the state at the end of the main phase.
type resume struct {
	src   *rand.PCG
	state *foldState
	from  int
	keep  bool
}

func train(ctx context.Context, cfg *Config, set, val *Set, d, classes int, rng *rand.Rand, rs resume) (*MLP, TrainInfo, *foldState, error) {
	var info TrainInfo
	if set.N == 0 {
		return nil, info, nil, fmt.Errorf("trainer: no training samples")
	}
	act, err := ParseActivation(cfg.Activation)
	if err != nil {
		return nil, info, nil, err
	}
	if set.Teacher != nil && cfg.DistillT != 1 {
		// Hinton et al. compare student and teacher both at temperature
		// T: soften the teacher's probabilities once.
		soft := *set
		soft.Teacher = softenProbs(set.Teacher, classes, cfg.DistillT)
		set = &soft
	}
	var net *MLP
	if rs.state != nil {
		net = rs.state.net.Clone()
	} else {
		net = NewMLP(cfg.Sizes(d, classes), act, rng)
		if ff := cfg.FeatureFraction; ff > 0 && ff < 1 {
			subspace(net, ff, rng)
		}
	}
	f := newFitter(net, cfg, set.N)
	if rs.state != nil {
		if err := rs.state.restore(f, rs.src); err != nil {
			return nil, info, nil, err
		}
	}
	var pr *pruner
	patience := cfg.Patience
	if cfg.Sparsity > 0 {
		pr = newPruner(net, cfg)
		if cfg.Schedule == "agp" {
			steps := (set.N + cfg.Batch - 1) / cfg.Batch
			t0, n, dt := agpPlan(cfg.Epochs*steps, steps)
			t := 0
			f.onStep = func() {
				t++
				if t > t0 && (t-t0)%dt == 0 && t <= t0+n*dt {
					pr.prune(AGPSparsity(t, t0, n, dt, 0, cfg.Sparsity))
					f.clearMaskedState()
				}
			}
			// Restoring an earlier epoch's weights would undo pruning.
			patience = 0
		}
	}
	info.Train, err = f.phase(ctx, set, val, cfg.Epochs-rs.from, patience, rng)
	if err != nil {
		return nil, info, nil, err
	}
	info.Train.Epochs += rs.from
	info.Train.BestEpoch += rs.from
	var kept *foldState
	if rs.keep {
		if kept, err = snapshot(f, rs.src); err != nil {
			return nil, info, nil, err
		}
	}
	f.onStep = nil
	if pr != nil {
		pr.prune(cfg.Sparsity)
	}
	q := f.startQAT(set)
	info.QAT = q
	if (pr != nil || q) && cfg.FineTune > 0 {
		f.resetOptimizer()
		ft, err := f.phase(ctx, set, val, cfg.FineTune, cfg.Patience, rng)
		if err != nil {
			return nil, info, nil, err
		}
		info.FineTune = &ft
	}
	if cfg.ActBits == 8 && cfg.integer() {
		if f.actScale != nil {
			info.ActScale = f.actScale
		} else {
			// Post-training calibration on the fake-quantized weights.
			fq := make([][]float32, len(net.Layers))
			var qp packed.QParams
			for li := range net.Layers {
				l := &net.Layers[li]
				fq[li] = make([]float32, len(l.W))
				packed.FakeQuantize(fq[li], l.W, l.Out, l.In, cfg.Scheme(), &qp)
			}
			info.ActScale = calibrate(net, fq, set)
		}
	}
	if cfg.Prune == "structured" && pr != nil {
		net = net.Shrink()
	}
	return net, info, kept, nil
}

// softenProbs returns probabilities q (rows of c) at temperature T:
// q^(1/T), renormalised per row — the softmax of the teacher's logits
// divided by T.
func softenProbs(q []float32, c int, T float64) []float32 {
	out := make([]float32, len(q))
	for r := 0; r+c <= len(q); r += c {
		var s float64
		for j := 0; j < c; j++ {
			v := math.Pow(math.Max(float64(q[r+j]), 1e-30), 1/T)
			out[r+j] = float32(v)
			s += v
		}
		for j := 0; j < c; j++ {
			out[r+j] = float32(float64(out[r+j]) / s)
		}
	}
	return out
}

// subspace keeps a random share ff of the input features (at least one):
// the first layer's columns of the others are masked to exactly zero.
func subspace(net *MLP, ff float64, rng *rand.Rand) {
	l := &net.Layers[0]
	keep := max(1, int(math.Round(ff*float64(l.In))))
	perm := rng.Perm(l.In)
	if l.Mask == nil {
		l.Mask = make([]float32, len(l.W))
		for i := range l.Mask {
			l.Mask[i] = 1
		}
	}
	for _, col := range perm[keep:] {
		for j := 0; j < l.Out; j++ {
			l.Mask[j*l.In+col] = 0
			l.W[j*l.In+col] = 0
		}
	}
}
