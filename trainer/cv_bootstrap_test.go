package trainer

import (
	"context"
	"slices"
	"testing"

	"github.com/consort-ml/consort/trainer/data"
)

// Bootstrap members differ from plain ones and from each other, and stay
// deterministic for a seed.
func TestBootstrapMembers(t *testing.T) {
	ds, err := data.Builtin("iris")
	if err != nil {
		t.Fatal(err)
	}
	run := func(boot bool, seed uint64) []float32 {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Epochs, cfg.LR, cfg.Bootstrap, cfg.Seed = []int{8}, 20, 0.01, boot, seed
		rep, err := CrossValidate(context.Background(), cfg, ds, nil, CVOptions{Folds: 3, SplitSeed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accuracy.Mean < 0.8 {
			t.Fatalf("bootstrap=%v: CV accuracy %.3f", boot, rep.Accuracy.Mean)
		}
		return rep.OOF
	}
	plain, a, a2, b := run(false, 1), run(true, 1), run(true, 1), run(true, 2)
	if !slices.Equal(a, a2) {
		t.Fatal("bootstrap is not deterministic for a seed")
	}
	if slices.Equal(a, plain) || slices.Equal(a, b) {
		t.Fatal("bootstrap changed nothing")
	}
}

// The random subspace keeps the asked share of input features: the other
// first-layer columns are exactly zero after training, and the packed
// model stores nothing for them.
func TestFeatureFraction(t *testing.T) {
	ds, err := data.Builtin("digits")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Epochs, cfg.FeatureFraction = []int{16}, 5, 0.5
	rep, err := CrossValidate(context.Background(), cfg, ds, nil, CVOptions{Folds: 0, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Model.Net.Layers[0]
	used := 0
	for c := 0; c < l.In; c++ {
		for j := 0; j < l.Out; j++ {
			if l.W[j*l.In+c] != 0 {
				used++
				break
			}
		}
	}
	if used != 32 {
		t.Fatalf("%d of 64 input columns used, want 32", used)
	}
	full := DefaultConfig()
	full.Hidden, full.Epochs = []int{16}, 5
	all, err := CrossValidate(context.Background(), full, ds, nil, CVOptions{Folds: 0, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size.Bytes >= all.Size.Bytes {
		t.Fatalf("half the features packs to %d bytes, all of them %d", rep.Size.Bytes, all.Size.Bytes)
	}
	bad := DefaultConfig()
	bad.FeatureFraction = 1.5
	if err := bad.Validate(); err == nil {
		t.Fatal("feature_fraction 1.5 accepted")
	}
}
