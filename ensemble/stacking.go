package ensemble

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// DefaultL2 is Stacking's L2 penalty when its L2 is zero.
const DefaultL2 = 1e-3

// logFloor clips probabilities before the log when stacking on
// log-probabilities, bounding features to [log 1e-6, 0].
const logFloor = 1e-6

// Stacking fits a multinomial logistic-regression meta-learner on the
// class probabilities (or log-probabilities) of the members preselected
// under Limits. With m members and C classes the features of a sample are
// its m·C member probabilities; the model has a C×(m·C) coefficient matrix
// W and C intercepts b, fitted by L-BFGS (gonum/optimize) to minimise
//
//	(1/n) Σ_i −log softmax(W x_i + b)_{y_i} + (L2/2)·‖W‖²
//
// (intercepts unpenalised). Unlike a weighted average it can use a member
// that is reliably wrong, by learning which class its votes point away
// from. Each evaluation costs two n×(m·C)×C matrix products, so keep m·C in
// the hundreds (MaxMembers) for n in the tens of thousands.
type Stacking struct {
	// L2 is the ridge penalty on W, per sample. Zero means DefaultL2;
	// negative is invalid.
	L2 float64

	// LogProbs makes the features log(max(p, 1e-6)) instead of p.
	LogProbs bool

	// MaxIterations caps L-BFGS major iterations. Zero means
	// DefaultMaxIterations.
	MaxIterations int

	Limits
}

// Fit returns a *Stacked.
func (st Stacking) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if math.IsNaN(st.L2) || math.IsInf(st.L2, 0) || st.L2 < 0 {
		return nil, fmt.Errorf("%w: l2: %v is not a non-negative number", ErrSpec, st.L2)
	}
	if st.MaxIterations < 0 {
		return nil, fmt.Errorf("%w: max iterations: %d is negative", ErrSpec, st.MaxIterations)
	}
	chosen, err := preselect(p, st.Limits)
	if err != nil {
		return nil, err
	}
	l2, iters := st.L2, st.MaxIterations
	if l2 == 0 {
		l2 = DefaultL2
	}
	if iters == 0 {
		iters = DefaultMaxIterations
	}
	out := &Stacked{Classes: p.Classes, Members: chosen, LogProbs: st.LogProbs}
	probs := make([][]float32, len(p.Members))
	for j := range p.Members {
		probs[j] = p.Members[j].OOF
	}
	obj := newLogistic(out.features(probs, len(p.Labels)), p.Labels, p.Classes, l2)
	x, err := minimize(ctx, optimize.Problem{Func: obj.f, Grad: obj.grad}, make([]float64, obj.dim()), iters)
	if err != nil {
		return nil, fmt.Errorf("ensemble: stacking: %w", err)
	}
	nc, nf := p.Classes, len(chosen)*p.Classes
	out.Coef = slices.Clone(x[:nc*nf])
	out.Intercept = slices.Clone(x[nc*nf:])
	return out, nil
}

// Stacked is a fitted multinomial logistic-regression meta-learner.
type Stacked struct {
	// Classes is the number of classes C.
	Classes int

	// Members holds the positions of the members whose probabilities are
	// features, ascending.
	Members []int

	// LogProbs reports whether the features are log-probabilities.
	LogProbs bool

	// Coef is the C×F coefficient matrix, row-major, F = len(Members)·C:
	// Coef[c*F + u*C + k] multiplies member Members[u]'s feature for
	// class k in the logit of class c.
	Coef []float64

	// Intercept holds the C intercepts.
	Intercept []float64
}

