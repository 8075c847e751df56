package ensemble

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// randomProblem draws a small problem of random shape, with member sizes
// spread so that budgets bind.
func randomProblem(t *testing.T, seed uint64) *Problem {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	return makeProblem(t, synth{
		n:    30 + rng.IntN(200),
		c:    2 + rng.IntN(6),
		k:    2 + rng.IntN(4),
		m:    1 + rng.IntN(12),
		seed: seed,
	})
}

// TestWeightsOnSimplex is the property test: over random problems and
// limits, every weighted method returns one non-negative weight per member
// summing to 1, and every method (weighted or not) uses members within the
// limits.
func TestWeightsOnSimplex(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(40) {
		p := randomProblem(t, seed)
		rng := rand.New(rand.NewPCG(seed, 7))
		m := len(p.Members)
		var smallest, total int64 = math.MaxInt64, 0
		for _, mem := range p.Members {
			smallest = min(smallest, mem.Bytes)
			total += mem.Bytes
		}
		lims := []Limits{
			{},
			{MaxBytes: smallest + rng.Int64N(total-smallest+1)},
			{MaxMembers: 1 + rng.IntN(m)},
			{MaxBytes: smallest + rng.Int64N(total-smallest+1), MaxMembers: 1 + rng.IntN(m)},
		}
		// Random explicit weights on a random subset of one member or more.
		explicit := make([]float64, m)
		var sum float64
		for j := range explicit {
			if j == 0 || rng.IntN(2) == 0 {
				explicit[j] = rng.Float64()
				sum += explicit[j]
			}
		}
		for j := range explicit {
			explicit[j] /= sum
		}
		for _, lim := range lims {
			fitters := []Fitter{
				Average{lim}, Vote{lim}, InverseError{lim}, Optimized{Limits: lim},
				Caruana{Rounds: 12, Init: 3, Limits: lim},
				Caruana{Rounds: 12, Init: 1, Metric: MetricAccuracy, Limits: lim},
				Caruana{Rounds: 6, Init: 2, Bags: 4, BagFraction: 0.6, Seed: seed, Limits: lim},
				Stacking{MaxIterations: 30, Limits: lim},
			}
			if lim == (Limits{}) {
				fitters = append(fitters, Fixed{Weights: explicit})
			}
			for _, f := range fitters {
				comb, err := f.Fit(ctx, p)
				if err != nil {
					t.Fatalf("seed %d: %T %+v: %v", seed, f, lim, err)
				}
				checkLimits(t, p, comb, lim)
				w, ok := comb.(*Weighted)
				if !ok {
					continue
				}
				if len(w.Weights) != m {
					t.Fatalf("seed %d: %T: %d weights for %d members", seed, f, len(w.Weights), m)
				}
				var s float64
				for _, x := range w.Weights {
					if x < 0 || math.IsNaN(x) {
						t.Fatalf("seed %d: %T: weight %v", seed, f, x)
					}
					s += x
				}
				if math.Abs(s-1) > 1e-9 {
					t.Fatalf("seed %d: %T: weights sum to %v", seed, f, s)
				}
			}
		}
	}
}

// checkLimits fails t if comb uses members beyond lim.
func checkLimits(t *testing.T, p *Problem, comb Combiner, lim Limits) {
	t.Helper()
	used := comb.Used()
	if len(used) == 0 {
		t.Fatalf("%T uses no member", comb)
	}
	var bytes int64
	for _, j := range used {
		bytes += p.Members[j].Bytes
	}
	if !lim.admits(bytes, len(used)) {
		t.Fatalf("%T uses %d members, %d bytes: beyond %+v", comb, len(used), bytes, lim)
	}
}

