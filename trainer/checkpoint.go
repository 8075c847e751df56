package trainer

import (
	"fmt"
	"math/rand/v2"
	"reflect"
)

// A Checkpoint is the state of every fold's training at the end of its
// main phase (before pruning, quantization-aware fine-tuning and
// calibration): weights, optimizer moments and step count, and the random
// source. Cross-validating the same configuration for more epochs from it
// (CVOptions.Resume) gives bit for bit the result of training for those
// epochs from scratch, for configurations where Resumable holds. ASHA's
// promotions use it to continue a screen instead of starting over.
type Checkpoint struct {
	cfg       Config // the configuration, Epochs cleared
	epochs    int
	folds     int
	splitSeed uint64
	samples   int
	state     []*foldState
}

// foldState is one fold's training state.
type foldState struct {
	net                *MLP
	m1W, m2W, m1B, m2B [][]float32
	t                  int
	rng                []byte
}

// Epochs returns the number of main-phase epochs the checkpoint holds.
func (c *Checkpoint) Epochs() int { return c.epochs }

// Bytes estimates the checkpoint's memory.
func (c *Checkpoint) Bytes() int64 {
	var n int64
	for _, s := range c.state {
		for _, l := range s.net.Layers {
			n += int64(len(l.W)+len(l.B)+len(l.Mask)+len(l.BMask)) * 4
		}
		for _, v := range [][][]float32{s.m1W, s.m2W, s.m1B, s.m2B} {
			for _, x := range v {
				n += int64(len(x)) * 4
			}
		}
		n += int64(len(s.rng))
	}
	return n
}

// Resumable reports whether training cfg for more epochs from a checkpoint
// equals training it from scratch: a constant learning rate, no early
// stopping, and no gradual (AGP) pruning, whose schedules all depend on
// the total number of epochs.
func Resumable(cfg *Config) bool {
	return cfg.LRSchedule != "cosine" && cfg.Patience == 0 && !(cfg.Sparsity > 0 && cfg.Schedule == "agp")
}

// Continues reports whether c can resume cross-validating cfg with opt on
// samples training samples: the same configuration except for more epochs,
// the same folds and split.
func (c *Checkpoint) Continues(cfg Config, opt CVOptions, samples int) bool {
	if c == nil || !Resumable(&cfg) || cfg.Epochs <= c.epochs || opt.Folds != c.folds ||
		opt.SplitSeed != c.splitSeed || samples != c.samples || len(opt.Teacher) > 0 {
		return false
	}
	cfg.Epochs = 0
	return reflect.DeepEqual(cfg, c.cfg)
}

func newCheckpoint(cfg Config, opt CVOptions, samples int) *Checkpoint {
	epochs := cfg.Epochs
	cfg.Epochs = 0
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	return &Checkpoint{cfg: cfg, epochs: epochs, folds: opt.Folds, splitSeed: opt.SplitSeed, samples: samples,
		state: make([]*foldState, opt.Folds)}
}

// snapshot records f's state and the random source's.
func snapshot(f *fitter, src *rand.PCG) (*foldState, error) {
	b, err := src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	cp := func(v [][]float32) [][]float32 {
		out := make([][]float32, len(v))
		for i, x := range v {
			out[i] = append([]float32(nil), x...)
		}
		return out
	}
	return &foldState{net: f.net.Clone(), m1W: cp(f.m1W), m2W: cp(f.m2W), m1B: cp(f.m1B), m2B: cp(f.m2B), t: f.t, rng: b}, nil
}

// restore puts a snapshot's optimizer state and random source back.
func (s *foldState) restore(f *fitter, src *rand.PCG) error {
	if err := src.UnmarshalBinary(s.rng); err != nil {
		return fmt.Errorf("trainer: checkpoint: %w", err)
	}
	set := func(dst, from [][]float32) {
		for i := range dst {
			copy(dst[i], from[i])
		}
	}
	set(f.m1W, s.m1W)
	set(f.m2W, s.m2W)
	set(f.m1B, s.m1B)
	set(f.m2B, s.m2B)
	f.t = s.t
	return nil
}
