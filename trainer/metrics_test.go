package trainer

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	// 4 samples, 3 classes; predictions: 0, 1, 1, 2; labels: 0, 1, 2, 2.
	probs := []float32{
		0.7, 0.2, 0.1,
		0.1, 0.8, 0.1,
		0.2, 0.5, 0.3,
		0.1, 0.1, 0.8,
	}
	y := []int32{0, 1, 2, 2}
	m := Score(probs, y, 3)
	if m.Accuracy != 0.75 {
		t.Errorf("accuracy %v, want 0.75", m.Accuracy)
	}
	// F1: class 0: 1; class 1: tp 1, pred 2, actual 1 → 2/3; class 2: tp 1, pred 1, actual 2 → 2/3.
	if want := (1 + 2.0/3 + 2.0/3) / 3; math.Abs(m.MacroF1-want) > 1e-12 {
		t.Errorf("macro-F1 %v, want %v", m.MacroF1, want)
	}
	want := -(math.Log(0.7) + math.Log(0.8) + math.Log(0.3) + math.Log(0.8)) / 4
	if math.Abs(m.LogLoss-want) > 1e-6 {
		t.Errorf("log loss %v, want %v", m.LogLoss, want)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4})
	if s.Mean != 2.5 || math.Abs(s.Std-math.Sqrt(5.0/3)) > 1e-12 {
		t.Fatalf("got %+v", s)
	}
}
