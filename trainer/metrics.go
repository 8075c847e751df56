package trainer

import "math"

// Metrics scores class probabilities against labels.
type Metrics struct {
	// Accuracy is the share of samples whose most probable class is the
	// label.
	Accuracy float64 `json:"accuracy"`
	// MacroF1 is the unweighted mean over classes of F1; a class that is
	// neither present nor predicted is left out of the mean.
	MacroF1 float64 `json:"macro_f1"`
	// LogLoss is the mean negative log-probability of the label, with
	// probabilities clipped to [1e-15, 1].
	LogLoss float64 `json:"log_loss"`
}

// Argmax returns the index of the largest entry of p (the first on ties).
func Argmax(p []float32) int {
	k := 0
	for j, v := range p {
		if v > p[k] {
			k = j
		}
	}
	return k
}

// Score computes Metrics for n×c probabilities and n labels.
func Score(probs []float32, y []int32, c int) Metrics {
	n := len(y)
	if n == 0 {
		return Metrics{}
	}
	tp := make([]int, c)
	pred := make([]int, c)
	actual := make([]int, c)
	correct := 0
	var ll float64
	for i, yi := range y {
		p := probs[i*c : (i+1)*c]
		k := Argmax(p)
		pred[k]++
		actual[yi]++
		if k == int(yi) {
			correct++
			tp[k]++
		}
		ll -= math.Log(min(max(float64(p[yi]), 1e-15), 1))
	}
	var f1 float64
	classes := 0
	for k := 0; k < c; k++ {
		if pred[k]+actual[k] == 0 {
			continue
		}
		classes++
		f1 += 2 * float64(tp[k]) / float64(pred[k]+actual[k])
	}
	return Metrics{
		Accuracy: float64(correct) / float64(n),
		MacroF1:  f1 / float64(max(classes, 1)),
		LogLoss:  ll / float64(n),
	}
}

// Summary is a mean and sample standard deviation (n−1 denominator) over
// folds.
type Summary struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Summarize returns the mean and sample standard deviation of xs.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	mean := s / float64(len(xs))
	if len(xs) < 2 {
		return Summary{Mean: mean}
	}
	var v float64
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return Summary{Mean: mean, Std: math.Sqrt(v / float64(len(xs)-1))}
}
