package ensemble

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// Fitter is an ensemble method: it fits a Combiner on every row of a
// Problem's out-of-fold predictions. NestedCV hands it a Problem holding only
// the rows it may learn from, so a Fitter never needs to, and cannot, skip
// rows itself.
//
// Fit returns an error wrapping ErrProblem for malformed input, ErrBudget
// when no member fits its Limits, or ctx.Err() when cancelled.
type Fitter interface {
	Fit(ctx context.Context, p *Problem) (Combiner, error)
}

// Combiner is a fitted ensemble.
type Combiner interface {
	// Predict writes into dst (n×C, row-major) the combined class
	// probabilities of n samples, given probs[j], the n×C probabilities of
	// member j of the Problem the combiner was fitted on, for every member
	// in that order. Rows of dst sum to 1. Mismatched shapes are a
	// programming error and panic.
	Predict(dst []float64, probs [][]float32)

	// Used returns the positions of the members the combiner reads,
	// ascending. Only these count against a size budget.
	Used() []int
}

// Compile-time checks.
var (
	_ Fitter = Average{}
	_ Fitter = Vote{}
	_ Fitter = InverseError{}
	_ Fitter = Fixed{}
	_ Fitter = Optimized{}
	_ Fitter = Caruana{}
	_ Fitter = Stacking{}

	_ Combiner = (*Weighted)(nil)
	_ Combiner = (*Majority)(nil)
	_ Combiner = (*Stacked)(nil)
)

// Limits constrain which members an ensemble may use. Every method respects
// them: a member counts once however often it is selected.
type Limits struct {
	// MaxBytes caps the sum of the used members' packed sizes. Zero means
	// no budget.
	MaxBytes int64

	// MaxMembers caps the number of distinct members used. Zero means no
	// limit.
	MaxMembers int
}

// admits reports whether an ensemble of count members totalling bytes is
// within l.
func (l Limits) admits(bytes int64, count int) bool {
	return (l.MaxBytes == 0 || bytes <= l.MaxBytes) && (l.MaxMembers == 0 || count <= l.MaxMembers)
}

func (l Limits) check() error {
	if l.MaxBytes < 0 {
		return fmt.Errorf("%w: max bytes: %d is negative", ErrSpec, l.MaxBytes)
	}
	if l.MaxMembers < 0 {
		return fmt.Errorf("%w: max members: %d is negative", ErrSpec, l.MaxMembers)
	}
	return nil
}

// preselect chooses the members a fixed-member method uses: all of them when
// they fit l, otherwise greedily by individual accuracy on p's rows (ties by
// log loss, then position), skipping any member that would break the budget,
// until the member limit is reached. It returns positions ascending.
func preselect(p *Problem, l Limits) ([]int, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	all := make([]int, len(p.Members))
	var total int64
	for j := range all {
		all[j] = j
		total += p.Members[j].Bytes
	}
	if l.admits(total, len(all)) {
		return all, nil
	}
	scores := memberScores(p)
	slices.SortStableFunc(all, func(a, b int) int {
		if c := cmp.Compare(scores[b].Accuracy, scores[a].Accuracy); c != 0 {
			return c
		}
		return cmp.Compare(scores[a].LogLoss, scores[b].LogLoss)
	})
	var chosen []int
	var bytes int64
	for _, j := range all {
		if !l.admits(bytes+p.Members[j].Bytes, len(chosen)+1) {
			continue
		}
		chosen = append(chosen, j)
		bytes += p.Members[j].Bytes
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("%w: no member fits %d bytes", ErrBudget, l.MaxBytes)
	}
	slices.Sort(chosen)
	return chosen, nil
}

// Weighted is a weighted average of member probabilities, the Combiner of
// every weighted method.
type Weighted struct {
	// Classes is the number of classes C.
	Classes int

	// Weights holds one weight per member of the Problem fitted on, in
	// member order; they are non-negative and sum to 1. A member with
	// weight zero is unused.
	Weights []float64
}

// Predict writes Σ_j Weights[j]·probs[j] into dst.
func (w *Weighted) Predict(dst []float64, probs [][]float32) {
	if len(probs) != len(w.Weights) {
		panic(fmt.Sprintf("ensemble: weighted predict: %d matrices for %d members", len(probs), len(w.Weights)))
	}
	clear(dst)
	for j, wj := range w.Weights {
		if wj == 0 {
			continue
		}
		src := probs[j]
		if len(src) != len(dst) {
			panic(fmt.Sprintf("ensemble: weighted predict: member %d: %d values, want %d", j, len(src), len(dst)))
		}
		for i, v := range src {
			dst[i] += wj * float64(v)
		}
	}
}

// Used returns the members with positive weight.
func (w *Weighted) Used() []int {
	var used []int
	for j, wj := range w.Weights {
		if wj > 0 {
			used = append(used, j)
		}
	}
	return used
}

// uniform returns weights 1/len(chosen) on chosen members out of m.
func uniform(m int, chosen []int) []float64 {
	w := make([]float64, m)
	for _, j := range chosen {
		w[j] = 1 / float64(len(chosen))
	}
	return w
}

