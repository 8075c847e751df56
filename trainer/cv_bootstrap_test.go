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
