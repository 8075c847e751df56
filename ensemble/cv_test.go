package ensemble

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// leaky memorises the label of every row it is fitted on, keyed by the
// row's member probabilities, and predicts it with certainty; rows it has
// not seen get a uniformly random class. Scored on its own fitting rows it
// is perfect.
type leaky struct{ seed uint64 }

type leakyCombiner struct {
	classes int
	memory  map[string]int32
	rng     *rand.Rand
}

// rowKey is the concatenated bytes of row i of every member.
func rowKey(probs [][]float32, i, c int) string {
	b := make([]byte, 0, len(probs)*c*4)
	for _, m := range probs {
		for _, v := range m[i*c : i*c+c] {
			u := math.Float32bits(v)
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
	}
	return string(b)
}

func (l leaky) Fit(_ context.Context, p *Problem) (Combiner, error) {
	mem := make(map[string]int32, len(p.Labels))
	probs := p.OOF()
	for i, y := range p.Labels {
		mem[rowKey(probs, i, p.Classes)] = y
	}
	return &leakyCombiner{classes: p.Classes, memory: mem, rng: rand.New(rand.NewPCG(l.seed, 1))}, nil
}

func (l *leakyCombiner) Predict(dst []float64, probs [][]float32) {
	c := l.classes
	clear(dst)
	for i := range len(dst) / c {
		y, ok := l.memory[rowKey(probs, i, c)]
		if !ok {
			y = int32(l.rng.IntN(c))
		}
		dst[i*c+int(y)] = 1
	}
}

func (l *leakyCombiner) Used() []int { return []int{0} }

func TestNestedCVLeakingMethod(t *testing.T) {
	p := makeProblem(t, synth{n: 1000, c: 4, k: 5, m: 3, seed: 11})
	ctx := context.Background()

	// Control: judged on the rows it memorised, the method is perfect.
	comb, err := leaky{seed: 1}.Fit(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, len(p.Labels)*p.Classes)
	comb.Predict(dst, p.OOF())
	if s, _ := Score(dst, p.Labels, p.Classes); s.Accuracy != 1 {
		t.Fatalf("control: in-sample accuracy %v, want 1", s.Accuracy)
	}

	cv, err := NestedCV(ctx, p, leaky{seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range cv.Folds {
		if s.Accuracy == 1 {
			t.Errorf("fold %d: leaking method scored 100%%", k)
		}
	}
	// With nothing to go on it guesses: about 1/4.
	if cv.Mean.Accuracy > 0.35 {
		t.Errorf("nested-CV accuracy of a guesser %v, want about 0.25", cv.Mean.Accuracy)
	}
}

// spy records, for every Fit, the folds of the rows it was given, and for
// every Predict, how many rows it was asked about.
type spy struct {
	fits     [][]int // per fit: the Folds it saw
	predicts []int   // per predict: rows
}

type spyCombiner struct {
	s     *spy
	inner Combiner
	c     int
}

func (s *spy) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	s.fits = append(s.fits, slices.Clone(p.Folds))
	if len(p.Labels) != len(p.Folds) || len(p.Members[0].OOF) != len(p.Labels)*p.Classes || p.Members[0].Test != nil || p.TestLabels != nil {
		return nil, errors.New("spy: inconsistent view")
	}
	inner, err := Average{}.Fit(ctx, p)
	return &spyCombiner{s: s, inner: inner, c: p.Classes}, err
}

func (c *spyCombiner) Predict(dst []float64, probs [][]float32) {
	c.s.predicts = append(c.s.predicts, len(dst)/c.c)
	c.inner.Predict(dst, probs)
}

func (c *spyCombiner) Used() []int { return c.inner.Used() }

func TestNestedCVFitRowsExcludeScoredFold(t *testing.T) {
	p := makeProblem(t, synth{n: 203, c: 3, k: 4, m: 2, ntest: 10, seed: 12})
	size := make([]int, p.NumFolds())
	for _, f := range p.Folds {
		size[f]++
	}
	var s spy
	cv, err := NestedCV(context.Background(), p, &s)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.fits) != 4 || len(s.predicts) != 4 || len(cv.Folds) != 4 {
		t.Fatalf("%d fits, %d predicts, %d fold scores; want 4 each", len(s.fits), len(s.predicts), len(cv.Folds))
	}
	for k, folds := range s.fits {
		if slices.Contains(folds, k) {
			t.Errorf("fit for scored fold %d saw rows of fold %d", k, k)
		}
		if len(folds) != len(p.Labels)-size[k] {
			t.Errorf("fit for fold %d saw %d rows, want all %d rows of the other folds", k, len(folds), len(p.Labels)-size[k])
		}
		if s.predicts[k] != size[k] {
			t.Errorf("fold %d: predicted %d rows, want its %d", k, s.predicts[k], size[k])
		}
	}
}

func TestNestedCVSummary(t *testing.T) {
	p := makeProblem(t, synth{n: 300, c: 3, k: 3, m: 4, seed: 13})
	cv, err := NestedCV(context.Background(), p, Average{})
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for _, s := range cv.Folds {
		mean += s.Accuracy / 3
	}
	var ss float64
	for _, s := range cv.Folds {
		ss += (s.Accuracy - mean) * (s.Accuracy - mean)
	}
	if math.Abs(cv.Mean.Accuracy-mean) > 1e-12 || math.Abs(cv.Std.Accuracy-math.Sqrt(ss/2)) > 1e-12 {
		t.Errorf("mean ± std = %v ± %v, want %v ± %v", cv.Mean.Accuracy, cv.Std.Accuracy, mean, math.Sqrt(ss/2))
	}
}

func TestNestedCVErrors(t *testing.T) {
	p := makeProblem(t, synth{n: 100, c: 3, k: 3, m: 2, seed: 14})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NestedCV(ctx, p, Average{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
	if _, err := NestedCV(context.Background(), p, Caruana{Limits: Limits{MaxBytes: 1}}); !errors.Is(err, ErrBudget) {
		t.Errorf("budget: err = %v, want ErrBudget", err)
	}
	bad := *p
	bad.Folds = make([]int, len(p.Folds)) // a single fold
	if _, err := NestedCV(context.Background(), &bad, Average{}); !errors.Is(err, ErrProblem) {
		t.Errorf("one fold: err = %v, want ErrProblem", err)
	}
}

// antiProblem builds a problem where two members are weakly right and one
// is reliably wrong in a fixed way: it puts its confidence on class
// (y+1) mod C. Averaging lets that member drag the ensemble toward the
// wrong class; a meta-learner learns to read its vote for c as a vote for
// c−1.
func antiProblem(t *testing.T) *Problem {
	t.Helper()
	const n, c, k = 1200, 4, 4
	rng := rand.New(rand.NewPCG(21, 21))
	p := &Problem{Classes: c, Labels: make([]int32, n), Folds: make([]int, n)}
	for i := range n {
		p.Labels[i] = int32(rng.IntN(c))
		p.Folds[i] = i % k
	}
	member := func(id string, shift int, strength float64) Member {
		oof := make([]float32, n*c)
		z := make([]float64, c)
		for i, y := range p.Labels {
			for cl := range z {
				z[cl] = 1.2 * rng.NormFloat64()
			}
			z[(int(y)+shift)%c] += strength
			softmaxInto(oof[i*c:i*c+c], z)
		}
		return Member{ID: id, OOF: oof, Bytes: 1000}
	}
	p.Members = []Member{member("good1", 0, 1.0), member("good2", 0, 1.0), member("anti", 1, 3.0)}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStackingBeatsAveragingWithAntiCorrelatedMember(t *testing.T) {
	p := antiProblem(t)
	ctx := context.Background()
	avg, err := NestedCV(ctx, p, Average{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Stacking{{}, {LogProbs: true}} {
		stack, err := NestedCV(ctx, p, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("average: acc %.3f, log loss %.3f; stacking (log %v): acc %.3f, log loss %.3f",
			avg.Mean.Accuracy, avg.Mean.LogLoss, st.LogProbs, stack.Mean.Accuracy, stack.Mean.LogLoss)
		if stack.Mean.Accuracy < avg.Mean.Accuracy+0.2 {
			t.Errorf("stacking (log %v) accuracy %.3f, average %.3f: want stacking ahead by 0.2", st.LogProbs, stack.Mean.Accuracy, avg.Mean.Accuracy)
		}
		if stack.Mean.LogLoss >= avg.Mean.LogLoss {
			t.Errorf("stacking (log %v) log loss %.3f, average %.3f: want lower", st.LogProbs, stack.Mean.LogLoss, avg.Mean.LogLoss)
		}
		for k := range stack.Folds {
			if stack.Folds[k].Accuracy <= avg.Folds[k].Accuracy {
				t.Errorf("fold %d: stacking %.3f ≤ average %.3f", k, stack.Folds[k].Accuracy, avg.Folds[k].Accuracy)
			}
		}
	}
}
