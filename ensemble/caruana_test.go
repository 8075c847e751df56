package ensemble

import (
	"context"
	"errors"
	"math"
	"testing"
)

// handProblem is the hand-worked Caruana example: 4 members, 6 samples,
// 2 classes. Only each member's probability of the true class, q, matters
// to log loss; the table lists it (the other class gets 1 − q).
//
//	sample   1    2    3    4    5    6
//	label    0    1    0    1    0    1
//	A       .9   .9   .9   .9   .2   .2
//	B       .8   .8   .8   .8   .4   .4
//	C       .5   .5   .5   .5   .5   .5
//	D       .4   .4   .4   .4   .9   .9
//
// Maximising Σ log q̄ (q̄ the average over the selection) is maximising
// Π q̄, and with k+1 members selected Π q̄ = Π s / (k+1)^6 where s is the
// summed q, so products of sums can be compared directly.
//
// Sorted initialisation, Init = 2. On their own:
//
//	A: .9⁴·.2² = .026244   B: .8⁴·.4² = .065536
//	C: .5⁶     = .015625   D: .4⁴·.9² = .020736
//
// so the order is B, A, D, C and the ensemble starts {A, B}, with sums
// s = 1.7 on samples 1–4 and 0.6 on 5–6.
//
// Round 1, the product of the sums (s + q) with each candidate added:
//
//	+A: 2.6⁴·0.8² = 45.6976·0.64 = 29.246
//	+B: 2.5⁴·1.0² = 39.0625·1.00 = 39.063
//	+C: 2.2⁴·1.1² = 23.4256·1.21 = 28.345
//	+D: 2.1⁴·1.5² = 19.4481·2.25 = 43.758   ← D, though worst but one alone
//
// {A, B, D}: s = 2.1 and 1.5. Round 2:
//
//	+A: 3.0⁴·1.7² = 81.0000·2.89 = 234.09
//	+B: 2.9⁴·1.9² = 70.7281·3.61 = 255.33   ← B
//	+C: 2.6⁴·2.0² = 45.6976·4.00 = 182.79
//	+D: 2.5⁴·2.4² = 39.0625·5.76 = 225.00
//
// {A, B, B, D}: s = 2.9 and 1.9. Round 3:
//
//	+A: 3.8⁴·2.1² = 208.5136·4.41 = 919.54
//	+B: 3.7⁴·2.3² = 187.4161·5.29 = 991.43   ← B again (with replacement)
//	+C: 3.4⁴·2.4² = 133.6336·5.76 = 769.73
//	+D: 3.3⁴·2.8² = 118.5921·7.84 = 929.76
//
// Final selection {A, B, B, B, D}: weights A 1/5, B 3/5, C 0, D 1/5.
func handProblem() *Problem {
	q := [][]float32{
		{.9, .9, .9, .9, .2, .2},
		{.8, .8, .8, .8, .4, .4},
		{.5, .5, .5, .5, .5, .5},
		{.4, .4, .4, .4, .9, .9},
	}
	labels := []int32{0, 1, 0, 1, 0, 1}
	p := &Problem{Classes: 2, Labels: labels, Folds: []int{0, 1, 0, 1, 0, 1}}
	for j, id := range []string{"A", "B", "C", "D"} {
		oof := make([]float32, 2*len(labels))
		for i, y := range labels {
			oof[2*i+int(y)] = q[j][i]
			oof[2*i+1-int(y)] = 1 - q[j][i]
		}
		p.Members = append(p.Members, Member{ID: id, OOF: oof, Bytes: 100})
	}
	return p
}

