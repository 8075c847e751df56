package ensemble

import (
	"errors"
	"fmt"
	"math"
)

// RowTolerance is how far a probability row may sum away from 1 and still
// be accepted by Problem.Validate. Probabilities written as float32 by a
// softmax sum to 1 within about 1e-6; the looser bound admits rounding in
// artifact formats without admitting unnormalised scores.
const RowTolerance = 1e-3

// Member is one candidate model of an ensemble: its out-of-fold and test
// class probabilities and its packed size.
type Member struct {
	// ID names the member, usually after its trial. It must be non-empty
	// and unique within a Problem.
	ID string

	// OOF holds the member's out-of-fold class probabilities, N×C
	// row-major: row i is the prediction for training sample i by the fold
	// model that did not train on sample i. Every value is finite and
	// non-negative and every row sums to 1 within RowTolerance.
	OOF []float32

	// Test holds the member's class probabilities on the test split,
	// Ntest×C row-major, under the same rules as OOF. Nil means the member
	// has no test predictions; Final then fails with ErrNoTest.
	Test []float32

	// Bytes is the member's packed size in bytes as written to disk. It
	// counts against a size budget once, however often the member is
	// selected. Zero means the member is free; negative is invalid.
	Bytes int64
}

// Problem is everything an ensemble is fitted and scored on: the training
// labels, the cross-validation fold of each training sample, the optional
// test labels and the candidate members.
//
// The package never modifies a Problem; the same Problem may be shared by
// concurrent calls.
type Problem struct {
	// Classes is the number of classes C, at least 2.
	Classes int

	// Labels holds the class index of each of the N training samples, each
	// in [0, Classes).
	Labels []int32

	// Folds holds the cross-validation fold of each training sample, each
	// in [0, K) with every fold non-empty and K ≥ 2. K is derived as the
	// largest fold plus one.
	Folds []int

	// TestLabels holds the class index of each test sample. Nil means there
	// is no test split; members must then have nil Test.
	TestLabels []int32

	// Members are the candidate members, in a fixed order that methods
	// report weights in.
	Members []Member
}

// NumFolds returns K, the largest fold index plus one (0 with no samples).
func (p *Problem) NumFolds() int {
	k := -1
	for _, f := range p.Folds {
		k = max(k, f)
	}
	return k + 1
}

// OOF returns the members' out-of-fold probability matrices, in member
// order, in the form Combiner.Predict takes. The slices alias the members'.
func (p *Problem) OOF() [][]float32 {
	out := make([][]float32, len(p.Members))
	for j := range p.Members {
		out[j] = p.Members[j].OOF
	}
	return out
}

// Test returns the members' test probability matrices, in member order,
// in the form Combiner.Predict takes. The slices alias the members'.
func (p *Problem) Test() [][]float32 {
	out := make([][]float32, len(p.Members))
	for j := range p.Members {
		out[j] = p.Members[j].Test
	}
	return out
}

// Index returns the position of the member with the given id, or -1.
func (p *Problem) Index(id string) int {
	for j := range p.Members {
		if p.Members[j].ID == id {
			return j
		}
	}
	return -1
}

// Subset returns a Problem with the same samples and only the named members,
// in the order given. The member data is shared, not copied. An id not in p
// yields an error wrapping ErrUnknownMember; an id listed twice, one
// wrapping ErrProblem.
func (p *Problem) Subset(ids []string) (*Problem, error) {
	index := make(map[string]int, len(p.Members))
	for j := range p.Members {
		index[p.Members[j].ID] = j
	}
	sub := &Problem{
		Classes:    p.Classes,
		Labels:     p.Labels,
		Folds:      p.Folds,
		TestLabels: p.TestLabels,
		Members:    make([]Member, 0, len(ids)),
	}
	var errs []error
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		j, ok := index[id]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%w: %q", ErrUnknownMember, id))
		case seen[id]:
			errs = append(errs, fmt.Errorf("%w: member %q listed twice", ErrProblem, id))
		default:
			sub.Members = append(sub.Members, p.Members[j])
		}
		seen[id] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sub, nil
}

// Validate checks shapes and values and reports every problem found, each
// wrapping ErrProblem and naming the member, sample or fold at fault.
// NestedCV, Evaluate and Final call it; methods called directly only check
// shapes.
func (p *Problem) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrProblem}, args...)...))
	}
	c := p.Classes
	if c < 2 {
		bad("classes: %d, want at least 2", c)
	}
	n := len(p.Labels)
	if n == 0 {
		bad("no training labels")
	}
	if c >= 2 {
		if i, y := firstBadLabel(p.Labels, c); i >= 0 {
			bad("label %d: class %d not in [0, %d)", i, y, c)
		}
		if i, y := firstBadLabel(p.TestLabels, c); i >= 0 {
			bad("test label %d: class %d not in [0, %d)", i, y, c)
		}
	}
	if len(p.Folds) != n {
		bad("%d folds for %d labels", len(p.Folds), n)
	} else if n > 0 {
		errs = append(errs, checkFolds(p.Folds)...)
	}
	if len(p.Members) == 0 {
		bad("no members")
	}
	seen := make(map[string]bool, len(p.Members))
	for j := range p.Members {
		m := &p.Members[j]
		name := fmt.Sprintf("member %d", j)
		if m.ID == "" {
			bad("%s: empty id", name)
		} else {
			name = fmt.Sprintf("member %q", m.ID)
			if seen[m.ID] {
				bad("%s: duplicate id", name)
			}
			seen[m.ID] = true
		}
		if m.Bytes < 0 {
			bad("%s: negative size %d bytes", name, m.Bytes)
		}
		if c < 2 {
			continue
		}
		if err := checkProbs(m.OOF, n, c); err != nil {
			bad("%s: oof: %v", name, err)
		}
		switch {
		case m.Test == nil:
		case len(p.TestLabels) == 0:
			bad("%s: test probabilities without test labels", name)
		default:
			if err := checkProbs(m.Test, len(p.TestLabels), c); err != nil {
				bad("%s: test: %v", name, err)
			}
		}
	}
	return errors.Join(errs...)
}

