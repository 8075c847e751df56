package ensemble

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/stat"
)

// CV is a method's nested cross-validation report.
type CV struct {
	// Folds holds the scores on each outer fold k, fitted on the other
	// folds' rows, indexed by k.
	Folds []Scores `json:"folds"`

	// Mean holds the mean over Folds of each metric.
	Mean Scores `json:"mean"`

	// Std holds the sample standard deviation over Folds of each metric.
	Std Scores `json:"std"`
}

// NestedCV scores a method honestly. For every fold k it fits f on a
// Problem holding only the OOF rows of the other folds (their labels, folds
// and member probabilities, copied; no test data), then predicts the rows
// of fold k from their member probabilities alone and scores them against
// their labels. No fit ever sees a row it is scored on.
//
// The OOF probabilities were themselves produced by models that did not
// train on the row, so the score estimates how the fitted ensemble of the
// members' final models does on unseen data.
//
// p is validated first (errors wrap ErrProblem); errors from f are returned
// with the fold named.
func NestedCV(ctx context.Context, p *Problem, f Fitter) (CV, error) {
	if err := p.Validate(); err != nil {
		return CV{}, err
	}
	k, c := p.NumFolds(), p.Classes
	byFold := make([][]int, k)
	for i, fold := range p.Folds {
		byFold[fold] = append(byFold[fold], i)
	}
	var (
		g      gatherer
		score  gatherer
		fit    []int
		labels []int32
		buf    []float32
		dst    []float64
		cv     = CV{Folds: make([]Scores, k)}
	)
	for fold := range k {
		if err := ctx.Err(); err != nil {
			return CV{}, err
		}
		fit = fit[:0]
		for i, fi := range p.Folds {
			if fi != fold {
				fit = append(fit, i)
			}
		}
		comb, err := f.Fit(ctx, g.view(p, fit))
		if err != nil {
			return CV{}, fmt.Errorf("ensemble: nested cv: fold %d: %w", fold, err)
		}
		rows := byFold[fold]
		var probs [][]float32
		probs, buf = score.rowsOf(p, rows, buf)
		dst = grow(dst, len(rows)*c)
		comb.Predict(dst, probs)
		labels = labels[:0]
		for _, r := range rows {
			labels = append(labels, p.Labels[r])
		}
		s, err := Score(dst, labels, c)
		if err != nil {
			return CV{}, fmt.Errorf("ensemble: nested cv: fold %d: %w", fold, err)
		}
		cv.Folds[fold] = s
	}
	cv.Mean, cv.Std = summarize(cv.Folds)
	return cv, nil
}

// summarize returns the mean and sample standard deviation of each metric.
func summarize(folds []Scores) (mean, std Scores) {
	acc := make([]float64, len(folds))
	ll := make([]float64, len(folds))
	f1 := make([]float64, len(folds))
	for i, s := range folds {
		acc[i], ll[i], f1[i] = s.Accuracy, s.LogLoss, s.MacroF1
	}
	mean.Accuracy, std.Accuracy = stat.MeanStdDev(acc, nil)
	mean.LogLoss, std.LogLoss = stat.MeanStdDev(ll, nil)
	mean.MacroF1, std.MacroF1 = stat.MeanStdDev(f1, nil)
	return mean, std
}
