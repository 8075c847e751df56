package data

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// labels returns len(counts[c]) samples of each class c, interleaved in a
// seeded random order.
func labels(counts []int, seed uint64) []int32 {
	var y []int32
	for c, n := range counts {
		for range n {
			y = append(y, int32(c))
		}
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
	return y
}

func TestStratifiedKFold(t *testing.T) {
	digits, err := Builtin("digits")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		y          []int32
		numClasses int
		k          int
	}{
		{"digits 5 folds", digits.Y, 10, 5},
		{"digits 10 folds", digits.Y, 10, 10},
		{"imbalanced", labels([]int{100, 7, 13, 3}, 1), 4, 3},
		{"exactly k per class", labels([]int{4, 4, 4}, 2), 3, 4},
		{"absent class", labels([]int{10, 0, 9}, 3), 3, 3},
		{"two folds", labels([]int{11, 5}, 4), 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			folds, err := StratifiedKFold(tc.y, tc.numClasses, tc.k, 42)
			if err != nil {
				t.Fatal(err)
			}
			checkFolds(t, tc.y, tc.numClasses, tc.k, folds)

			again, _ := StratifiedKFold(tc.y, tc.numClasses, tc.k, 42)
			if !slices.Equal(folds, again) {
				t.Error("same seed gave different folds")
			}
			other, _ := StratifiedKFold(tc.y, tc.numClasses, tc.k, 43)
			if slices.Equal(folds, other) {
				t.Error("seeds 42 and 43 gave the same folds")
			}
		})
	}
}

// checkFolds checks that every sample has one fold, each fold holds each
// class within one of proportional, and fold sizes differ by at most one.
func checkFolds(t *testing.T, y []int32, numClasses, k int, folds []int) {
	t.Helper()
	if len(folds) != len(y) {
		t.Fatalf("%d folds for %d samples", len(folds), len(y))
	}
	perFold := make([][]int, k)
	for f := range perFold {
		perFold[f] = make([]int, numClasses)
	}
	sizes := make([]int, k)
	total := make([]int, numClasses)
	for i, f := range folds {
		if f < 0 || f >= k {
			t.Fatalf("sample %d in fold %d", i, f)
		}
		perFold[f][y[i]]++
		sizes[f]++
		total[y[i]]++
	}
	for f := range k {
		for c := range numClasses {
			want := float64(total[c]) / float64(k)
			if got := float64(perFold[f][c]); math.Abs(got-want) >= 1 {
				t.Errorf("fold %d has %v of class %d, want %.2f ± 1", f, got, c, want)
			}
		}
	}
	if slices.Max(sizes)-slices.Min(sizes) > 1 {
		t.Errorf("fold sizes %v differ by more than one", sizes)
	}
}