// features returns the n×F design matrix built from probs.
func (s *Stacked) features(probs [][]float32, n int) *mat.Dense {
	c := s.Classes
	nf := len(s.Members) * c
	x := make([]float64, n*nf)
	for u, j := range s.Members {
		src := probs[j]
		if len(src) != n*c {
			panic(fmt.Sprintf("ensemble: stacked: member %d: %d values, want %d", j, len(src), n*c))
		}
		for i := range n {
			row := x[i*nf+u*c : i*nf+u*c+c]
			for k, v := range src[i*c : i*c+c] {
				if s.LogProbs {
					row[k] = math.Log(max(float64(v), logFloor))
				} else {
					row[k] = float64(v)
				}
			}
		}
	}
	return mat.NewDense(n, nf, x)
}

// Predict writes softmax(W x + b) for every sample into dst.
func (s *Stacked) Predict(dst []float64, probs [][]float32) {
	c := s.Classes
	if c <= 0 || len(dst)%c != 0 {
		panic(fmt.Sprintf("ensemble: stacked predict: %d outputs for %d classes", len(dst), c))
	}
	n := len(dst) / c
	if n == 0 {
		return
	}
	x := s.features(probs, n)
	w := mat.NewDense(c, len(s.Members)*c, s.Coef)
	z := mat.NewDense(n, c, dst)
	z.Mul(x, w.T())
	for i := range n {
		row := dst[i*c : i*c+c]
		floats.Add(row, s.Intercept)
		softmax(row, row)
	}
}

// Used returns the members whose probabilities are features.
func (s *Stacked) Used() []int { return slices.Clone(s.Members) }

// logistic is the penalised multinomial log loss and its gradient over
// parameters [W (C×F row-major), b (C)], caching the last point.
type logistic struct {
	x      *mat.Dense // n×F
	labels []int32
	n, c   int
	nf     int
	l2     float64
	z      *mat.Dense // n×C: probabilities at last, then P − Y scaled by 1/n
	zbuf   []float64
	gbuf   []float64 // gradient at last
	last   []float64
	loss   float64
}

func newLogistic(x *mat.Dense, labels []int32, c int, l2 float64) *logistic {
	n, nf := x.Dims()
	l := &logistic{x: x, labels: labels, n: n, c: c, nf: nf, l2: l2}
	l.zbuf = make([]float64, n*c)
	l.z = mat.NewDense(n, c, l.zbuf)
	l.gbuf = make([]float64, l.dim())
	return l
}

func (l *logistic) dim() int { return l.c*l.nf + l.c }

func (l *logistic) eval(theta []float64) {
	if l.last != nil && floats.Equal(theta, l.last) {
		return
	}
	l.last = append(l.last[:0], theta...)
	c, nf := l.c, l.nf
	w := mat.NewDense(c, nf, theta[:c*nf:c*nf])
	b := theta[c*nf:]
	l.z.Mul(l.x, w.T())
	inv := 1 / float64(l.n)
	var loss float64
	for i, y := range l.labels {
		row := l.zbuf[i*c : i*c+c]
		floats.Add(row, b)
		hi := floats.Max(row)
		zy := row[y] - hi
		var sum float64
		for k, v := range row {
			row[k] = math.Exp(v - hi)
			sum += row[k]
		}
		// −log softmax_y = log Σ exp(z − hi) − (z_y − hi)
		loss += math.Log(sum) - zy
		for k := range row {
			row[k] *= inv / sum
		}
		row[y] -= inv
	}
	var ww float64
	for _, v := range theta[:c*nf] {
		ww += v * v
	}
	l.loss = loss*inv + 0.5*l.l2*ww
	g := mat.NewDense(c, nf, l.gbuf[:c*nf:c*nf])
	g.Mul(l.z.T(), l.x)
	floats.AddScaled(l.gbuf[:c*nf], l.l2, theta[:c*nf])
	gb := l.gbuf[c*nf:]
	clear(gb)
	for i := range l.n {
		floats.Add(gb, l.zbuf[i*c:i*c+c])
	}
}

func (l *logistic) f(theta []float64) float64 {
	l.eval(theta)
	return l.loss
}

func (l *logistic) grad(dst, theta []float64) {
	l.eval(theta)
	copy(dst, l.gbuf)
}
