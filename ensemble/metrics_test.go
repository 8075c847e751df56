package ensemble

import (
	"errors"
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name    string
		probs   []float64
		labels  []int32
		classes int
		want    Scores
	}{
		{
			name:    "perfect",
			probs:   []float64{1, 0, 0, 1},
			labels:  []int32{0, 1},
			classes: 2,
			want:    Scores{Accuracy: 1, LogLoss: 0, MacroF1: 1},
		},
		{
			// Predictions 0, 0, 1, 1 (the second row ties, so class 0) for
			// labels 0, 1, 1, 2. Class 0: tp 1, fp 1, fn 0 → F1 2/3.
			// Class 1: tp 1, fp 1, fn 1 → 1/2. Class 2: tp 0, fn 1 → 0.
			// Log loss: −(ln .6 + ln .5 + ln .7 + ln .1)/4.
			name: "three classes",
			probs: []float64{
				.6, .3, .1,
				.5, .5, 0,
				.2, .7, .1,
				.4, .5, .1,
			},
			labels:  []int32{0, 1, 1, 2},
			classes: 3,
			want: Scores{
				Accuracy: 0.5,
				LogLoss:  -(math.Log(.6) + math.Log(.5) + math.Log(.7) + math.Log(.1)) / 4,
				MacroF1:  (2.0/3 + 0.5 + 0) / 3,
			},
		},
		{
			// Class 2 never occurs and is never predicted: it is left out
			// of the macro average. A zero probability clips at 1e-15.
			name:    "absent class and clipping",
			probs:   []float64{0, 1, 0, 1, 0, 0},
			labels:  []int32{0, 0},
			classes: 3,
			want: Scores{
				Accuracy: 0.5,
				LogLoss:  -math.Log(1e-15) / 2,
				MacroF1:  (2.0/3 + 0) / 2,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Score(tc.probs, tc.labels, tc.classes)
			if err != nil {
				t.Fatal(err)
			}
			if !closeScores(got, tc.want, 1e-12) {
				t.Errorf("Score = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestScoreErrors(t *testing.T) {
	tests := []struct {
		name    string
		probs   []float64
		labels  []int32
		classes int
	}{
		{"no samples", nil, nil, 2},
		{"shape", []float64{1, 0, 0}, []int32{0, 1}, 2},
		{"label", []float64{1, 0}, []int32{2}, 2},
		{"classes", []float64{}, []int32{0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Score(tc.probs, tc.labels, tc.classes); !errors.Is(err, ErrProblem) {
				t.Errorf("err = %v, want ErrProblem", err)
			}
		})
	}
}

func closeScores(a, b Scores, tol float64) bool {
	return math.Abs(a.Accuracy-b.Accuracy) <= tol &&
		math.Abs(a.LogLoss-b.LogLoss) <= tol &&
		math.Abs(a.MacroF1-b.MacroF1) <= tol
}