func TestStratifiedKFoldErrors(t *testing.T) {
	y := labels([]int{10, 2, 3, 10}, 5)
	_, err := StratifiedKFold(y, 4, 5, 1)
	if !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("error %v, want ErrTooFewSamples", err)
	}
	var ce *ClassSizeError
	if !errors.As(err, &ce) || ce.Class != 1 || ce.Count != 2 || ce.Need != 5 {
		t.Errorf("ClassSizeError %+v", ce)
	}
	for _, w := range []string{"data: class 1 has 2 samples, fewer than the 5 folds", "class 2 has 3 samples"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}

	tests := []struct {
		name       string
		y          []int32
		numClasses int
		k          int
		want       string
	}{
		{"one fold", y, 4, 1, "1 folds, want at least 2"},
		{"label out of range", []int32{0, 1, 4}, 4, 2, "sample 2: label 4 outside [0,4)"},
		{"negative label", []int32{0, -1}, 2, 2, "sample 1: label -1 outside [0,2)"},
		{"no samples", nil, 2, 2, "no samples"},
		{"no classes", []int32{0}, 0, 2, "0 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StratifiedKFold(tc.y, tc.numClasses, tc.k, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestFoldIndices(t *testing.T) {
	folds := []int{2, 0, 1, 0, 2, 2}
	train, val := FoldIndices(folds, 3)
	wantVal := [][]int{{1, 3}, {2}, {0, 4, 5}}
	wantTrain := [][]int{{0, 2, 4, 5}, {0, 1, 3, 4, 5}, {1, 2, 3}}
	for f := range 3 {
		if !slices.Equal(val[f], wantVal[f]) || !slices.Equal(train[f], wantTrain[f]) {
			t.Errorf("fold %d: train %v val %v, want %v %v", f, train[f], val[f], wantTrain[f], wantVal[f])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("fold outside [0,k) did not panic")
		}
	}()
	FoldIndices([]int{0, 3}, 3)
}

func TestTrainTestSplit(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		frac   float64
	}{
		{"balanced", []int{50, 50, 50}, 0.2},
		{"imbalanced", []int{100, 7, 13, 3, 1}, 0.25},
		{"odd fraction", []int{33, 17, 9}, 1.0 / 3},
		{"large fraction", []int{10, 10}, 0.9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := labels(tc.counts, 9)
			k := len(tc.counts)
			train, test, err := TrainTestSplit(y, k, tc.frac, 7)
			if err != nil {
				t.Fatal(err)
			}
			all := append(slices.Clone(train), test...)
			slices.Sort(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("train and test do not partition the samples: %v", all)
				}
			}
			if !slices.IsSorted(train) || !slices.IsSorted(test) {
				t.Error("indices not ascending")
			}
			if want := int(math.Round(tc.frac * float64(len(y)))); tc.frac < 0.5 && len(test) != want {
				t.Errorf("%d test samples, want %d", len(test), want)
			}
			perClass := make([]int, k)
			inTrain := make([]int, k)
			for _, i := range test {
				perClass[y[i]]++
			}
			for _, i := range train {
				inTrain[y[i]]++
			}
			for c, n := range tc.counts {
				if exact := tc.frac * float64(n); math.Abs(float64(perClass[c])-exact) >= 1 {
					t.Errorf("class %d: %d of %d in test, want %.2f ± 1", c, perClass[c], n, exact)
				}
				if inTrain[c] == 0 {
					t.Errorf("class %d has no training sample", c)
				}
			}
			tr2, te2, _ := TrainTestSplit(y, k, tc.frac, 7)
			if !slices.Equal(tr2, train) || !slices.Equal(te2, test) {
				t.Error("same seed gave a different split")
			}
			_, te3, _ := TrainTestSplit(y, k, tc.frac, 8)
			if slices.Equal(te3, test) {
				t.Error("seeds 7 and 8 gave the same split")
			}
		})
	}

	for _, tc := range []struct {
		name string
		y    []int32
		frac float64
		want string
	}{
		{"zero fraction", []int32{0, 1}, 0, "test fraction 0: want a number in (0,1)"},
		{"whole", []int32{0, 1}, 1, "want a number in (0,1)"},
		{"NaN", []int32{0, 1}, math.NaN(), "want a number in (0,1)"},
		{"empty test", []int32{0, 0, 1}, 0.1, "leaves 3 for training and 0 for test"},
		{"bad label", []int32{0, 5}, 0.5, "label 5 outside [0,2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := TrainTestSplit(tc.y, 2, tc.frac, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestHoldOut(t *testing.T) {
	y := labels([]int{40, 20, 10}, 11)
	// A training fold: every index not divisible by 5, shuffled.
	var idx []int
	for i := range y {
		if i%5 != 0 {
			idx = append(idx, i)
		}
	}
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })

	rest, held := HoldOut(idx, y, 3, 0.25, 5)
	if len(rest)+len(held) != len(idx) || len(held) != int(math.Round(0.25*float64(len(idx)))) {
		t.Fatalf("%d rest + %d held from %d", len(rest), len(held), len(idx))
	}
	pos := map[int]int{}
	for p, i := range idx {
		pos[i] = p
	}
	for _, part := range [][]int{rest, held} {
		for j, i := range part {
			p, ok := pos[i]
			if !ok {
				t.Fatalf("index %d is not in idx", i)
			}
			if j > 0 && pos[part[j-1]] > p {
				t.Fatal("HoldOut does not keep idx's order")
			}
			delete(pos, i)
		}
	}
	counts, heldCounts := make([]int, 3), make([]int, 3)
	for _, i := range idx {
		counts[y[i]]++
	}
	for _, i := range held {
		heldCounts[y[i]]++
	}
	for c := range 3 {
		if exact := 0.25 * float64(counts[c]); math.Abs(float64(heldCounts[c])-exact) >= 1 {
			t.Errorf("class %d: %d of %d held, want %.2f ± 1", c, heldCounts[c], counts[c], exact)
		}
	}
	r2, h2 := HoldOut(idx, y, 3, 0.25, 5)
	if !slices.Equal(r2, rest) || !slices.Equal(h2, held) {
		t.Error("same seed gave a different hold-out")
	}

	r0, h0 := HoldOut(idx, y, 3, 0, 5)
	if !slices.Equal(r0, idx) || h0 != nil {
		t.Error("fraction 0 held samples out")
	}
	r0[0] = -1
	if idx[0] == -1 {
		t.Error("fraction 0 returned idx itself, not a copy")
	}
}
