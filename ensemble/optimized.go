package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// DefaultMaxIterations is the iteration cap of Optimized and Stacking when
// theirs is zero.
const DefaultMaxIterations = 200

// PruneBelow is the weight under which Optimized drops a member (and
// renormalises), so that a member contributing almost nothing does not cost
// its bytes.
const PruneBelow = 1e-4

// Optimized weights the members preselected under Limits to minimise the
// log loss of their weighted average on the rows fitted on. The weights are
// parametrised as w = softmax(θ), which keeps them on the simplex without
// constraints, and θ is found by L-BFGS (gonum/optimize) from θ = 0, the
// simple average. Weights below PruneBelow are then set to zero and the
// rest renormalised.
//
// The log loss of a weighted average depends only on each member's
// probability for the true class, so an evaluation costs O(n·m), not
// O(n·m·C).
type Optimized struct {
	// MaxIterations caps L-BFGS major iterations. Zero means
	// DefaultMaxIterations.
	MaxIterations int

	Limits
}

// Fit returns a *Weighted.
func (o Optimized) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.MaxIterations < 0 {
		return nil, fmt.Errorf("%w: max iterations: %d is negative", ErrSpec, o.MaxIterations)
	}
	chosen, err := preselect(p, o.Limits)
	if err != nil {
		return nil, err
	}
	w := make([]float64, len(p.Members))
	if len(chosen) == 1 {
		w[chosen[0]] = 1
		return &Weighted{Classes: p.Classes, Weights: w}, nil
	}
	obj := newSimplexLogLoss(p, chosen)
	iters := o.MaxIterations
	if iters == 0 {
		iters = DefaultMaxIterations
	}
	theta, err := minimize(ctx, optimize.Problem{Func: obj.f, Grad: obj.grad}, make([]float64, len(chosen)), iters)
	if err != nil {
		return nil, fmt.Errorf("ensemble: optimized weights: %w", err)
	}
	v := make([]float64, len(chosen))
	softmax(v, theta)
	var kept float64
	for _, x := range v {
		if x >= PruneBelow {
			kept += x
		}
	}
	if kept > 0 { // always, unless more than 1/PruneBelow members
		for u := range v {
			if v[u] < PruneBelow {
				v[u] = 0
			}
		}
		floats.Scale(1/kept, v)
	}
	for u, j := range chosen {
		w[j] = v[u]
	}
	return &Weighted{Classes: p.Classes, Weights: w}, nil
}

// minimize runs L-BFGS on prob from x0 and returns the best point found. It
// stops early, returning ctx.Err(), when ctx ends. A line search that stalls
// near the optimum is not an error: the best point so far is returned.
func minimize(ctx context.Context, prob optimize.Problem, x0 []float64, iters int) ([]float64, error) {
	prob.Status = func() (optimize.Status, error) {
		if err := ctx.Err(); err != nil {
			return optimize.Failure, err
		}
		return optimize.NotTerminated, nil
	}
	settings := &optimize.Settings{
		MajorIterations:   iters,
		GradientThreshold: 1e-7,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-10, Relative: 1e-10, Iterations: 10},
	}
	res, err := optimize.Minimize(prob, x0, settings, &optimize.LBFGS{})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if res == nil {
		return nil, err
	}
	if !isFinite(res.F) {
		return nil, errors.Join(fmt.Errorf("objective %v at the best point", res.F), err)
	}
	return res.X, nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// softmax writes the softmax of x into dst.
func softmax(dst, x []float64) {
	hi := floats.Max(x)
	var sum float64
	for i, v := range x {
		dst[i] = math.Exp(v - hi)
		sum += dst[i]
	}
	floats.Scale(1/sum, dst)
}

// simplexLogLoss is the log loss of a softmax-weighted average as a function
// of θ, with its gradient, caching the last point evaluated.
type simplexLogLoss struct {
	n, m int
	q    []float64 // m×n: q[u*n+i] is member u's probability of sample i's label
	w    []float64 // softmax(θ) at last
	e    []float64 // n: ensemble probability of each label at last
	g    []float64 // m: ∂loss/∂w at last
	last []float64 // θ last evaluated; nil before the first
	loss float64
}

func newSimplexLogLoss(p *Problem, chosen []int) *simplexLogLoss {
	n, c, m := len(p.Labels), p.Classes, len(chosen)
	s := &simplexLogLoss{
		n: n, m: m,
		q: make([]float64, m*n),
		w: make([]float64, m),
		e: make([]float64, n),
		g: make([]float64, m),
	}
	for u, j := range chosen {
		probs := p.Members[j].OOF
		row := s.q[u*n : (u+1)*n]
		for i, y := range p.Labels {
			row[i] = float64(probs[i*c+int(y)])
		}
	}
	return s
}

func (s *simplexLogLoss) eval(theta []float64) {
	if s.last != nil && floats.Equal(theta, s.last) {
		return
	}
	s.last = append(s.last[:0], theta...)
	softmax(s.w, theta)
	clear(s.e)
	for u, wu := range s.w {
		floats.AddScaled(s.e, wu, s.q[u*s.n:(u+1)*s.n])
	}
	var loss float64
	for i, v := range s.e {
		if v < probFloor {
			loss -= math.Log(probFloor)
			s.e[i] = math.Inf(1) // clipped: no gradient through this sample
			continue
		}
		loss -= math.Log(v)
	}
	inv := 1 / float64(s.n)
	s.loss = loss * inv
	for u := range s.g {
		// ∂loss/∂w_u = −(1/n) Σ_i q_ui / e_i
		var sum float64
		for i, qv := range s.q[u*s.n : (u+1)*s.n] {
			sum += qv / s.e[i]
		}
		s.g[u] = -sum * inv
	}
}

func (s *simplexLogLoss) f(theta []float64) float64 {
	s.eval(theta)
	return s.loss
}

// grad applies the softmax Jacobian: ∂/∂θ_k = w_k (g_k − Σ_u w_u g_u).
func (s *simplexLogLoss) grad(dst, theta []float64) {
	s.eval(theta)
	mean := floats.Dot(s.w, s.g)
	for k := range dst {
		dst[k] = s.w[k] * (s.g[k] - mean)
	}
}
