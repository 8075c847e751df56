package trainer

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// TrainInfo describes how a model was trained.
type TrainInfo struct {
	// Train is the main training phase (with gradual pruning under AGP).
	Train PhaseInfo `json:"train"`
	// FineTune is the fine-tuning phase after pruning or for
	// quantization-aware training; nil when there was none.
	FineTune *PhaseInfo `json:"fine_tune,omitempty"`
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
// Structurally pruned neurons are removed from the returned network.
func Train(ctx context.Context, cfg *Config, set, val *Set, d, classes int, rng *rand.Rand) (*MLP, TrainInfo, error) {
	var info TrainInfo
	if set.N == 0 {
		return nil, info, fmt.Errorf("trainer: no training samples")
	}
	act, err := ParseActivation(cfg.Activation)
	if err != nil {
		return nil, info, err
	}
	net := NewMLP(cfg.Sizes(d, classes), act, rng)
	f := newFitter(net, cfg, set.N)
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
	info.Train, err = f.phase(ctx, set, val, cfg.Epochs, patience, rng)
	if err != nil {
		return nil, info, err
	}
	f.onStep = nil
	if pr != nil {
		pr.prune(cfg.Sparsity)
	}
	q, err := f.startQAT()
	if err != nil {
		return nil, info, err
	}
	if (pr != nil || q) && cfg.FineTune > 0 {
		f.resetOptimizer()
		ft, err := f.phase(ctx, set, val, cfg.FineTune, cfg.Patience, rng)
		if err != nil {
			return nil, info, err
		}
		info.FineTune = &ft
	}
	if cfg.Prune == "structured" && pr != nil {
		net = net.Shrink()
	}
	return net, info, nil
}