func firstBadLabel(labels []int32, c int) (int, int32) {
	for i, y := range labels {
		if y < 0 || int(y) >= c {
			return i, y
		}
	}
	return -1, 0
}

func checkFolds(folds []int) []error {
	k := 0
	for i, f := range folds {
		if f < 0 {
			return []error{fmt.Errorf("%w: sample %d: negative fold %d", ErrProblem, i, f)}
		}
		k = max(k, f+1)
	}
	if k < 2 {
		return []error{fmt.Errorf("%w: %d fold, want at least 2", ErrProblem, k)}
	}
	if k > len(folds) {
		return []error{fmt.Errorf("%w: fold %d with only %d samples: folds must be 0..K-1, all non-empty", ErrProblem, k-1, len(folds))}
	}
	count := make([]int, k)
	for _, f := range folds {
		count[f]++
	}
	var errs []error
	for f, c := range count {
		if c == 0 {
			errs = append(errs, fmt.Errorf("%w: fold %d of %d is empty", ErrProblem, f, k))
		}
	}
	return errs
}

// checkProbs checks an n×c probability matrix and describes its first fault.
func checkProbs(probs []float32, n, c int) error {
	if len(probs) != n*c {
		return fmt.Errorf("%d values, want %d×%d = %d", len(probs), n, c, n*c)
	}
	for i := range n {
		row := probs[i*c : i*c+c]
		var sum float64
		for k, v := range row {
			x := float64(v)
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return fmt.Errorf("row %d: class %d: probability %v", i, k, v)
			}
			sum += x
		}
		if math.Abs(sum-1) > RowTolerance {
			return fmt.Errorf("row %d: sums to %.6g, want 1 ± %g", i, sum, RowTolerance)
		}
	}
	return nil
}

// checkShapes is the cheap O(N+M) check every Method.Fit runs before
// indexing, so a malformed Problem yields an error, never a panic.
func (p *Problem) checkShapes() error {
	c, n := p.Classes, len(p.Labels)
	switch {
	case c < 2:
		return fmt.Errorf("%w: classes: %d, want at least 2", ErrProblem, c)
	case n == 0:
		return fmt.Errorf("%w: no training labels", ErrProblem)
	case len(p.Members) == 0:
		return fmt.Errorf("%w: no members", ErrProblem)
	}
	if i, y := firstBadLabel(p.Labels, c); i >= 0 {
		return fmt.Errorf("%w: label %d: class %d not in [0, %d)", ErrProblem, i, y, c)
	}
	for j := range p.Members {
		m := &p.Members[j]
		if len(m.OOF) != n*c {
			return fmt.Errorf("%w: member %q: oof: %d values, want %d×%d = %d", ErrProblem, m.ID, len(m.OOF), n, c, n*c)
		}
		if m.Bytes < 0 {
			return fmt.Errorf("%w: member %q: negative size %d bytes", ErrProblem, m.ID, m.Bytes)
		}
	}
	return nil
}

// gatherer builds row-subset views of a Problem, reusing its buffer between
// calls. A view is valid until the next call.
type gatherer struct {
	buf     []float32
	labels  []int32
	folds   []int
	members []Member
	probs   [][]float32
}

// view returns p restricted to rows, with member OOF rows copied into
// contiguous storage and Test dropped.
func (g *gatherer) view(p *Problem, rows []int) *Problem {
	c, m, n := p.Classes, len(p.Members), len(rows)
	g.buf = grow(g.buf, m*n*c)
	g.labels = g.labels[:0]
	g.folds = g.folds[:0]
	for _, r := range rows {
		g.labels = append(g.labels, p.Labels[r])
		g.folds = append(g.folds, p.Folds[r])
	}
	g.members = g.members[:0]
	for j := range p.Members {
		src := p.Members[j].OOF
		dst := g.buf[j*n*c : (j+1)*n*c : (j+1)*n*c]
		for i, r := range rows {
			copy(dst[i*c:i*c+c], src[r*c:r*c+c])
		}
		g.members = append(g.members, Member{ID: p.Members[j].ID, OOF: dst, Bytes: p.Members[j].Bytes})
	}
	return &Problem{Classes: c, Labels: g.labels, Folds: g.folds, Members: g.members}
}

// rowsOf gathers rows of every member's OOF into contiguous matrices, the
// form Combiner.Predict takes, reusing g.probs.
func (g *gatherer) rowsOf(p *Problem, rows []int, buf []float32) ([][]float32, []float32) {
	c, m, n := p.Classes, len(p.Members), len(rows)
	buf = grow(buf, m*n*c)
	g.probs = g.probs[:0]
	for j := range p.Members {
		src := p.Members[j].OOF
		dst := buf[j*n*c : (j+1)*n*c : (j+1)*n*c]
		for i, r := range rows {
			copy(dst[i*c:i*c+c], src[r*c:r*c+c])
		}
		g.probs = append(g.probs, dst)
	}
	return g.probs, buf
}

// grow returns s resliced to length n, reallocating only when cap is short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