// Average is the simple average of member probabilities (soft vote) over
// the members preselected under Limits.
type Average struct {
	Limits
}

// Fit returns a *Weighted with equal weights on the preselected members.
func (a Average) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	chosen, err := preselect(p, a.Limits)
	if err != nil {
		return nil, err
	}
	return &Weighted{Classes: p.Classes, Weights: uniform(len(p.Members), chosen)}, nil
}

// Vote is the majority (hard) vote of the members preselected under Limits.
type Vote struct {
	Limits
}

// Fit returns a *Majority over the preselected members.
func (v Vote) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	chosen, err := preselect(p, v.Limits)
	if err != nil {
		return nil, err
	}
	return &Majority{Classes: p.Classes, Members: chosen}, nil
}

// Majority is a hard vote: each member votes for its most probable class
// (the lowest index among ties), the class with most votes wins, and ties
// between classes go to the larger summed probability, then the lower
// class index.
//
// So that it can be scored by log loss, Predict outputs the vote shares
// blended with the soft average at weight δ = 1/(2(n+1)) for n voters:
// (1−δ)·votes/n + δ·average. Two vote counts differ by at least 1/n, which
// outweighs any difference δ can add, so the most probable output class is
// exactly the vote's winner under the tie rule above.
type Majority struct {
	// Classes is the number of classes C.
	Classes int

	// Members holds the positions of the voting members, ascending.
	Members []int
}

// Predict writes the blended vote shares into dst.
func (v *Majority) Predict(dst []float64, probs [][]float32) {
	c := v.Classes
	if c <= 0 || len(dst)%c != 0 {
		panic(fmt.Sprintf("ensemble: majority predict: %d outputs for %d classes", len(dst), c))
	}
	nv := float64(len(v.Members))
	delta := 1 / (2 * (nv + 1))
	voteW, avgW := (1-delta)/nv, delta/nv
	clear(dst)
	for _, j := range v.Members {
		src := probs[j]
		if len(src) != len(dst) {
			panic(fmt.Sprintf("ensemble: majority predict: member %d: %d values, want %d", j, len(src), len(dst)))
		}
		for i := 0; i < len(dst); i += c {
			row := src[i : i+c : i+c]
			out := dst[i : i+c : i+c]
			out[argmax32(row)] += voteW
			for k, x := range row {
				out[k] += avgW * float64(x)
			}
		}
	}
}

// Used returns the voting members.
func (v *Majority) Used() []int { return slices.Clone(v.Members) }

// InverseError weights the members preselected under Limits in proportion
// to the inverse of their error rate (1 − accuracy) on the rows fitted on.
// An error rate below 1/(2n) for n rows is raised to 1/(2n), so a member
// that made no mistakes gets a large but finite weight.
type InverseError struct {
	Limits
}

// Fit returns a *Weighted.
func (ie InverseError) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	chosen, err := preselect(p, ie.Limits)
	if err != nil {
		return nil, err
	}
	scores := memberScores(p)
	floor := 1 / (2 * float64(len(p.Labels)))
	w := make([]float64, len(p.Members))
	var sum float64
	for _, j := range chosen {
		w[j] = 1 / max(1-scores[j].Accuracy, floor)
		sum += w[j]
	}
	for _, j := range chosen {
		w[j] /= sum
	}
	return &Weighted{Classes: p.Classes, Weights: w}, nil
}

// Fixed is a weighted average with weights given in advance, fitted to
// nothing. Members with positive weight must fit Limits.
type Fixed struct {
	// Weights holds one weight per member, in member order: non-negative,
	// finite and summing to 1 within 1e-6.
	Weights []float64

	Limits
}

// Fit checks the weights against p and returns them as a *Weighted.
func (f Fixed) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.Limits.check(); err != nil {
		return nil, err
	}
	if len(f.Weights) != len(p.Members) {
		return nil, fmt.Errorf("%w: %d weights for %d members", ErrSpec, len(f.Weights), len(p.Members))
	}
	if err := checkSimplex(f.Weights); err != nil {
		return nil, err
	}
	var bytes int64
	var count int
	for j, wj := range f.Weights {
		if wj > 0 {
			bytes += p.Members[j].Bytes
			count++
		}
	}
	if !f.Limits.admits(bytes, count) {
		return nil, fmt.Errorf("%w: weights use %d members of %d bytes in all, limits are %d members, %d bytes",
			ErrBudget, count, bytes, f.MaxMembers, f.MaxBytes)
	}
	return &Weighted{Classes: p.Classes, Weights: slices.Clone(f.Weights)}, nil
}

// SimplexTolerance is how far explicit weights may sum away from 1.
const SimplexTolerance = 1e-6

// checkSimplex reports weights that are negative, non-finite or do not sum
// to 1 within SimplexTolerance, wrapping ErrSpec.
func checkSimplex(w []float64) error {
	var sum float64
	for j, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return fmt.Errorf("%w: weight %d: %v is not a non-negative number", ErrSpec, j, x)
		}
		sum += x
	}
	if math.Abs(sum-1) > SimplexTolerance {
		return fmt.Errorf("%w: weights sum to %.9g, want 1 ± %g", ErrSpec, sum, SimplexTolerance)
	}
	return nil
}
