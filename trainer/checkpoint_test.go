package trainer

import (
	"context"
	"slices"
	"testing"
)

// TestResumeEqualsTrainingFromScratch pins the promise ASHA relies on:
// cross-validating for 4 epochs with a checkpoint and resuming to 10 gives
// bit for bit the folds, out-of-fold probabilities and packed sizes of
// training for 10 epochs from scratch — dense, pruned and quantized with
// QAT, bagged on a random subspace, and with SGD.
func TestResumeEqualsTrainingFromScratch(t *testing.T) {
	ds := digitsOrSkip(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"dense adam", func(*Config) {}},
		{"pruned 4-bit qat", func(c *Config) { c.Sparsity, c.Bits, c.QAT, c.FineTune = 0.7, 4, true, 2 }},
		{"bagged subspace", func(c *Config) { c.Bootstrap, c.FeatureFraction = true, 0.6 }},
		{"sgd structured", func(c *Config) {
			c.Optimizer, c.LR, c.Sparsity, c.Prune, c.FineTune = "sgd", 0.05, 0.3, "structured", 1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hidden, cfg.Batch, cfg.Seed = []int{24, 12}, 64, 7
			tc.edit(&cfg)
			opt := CVOptions{Folds: 3, SplitSeed: 2, Parallel: 3}

			full := cfg
			full.Epochs = 10
			want, err := CrossValidate(ctx, full, ds, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			if want.Checkpoint != nil {
				t.Error("a checkpoint was kept without CVOptions.Checkpoint")
			}

			short := cfg
			short.Epochs = 4
			keep := opt
			keep.Checkpoint = true
			screen, err := CrossValidate(ctx, short, ds, nil, keep)
			if err != nil {
				t.Fatal(err)
			}
			ck := screen.Checkpoint
			if ck == nil || ck.Epochs() != 4 || ck.Bytes() <= 0 {
				t.Fatalf("checkpoint %+v", ck)
			}
			if !ck.Continues(full, opt, ds.N) {
				t.Fatal("the checkpoint does not continue the same configuration at more epochs")
			}
			res := opt
			res.Resume = ck
			got, err := CrossValidate(ctx, full, ds, nil, res)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.OOF, want.OOF) {
				t.Error("out-of-fold probabilities differ from training from scratch")
			}
			for k := range want.Folds {
				w, g := want.Folds[k], got.Folds[k]
				if w.Metrics != g.Metrics || w.Info.Train.Epochs != g.Info.Train.Epochs || w.Info.Train.TrainLoss != g.Info.Train.TrainLoss {
					t.Errorf("fold %d: resumed %+v / %+v, from scratch %+v / %+v", k, g.Metrics, g.Info.Train, w.Metrics, w.Info.Train)
				}
			}
			// The checkpoint is not consumed: a second resume agrees too.
			again, err := CrossValidate(ctx, full, ds, nil, res)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.OOF, want.OOF) {
				t.Error("resuming twice from one checkpoint differs")
			}
		})
	}
}

func TestCheckpointContinuesOnlyItsConfiguration(t *testing.T) {
	ds := digitsOrSkip(t)
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Epochs = []int{8}, 2
	opt := CVOptions{Folds: 2, SplitSeed: 1, Checkpoint: true}
	rep, err := CrossValidate(context.Background(), cfg, ds, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	ck := rep.Checkpoint
	more := cfg
	more.Epochs = 6
	if !ck.Continues(more, CVOptions{Folds: 2, SplitSeed: 1}, ds.N) {
		t.Fatal("does not continue the same configuration")
	}
	for name, edit := range map[string]func(*Config, *CVOptions){
		"fewer epochs":   func(c *Config, _ *CVOptions) { c.Epochs = 2 },
		"another lr":     func(c *Config, _ *CVOptions) { c.LR *= 2 },
		"another seed":   func(c *Config, _ *CVOptions) { c.Seed++ },
		"another width":  func(c *Config, _ *CVOptions) { c.Hidden = []int{9} },
		"cosine":         func(c *Config, _ *CVOptions) { c.LRSchedule = "cosine" },
		"early stopping": func(c *Config, _ *CVOptions) { c.Patience = 3 },
		"agp":            func(c *Config, _ *CVOptions) { c.Sparsity, c.Schedule = 0.5, "agp" },
		"another split":  func(_ *Config, o *CVOptions) { o.SplitSeed = 2 },
		"more folds":     func(_ *Config, o *CVOptions) { o.Folds = 3 },
		"distilled":      func(_ *Config, o *CVOptions) { o.Teacher = make([]float32, ds.N*10) },
	} {
		c, o := more, CVOptions{Folds: 2, SplitSeed: 1}
		c.Hidden = slices.Clone(c.Hidden)
		edit(&c, &o)
		if ck.Continues(c, o, ds.N) {
			t.Errorf("%s: the checkpoint claims to continue it", name)
		}
	}
	if ck.Continues(more, CVOptions{Folds: 2, SplitSeed: 1}, ds.N-1) {
		t.Error("continues on other data")
	}
	bad := CVOptions{Folds: 2, SplitSeed: 1, Resume: ck}
	other := more
	other.LR *= 2
	if _, err := CrossValidate(context.Background(), other, ds, nil, bad); err == nil {
		t.Error("CrossValidate resumed another configuration from the checkpoint")
	}
	cos := cfg
	cos.LRSchedule = "cosine"
	rep, err = CrossValidate(context.Background(), cos, ds, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checkpoint != nil {
		t.Error("kept a checkpoint of a cosine schedule, which cannot resume")
	}
}
