package trainer

import (
	"context"
	"os"
	"testing"

	"github.com/consort-ml/consort/trainer/data"
)

// The bar: digits, 64-64-32-10, 40 epochs, 5-fold CV over all
// samples (the anchors' protocol), mean accuracy ≥ 0.975.
func TestDigitsCVAccuracyBar(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 5 models")
	}
	ds, err := data.Builtin("digits")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Epochs = []int{64, 32}, 40
	rep, err := CrossValidate(context.Background(), cfg, ds, nil, CVOptions{Folds: 5, SplitSeed: 1, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("digits 5-fold CV accuracy %.4f ± %.4f", rep.Accuracy.Mean, rep.Accuracy.Std)
	if rep.Accuracy.Mean < 0.975 {
		t.Fatalf("digits CV accuracy %.4f < 0.975", rep.Accuracy.Mean)
	}
	// OOF probabilities cover every sample and score like the folds.
	if m := Score(rep.OOF, rep.Labels, rep.Classes); m.Accuracy < rep.Accuracy.Mean-0.005 || m.Accuracy > rep.Accuracy.Mean+0.005 {
		t.Fatalf("OOF accuracy %.4f far from the fold mean %.4f", m.Accuracy, rep.Accuracy.Mean)
	}
}

// The bar: Fashion-MNIST, 784-256-128-10, 10 epochs, test accuracy
// ≥ 0.88. Minutes under the race detector, so it runs only without it.
func TestFashionMNISTTestAccuracyBar(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if testing.Short() || raceEnabled {
		t.Skip("trains on 60,000 samples; run without -race and -short")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
	}
	train, test, err := data.Load(dir, data.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Epochs, cfg.Batch = []int{256, 128}, 10, 128
	rep, err := CrossValidate(context.Background(), cfg, train, test, CVOptions{Folds: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Fashion-MNIST test accuracy %.4f, %.0f samples/s", rep.Test.Accuracy, rep.RefitInfo.Train.SamplesPerSecond)
	if rep.Test.Accuracy < 0.88 {
		t.Fatalf("Fashion-MNIST test accuracy %.4f < 0.88", rep.Test.Accuracy)
	}
}