// TestPredictRowsSumToOne checks every combiner's output is a probability
// distribution per row.
func TestPredictRowsSumToOne(t *testing.T) {
	p := makeProblem(t, synth{n: 120, c: 4, k: 3, m: 5, seed: 8})
	for _, f := range allFitters(len(p.Members)) {
		comb, err := f.Fit(context.Background(), p)
		if err != nil {
			t.Fatalf("%T: %v", f, err)
		}
		dst := make([]float64, len(p.Labels)*p.Classes)
		comb.Predict(dst, p.OOF())
		for i := range len(p.Labels) {
			var s float64
			for _, v := range dst[i*p.Classes : (i+1)*p.Classes] {
				if v < 0 {
					t.Fatalf("%T: row %d: negative %v", f, i, v)
				}
				s += v
			}
			if math.Abs(s-1) > 1e-5 {
				t.Fatalf("%T: row %d sums to %v", f, i, s)
			}
		}
	}
}

func TestVoteTies(t *testing.T) {
	// Three classes, four voters. Sample 0: two vote class 0, two vote
	// class 2; the tie goes to the larger summed probability, class 2
	// (.4+.4+.8+.7 = 2.3 against .6+.5+.1+.3 = 1.5).
	//
	// Sample 1: two vote class 1, two vote class 0, and both classes sum to
	// exactly 2 (binary fractions, so no rounding): the lower class, 0,
	// wins.
	rows := [][]float32{
		{.6, 0, .4, .25, .75, 0},
		{.5, .1, .4, .25, .75, 0},
		{.1, .1, .8, .75, .25, 0},
		{.3, 0, .7, .75, .25, 0},
	}
	p := &Problem{Classes: 3, Labels: []int32{0, 0}, Folds: []int{0, 1}}
	for j, r := range rows {
		p.Members = append(p.Members, Member{ID: memberID(j), OOF: r})
	}
	comb, err := Vote{}.Fit(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, 6)
	comb.Predict(dst, p.OOF())
	if got := argmax64(dst[:3]); got != 2 {
		t.Errorf("sample 0: vote %v picks %d, want 2 (larger summed probability)", dst[:3], got)
	}
	if got := argmax64(dst[3:]); got != 0 {
		t.Errorf("sample 1: vote %v picks %d, want 0 (lower class on equal sums)", dst[3:], got)
	}
	// A 3–1 vote beats a larger summed probability for the minority.
	p.Members[0].OOF = []float32{0, 0, 1, 0, 1, 0}
	p.Members[1].OOF = []float32{0, 0, 1, 0, 1, 0}
	p.Members[2].OOF = []float32{0, 0, 1, 0, 1, 0}
	p.Members[3].OOF = []float32{1, 0, 0, .5, .2, .3}
	comb, _ = Vote{}.Fit(context.Background(), p)
	comb.Predict(dst, p.OOF())
	if got := argmax64(dst[:3]); got != 2 {
		t.Errorf("3–1 vote %v picks %d, want 2", dst[:3], got)
	}
}

func TestInverseErrorWeights(t *testing.T) {
	// Member A is right on 4 of 6 samples of the hand problem (error 1/3),
	// B on 4 of 6 (1/3), C ties .5/.5 and so predicts class 0: right on
	// samples 1, 3, 5 (error 1/2), D right on 2 of 6 (error 2/3).
	// Weights ∝ 3, 3, 2, 1.5 → /9.5.
	comb, err := InverseError{}.Fit(context.Background(), handProblem())
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{3 / 9.5, 3 / 9.5, 2 / 9.5, 1.5 / 9.5}
	got := comb.(*Weighted).Weights
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-12 {
			t.Fatalf("weights = %v, want %v", got, want)
		}
	}
}

// TestOptimizedBeatsAverage: on the rows it was fitted on, the optimised
// weights never have a higher log loss than the simple average it starts
// from, and beat it when members differ in quality.
func TestOptimizedBeatsAverage(t *testing.T) {
	p := makeProblem(t, synth{n: 600, c: 5, k: 3, m: 8, seed: 2})
	ctx := context.Background()
	ll := func(f Fitter) float64 {
		comb, err := f.Fit(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float64, len(p.Labels)*p.Classes)
		comb.Predict(dst, p.OOF())
		s, err := Score(dst, p.Labels, p.Classes)
		if err != nil {
			t.Fatal(err)
		}
		return s.LogLoss
	}
	avg, opt := ll(Average{}), ll(Optimized{})
	if opt >= avg-1e-3 {
		t.Errorf("optimized log loss %v, average %v: want clearly lower", opt, avg)
	}
}

