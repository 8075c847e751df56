package data

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// pcgStream is the PCG stream (increment) every splitter seeds with, so a
// seed alone fixes the result.
const pcgStream = 0x636f6e736f7274 // "consort"

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, pcgStream)) }

// StratifiedKFold assigns each sample a fold in [0,k) so that every fold
// holds each class in proportion: each class is shuffled (seeded by seed)
// and dealt round-robin across the folds, the starting fold rotating from
// class to class so fold sizes differ by at most one. Per fold a class has
// ⌊n/k⌋ or ⌈n/k⌉ of its n samples. The same inputs and seed always give
// the same folds.
//
// Labels must lie in [0,numClasses). A class with at least one but fewer
// than k samples returns *ClassSizeError (matching ErrTooFewSamples), one
// per such class joined with errors.Join; classes without samples are
// ignored.
func StratifiedKFold(y []int32, numClasses, k int, seed uint64) ([]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("data: stratified k-fold: %d folds, want at least 2", k)
	}
	byClass, err := groupByClass(y, numClasses)
	if err != nil {
		return nil, err
	}
	var errs []error
	for c, idx := range byClass {
		if len(idx) > 0 && len(idx) < k {
			errs = append(errs, &ClassSizeError{Class: c, Count: len(idx), Need: k})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rng := newRand(seed)
	folds := make([]int, len(y))
	start := 0
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for j, i := range idx {
			folds[i] = (start + j) % k
		}
		start = (start + len(idx)) % k
	}
	return folds, nil
}

// FoldIndices turns a fold assignment (as from StratifiedKFold) into, for
// each fold f, the training indices (every sample not in f) and the
// validation indices (the samples in f), both ascending. It panics if a
// fold lies outside [0,k).
func FoldIndices(folds []int, k int) (train, val [][]int) {
	sizes := make([]int, k)
	for i, f := range folds {
		if f < 0 || f >= k {
			panic(fmt.Sprintf("data: FoldIndices: sample %d in fold %d, outside [0,%d)", i, f, k))
		}
		sizes[f]++
	}
	train = make([][]int, k)
	val = make([][]int, k)
	for f := range k {
		train[f] = make([]int, 0, len(folds)-sizes[f])
		val[f] = make([]int, 0, sizes[f])
	}
	for i, fi := range folds {
		for f := range k {
			if f == fi {
				val[f] = append(val[f], i)
			} else {
				train[f] = append(train[f], i)
			}
		}
	}
	return train, val
}

// TrainTestSplit holds out a stratified test split of about testFraction
// of the samples, at random (seeded by seed): each class contributes
// ⌊p·n⌋ or ⌈p·n⌉ of its n samples, p = testFraction, so that the total is
// round(p·N) where the classes allow, and keeps at least one for training. Both index lists are ascending.
// testFraction must lie in (0,1) and leave both splits non-empty.
func TrainTestSplit(y []int32, numClasses int, testFraction float64, seed uint64) (train, test []int, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("data: test fraction %v: want a number in (0,1)", testFraction)
	}
	byClass, err := groupByClass(y, numClasses)
	if err != nil {
		return nil, nil, err
	}
	held := holdOut(byClass, len(y), testFraction, newRand(seed))
	for i, h := range held {
		if h {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	if len(test) == 0 || len(train) == 0 {
		return nil, nil, fmt.Errorf("data: test fraction %v of %d samples leaves %d for training and %d for test", testFraction, len(y), len(train), len(test))
	}
	return train, test, nil
}

// HoldOut splits the samples idx (indices into y) into rest and held,
// held being a stratified random fraction of them chosen as in
// TrainTestSplit (seeded by seed); both keep idx's order. It carves an
// early-stopping validation split from a training fold. A fraction ≤ 0
// holds nothing out; held may also be empty when idx is small. It panics
// if fraction ≥ 1 or a label lies outside [0,numClasses), as those are the
// caller's mistakes.
func HoldOut(idx []int, y []int32, numClasses int, fraction float64, seed uint64) (rest, held []int) {
	if fraction >= 1 {
		panic(fmt.Sprintf("data: HoldOut fraction %v, want < 1", fraction))
	}
	if !(fraction > 0) {
		return slices.Clone(idx), nil
	}
	sub := make([]int32, len(idx))
	for p, i := range idx {
		sub[p] = y[i]
	}
	byClass, err := groupByClass(sub, numClasses)
	if err != nil {
		panic(err.Error())
	}
	mark := holdOut(byClass, len(idx), fraction, newRand(seed))
	for p, i := range idx {
		if mark[p] {
			held = append(held, i)
		} else {
			rest = append(rest, i)
		}
	}
	return rest, held
}

// groupByClass lists, per class, the positions of its samples in y.
func groupByClass(y []int32, numClasses int) ([][]int, error) {
	if numClasses < 1 {
		return nil, fmt.Errorf("data: %d classes, want at least 1", numClasses)
	}
	if len(y) == 0 {
		return nil, errors.New("data: no samples to split")
	}
	counts := make([]int, numClasses)
	for i, c := range y {
		if c < 0 || int(c) >= numClasses {
			return nil, fmt.Errorf("data: sample %d: label %d outside [0,%d)", i, c, numClasses)
		}
		counts[c]++
	}
	byClass := make([][]int, numClasses)
	for c, n := range counts {
		byClass[c] = make([]int, 0, n)
	}
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	return byClass, nil
}

// holdOut marks, among n positions grouped by class, a stratified random
// fraction: each class gets ⌊fraction·size⌋ positions, and the classes
// with the largest remainders one more until round(fraction·n) are marked,
// every class keeping at least one position unmarked. byClass is shuffled
// in place.
func holdOut(byClass [][]int, n int, fraction float64, rng *rand.Rand) []bool {
	target := int(math.Round(fraction * float64(n)))
	type rem struct {
		class int
		frac  float64
	}
	take := make([]int, len(byClass))
	rems := make([]rem, 0, len(byClass))
	total := 0
	for c, idx := range byClass {
		exact := fraction * float64(len(idx))
		take[c] = min(int(exact), max(len(idx)-1, 0))
		total += take[c]
		rems = append(rems, rem{c, exact - math.Floor(exact)})
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.frac, a.frac) })
	for _, r := range rems {
		if total >= target {
			break
		}
		if r.frac > 0 && take[r.class] < len(byClass[r.class])-1 {
			take[r.class]++
			total++
		}
	}
	mark := make([]bool, n)
	for c, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, p := range idx[:take[c]] {
			mark[p] = true
		}
	}
	return mark
}