func TestCaruanaHandWorked(t *testing.T) {
	tests := []struct {
		name string
		ca   Caruana
		want []float64
	}{
		{"worked example", Caruana{Init: 2, Rounds: 3}, []float64{.2, .6, 0, .2}},
		// Init 1 starts from B alone (s = .8, .4). Round 1: +A 1.7⁴·.6² =
		// 3.007, +B 1.6⁴·.8² = 4.194, +C 1.3⁴·.9² = 2.313, +D 1.2⁴·1.3² =
		// 3.504: B. Now s = 1.6, .4·2 = .8. Round 2: +A 2.5⁴·1.0² = 39.06,
		// +B 2.4⁴·1.2² = 47.78, +C 2.1⁴·1.3² = 32.87, +D 2.0⁴·1.7² = 46.24:
		// B again, narrowly ahead of D.
		{"plain forward selection", Caruana{Init: 1, Rounds: 2}, []float64{0, 1, 0, 0}},
		// A budget of 250 bytes admits two members: {B, A} by sorted
		// initialisation, then D no longer fits and B (39.06) beats A.
		{"budget", Caruana{Init: 2, Rounds: 1, Limits: Limits{MaxBytes: 250}}, []float64{1.0 / 3, 2.0 / 3, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			comb, err := tc.ca.Fit(context.Background(), handProblem())
			if err != nil {
				t.Fatal(err)
			}
			got := comb.(*Weighted).Weights
			for j := range tc.want {
				if math.Abs(got[j]-tc.want[j]) > 1e-12 {
					t.Fatalf("weights = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// naiveCaruana is forward selection written plainly: recompute the
// average of the selection plus each candidate and score it from scratch.
// Accuracy uses float32 sums as the fast path does, so that exact ties are
// the same ties; log likelihood is a plain sum of logs.
func naiveCaruana(p *Problem, metric Metric, init, rounds int) []float64 {
	n, c, m := len(p.Labels), p.Classes, len(p.Members)
	sum := make([]float32, n*c)
	sl := make([]float64, n)
	counts := make([]int, m)
	k := 0
	eval := func(j int) score {
		var sc score
		floor := probFloor * float64(k+1)
		probs := p.Members[j].OOF
		for i, y := range p.Labels {
			row := make([]float32, c)
			for cl := range row {
				row[cl] = sum[i*c+cl] + probs[i*c+cl]
			}
			if metric == MetricAccuracy && argmax32(row) == int(y) {
				sc.correct++
			}
			sc.logLik += math.Log(max(sl[i]+float64(probs[i*c+int(y)]), floor))
		}
		return sc
	}
	add := func(j int) {
		probs := p.Members[j].OOF
		for i, y := range p.Labels {
			sl[i] += float64(probs[i*c+int(y)])
		}
		for x := range sum {
			sum[x] += probs[x]
		}
		counts[j]++
		k++
	}
	// Rank by score alone, stable by position.
	order := make([]int, 0, m)
	alone := make([]score, m)
	for j := range m {
		alone[j] = eval(j)
		at := len(order)
		for at > 0 && alone[j].better(alone[order[at-1]]) {
			at--
		}
		order = append(order[:at], append([]int{j}, order[at:]...)...)
	}
	for _, j := range order[:min(init, m)] {
		add(j)
	}
	for range rounds {
		best, bestScore := -1, score{}
		for _, j := range order {
			if sc := eval(j); best < 0 || sc.better(bestScore) {
				best, bestScore = j, sc
			}
		}
		add(best)
	}
	w := make([]float64, m)
	for j, cnt := range counts {
		w[j] = float64(cnt) / float64(k)
	}
	return w
}

func TestCaruanaMatchesNaive(t *testing.T) {
	for seed := range uint64(12) {
		for _, metric := range []Metric{MetricLogLoss, MetricAccuracy} {
			cfg := synth{n: 60 + int(seed)*17, c: 2 + int(seed%5), k: 3, m: 3 + int(seed%6), seed: seed}
			p := makeProblem(t, cfg)
			init, rounds := 1+int(seed%3), 8
			comb, err := Caruana{Init: init, Rounds: rounds, Metric: metric}.Fit(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			got, want := comb.(*Weighted).Weights, naiveCaruana(p, metric, init, rounds)
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-12 {
					t.Fatalf("seed %d, %v: weights %v, naive %v", seed, metric, got, want)
				}
			}
		}
	}
}

// TestSelectorCountCorrect checks the bound shortcuts of countCorrect
// against the exact argmax at every step of a selection.
func TestSelectorCountCorrect(t *testing.T) {
	for seed := range uint64(6) {
		p := makeProblem(t, synth{n: 500, c: 3 + int(seed), k: 2, m: 6, seed: seed, shared: 0.3})
		s := newSelector(p, MetricAccuracy, Limits{})
		all := []int{0, 1, 2, 3, 4, 5}
		for step := range 20 {
			s.countCorrect(all)
			for _, j := range all {
				want := 0
				c := p.Classes
				row := make([]float32, c)
				for i, y := range p.Labels {
					for cl := range row {
						row[cl] = s.sum[i*c+cl] + p.Members[j].OOF[i*c+cl]
					}
					if argmax32(row) == int(y) {
						want++
					}
				}
				if s.correct[j] != want {
					t.Fatalf("seed %d, step %d, member %d: %d correct, exact count %d (open %d)", seed, step, j, s.correct[j], want, len(s.open))
				}
			}
			s.add(step * 7 % 6)
		}
	}
}

func TestCaruanaStepAllocs(t *testing.T) {
	for _, metric := range []Metric{MetricLogLoss, MetricAccuracy} {
		p := makeProblem(t, synth{n: 500, c: 4, k: 2, m: 10, seed: 3})
		s := newSelector(p, metric, Limits{MaxBytes: 30000})
		order := s.ranking()
		s.add(order[0])
		allocs := testing.AllocsPerRun(20, func() {
			if j := s.step(order); j >= 0 {
				s.add(j)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per step, want 0", metric, allocs)
		}
	}
}

func TestCaruanaBagging(t *testing.T) {
	p := makeProblem(t, synth{n: 400, c: 3, k: 4, m: 12, seed: 5})
	ctx := context.Background()
	ca := Caruana{Rounds: 10, Init: 2, Bags: 6, BagFraction: 0.5, Seed: 42}
	a, err := ca.Fit(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.Fit(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	wa, wb := a.(*Weighted).Weights, b.(*Weighted).Weights
	for j := range wa {
		if wa[j] != wb[j] {
			t.Fatalf("same seed, different weights: %v and %v", wa, wb)
		}
	}
	unbagged, err := Caruana{Rounds: 10, Init: 2}.Fit(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// Bags over half the members spread weight over more members than one
	// selection over all of them.
	if got, one := len(a.Used()), len(unbagged.Used()); got <= one {
		t.Errorf("bagged uses %d members, unbagged %d: want more", got, one)
	}
	ca.Seed = 43
	c, err := ca.Fit(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for j, w := range c.(*Weighted).Weights {
		same = same && w == wa[j]
	}
	if same {
		t.Error("seeds 42 and 43 drew identical bags")
	}
}

func TestCaruanaErrors(t *testing.T) {
	p := handProblem()
	tests := []struct {
		name string
		ca   Caruana
		want error
	}{
		{"budget below every member", Caruana{Limits: Limits{MaxBytes: 99}}, ErrBudget},
		{"bagged budget below every member", Caruana{Bags: 3, Limits: Limits{MaxBytes: 99}}, ErrBudget},
		{"negative rounds", Caruana{Rounds: -1}, ErrSpec},
		{"negative init", Caruana{Init: -1}, ErrSpec},
		{"bag fraction above 1", Caruana{Bags: 2, BagFraction: 1.5}, ErrSpec},
		{"bag fraction NaN", Caruana{Bags: 2, BagFraction: math.NaN()}, ErrSpec},
		{"unknown metric", Caruana{Metric: 7}, ErrSpec},
		{"negative budget", Caruana{Limits: Limits{MaxBytes: -1}}, ErrSpec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.ca.Fit(context.Background(), p); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Caruana{}).Fit(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}