// TestGradients compares the analytic gradients of the two optimised
// objectives with central differences.
func TestGradients(t *testing.T) {
	p := makeProblem(t, synth{n: 80, c: 3, k: 2, m: 4, seed: 4})
	rng := rand.New(rand.NewPCG(4, 4))
	type objective struct {
		name string
		f    func([]float64) float64
		grad func(dst, x []float64)
		dim  int
	}
	sl := newSimplexLogLoss(p, []int{0, 1, 2, 3})
	st := &Stacked{Classes: p.Classes, Members: []int{0, 2, 3}, LogProbs: true}
	lg := newLogistic(st.features(p.OOF(), len(p.Labels)), p.Labels, p.Classes, 0.01)
	for _, o := range []objective{
		{"simplex log loss", sl.f, sl.grad, 4},
		{"logistic", lg.f, lg.grad, lg.dim()},
	} {
		x := make([]float64, o.dim)
		for i := range x {
			x[i] = rng.NormFloat64() * 0.3
		}
		got := make([]float64, o.dim)
		o.grad(got, x)
		for i := range x {
			const h = 1e-6
			xp := append([]float64(nil), x...)
			xm := append([]float64(nil), x...)
			xp[i] += h
			xm[i] -= h
			want := (o.f(xp) - o.f(xm)) / (2 * h)
			if math.Abs(got[i]-want) > 1e-6*max(1, math.Abs(want)) {
				t.Errorf("%s: ∂/∂x%d = %v, finite difference %v", o.name, i, got[i], want)
			}
		}
	}
}

func TestFixedErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Fixed
		want error
	}{
		{"count", Fixed{Weights: []float64{1}}, ErrSpec},
		{"negative", Fixed{Weights: []float64{1.5, -0.5, 0, 0}}, ErrSpec},
		{"sum", Fixed{Weights: []float64{.5, .4, 0, 0}}, ErrSpec},
		{"NaN", Fixed{Weights: []float64{math.NaN(), 1, 0, 0}}, ErrSpec},
		{"budget", Fixed{Weights: []float64{.5, .5, 0, 0}, Limits: Limits{MaxBytes: 150}}, ErrBudget},
		{"member limit", Fixed{Weights: []float64{.5, .5, 0, 0}, Limits: Limits{MaxMembers: 1}}, ErrBudget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.f.Fit(context.Background(), handProblem()); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPreselect(t *testing.T) {
	// Hand problem accuracies: A 4/6, B 4/6, C 3/6, D 2/6; A and B tie
	// and B has the lower log loss. Sizes below: A 300, B 100, C 100, D 50.
	p := handProblem()
	for j, b := range []int64{300, 100, 100, 50} {
		p.Members[j].Bytes = b
	}
	tests := []struct {
		lim  Limits
		want []int
	}{
		{Limits{}, []int{0, 1, 2, 3}},
		{Limits{MaxBytes: 550}, []int{0, 1, 2, 3}},
		{Limits{MaxBytes: 400}, []int{0, 1}},                // B, A; C and D no longer fit
		{Limits{MaxBytes: 250}, []int{1, 2, 3}},             // B; A too big; C; D
		{Limits{MaxMembers: 2}, []int{0, 1}},                // B, A
		{Limits{MaxBytes: 160, MaxMembers: 2}, []int{1, 3}}, // B, then D fits
	}
	for _, tc := range tests {
		got, err := preselect(p, tc.lim)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("preselect(%+v) = %v, want %v", tc.lim, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("preselect(%+v) = %v, want %v", tc.lim, got, tc.want)
				break
			}
		}
	}
	if _, err := preselect(p, Limits{MaxBytes: 10}); !errors.Is(err, ErrBudget) {
		t.Errorf("budget 10: err = %v, want ErrBudget", err)
	}
}
