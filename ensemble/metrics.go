package ensemble

import (
	"fmt"
	"math"
)

// probFloor is the probability below which log loss clips, as scikit-learn
// does, so a confident mistake costs about 34.5 nats rather than +Inf.
const probFloor = 1e-15

// Scores are the classification metrics reported for every ensemble.
type Scores struct {
	// Accuracy is the fraction of samples whose most probable class (the
	// lowest class index among ties) is the label.
	Accuracy float64 `json:"accuracy"`

	// LogLoss is the mean negative natural log of the probability given to
	// the label, clipped below at 1e-15.
	LogLoss float64 `json:"log_loss"`

	// MacroF1 is the unweighted mean over classes of the F1 score, over the
	// classes that occur among the labels or the predictions (as
	// scikit-learn's f1_score(average="macro")).
	MacroF1 float64 `json:"macro_f1"`
}

// Score computes Scores of n×C row-major probabilities against n labels.
// A length mismatch or a label out of range is an error wrapping
// ErrProblem.
func Score(probs []float64, labels []int32, classes int) (Scores, error) {
	n := len(labels)
	switch {
	case classes < 1:
		return Scores{}, fmt.Errorf("%w: score: %d classes", ErrProblem, classes)
	case n == 0:
		return Scores{}, fmt.Errorf("%w: score: no samples", ErrProblem)
	case len(probs) != n*classes:
		return Scores{}, fmt.Errorf("%w: score: %d probabilities for %d samples × %d classes", ErrProblem, len(probs), n, classes)
	}
	if i, y := firstBadLabel(labels, classes); i >= 0 {
		return Scores{}, fmt.Errorf("%w: score: label %d: class %d not in [0, %d)", ErrProblem, i, y, classes)
	}
	// tp, fp, fn per class, in one allocation.
	counts := make([]int, 3*classes)
	tp, fp, fn := counts[:classes], counts[classes:2*classes], counts[2*classes:]
	var correct int
	var loss float64
	for i, y := range labels {
		row := probs[i*classes : i*classes+classes]
		pred := argmax64(row)
		if pred == int(y) {
			correct++
			tp[y]++
		} else {
			fp[pred]++
			fn[y]++
		}
		loss -= math.Log(max(row[y], probFloor))
	}
	var f1 float64
	var present int
	for k := range classes {
		if tp[k]+fp[k]+fn[k] == 0 {
			continue
		}
		present++
		f1 += 2 * float64(tp[k]) / float64(2*tp[k]+fp[k]+fn[k])
	}
	return Scores{
		Accuracy: float64(correct) / float64(n),
		LogLoss:  loss / float64(n),
		MacroF1:  f1 / float64(present),
	}, nil
}

// argmax64 returns the index of the largest value, the first among ties.
func argmax64(row []float64) int {
	best := 0
	for k := 1; k < len(row); k++ {
		if row[k] > row[best] {
			best = k
		}
	}
	return best
}

// argmax32 is argmax64 for float32 rows.
func argmax32(row []float32) int {
	best := 0
	for k := 1; k < len(row); k++ {
		if row[k] > row[best] {
			best = k
		}
	}
	return best
}

// memberScores scores each member of p on its own over all of p's rows:
// accuracy and log loss, without allocating per member beyond the result.
func memberScores(p *Problem) []Scores {
	c, n := p.Classes, len(p.Labels)
	out := make([]Scores, len(p.Members))
	for j := range p.Members {
		probs := p.Members[j].OOF
		var correct int
		var loss float64
		for i, y := range p.Labels {
			row := probs[i*c : i*c+c]
			if argmax32(row) == int(y) {
				correct++
			}
			loss -= math.Log(max(float64(row[y]), probFloor))
		}
		out[j] = Scores{Accuracy: float64(correct) / float64(n), LogLoss: loss / float64(n)}
	}
	return out
}
