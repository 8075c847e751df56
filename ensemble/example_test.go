package ensemble_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/consort-ml/consort/ensemble"
)

// exampleProblem builds a 3-class problem of 300 training samples in 3
// folds and 100 test samples, with five members of growing strength and
// size, as a trainer would deliver them.
func exampleProblem() *ensemble.Problem {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, nt, c, k = 300, 100, 3, 3
	p := &ensemble.Problem{Classes: c, Labels: make([]int32, n), Folds: make([]int, n), TestLabels: make([]int32, nt)}
	for i := range p.Labels {
		p.Labels[i], p.Folds[i] = int32(rng.IntN(c)), i%k
	}
	for i := range p.TestLabels {
		p.TestLabels[i] = int32(rng.IntN(c))
	}
	// Every member sees the same hard samples: noise shared across members
	// plus noise of its own.
	shared := make([]float64, (n+nt)*c)
	for i := range shared {
		shared[i] = rng.NormFloat64()
	}
	probs := func(labels []int32, strength float64) []float32 {
		out := make([]float32, len(labels)*c)
		base := shared[:n*c]
		if len(labels) == nt {
			base = shared[n*c:]
		}
		for i, y := range labels {
			var z [c]float64
			var sum float64
			for cl := range z {
				z[cl] = 0.9*base[i*c+cl] + 0.7*rng.NormFloat64()
				if cl == int(y) {
					z[cl] += strength
				}
				z[cl] = math.Exp(z[cl])
				sum += z[cl]
			}
			for cl := range z {
				out[i*c+cl] = float32(z[cl] / sum)
			}
		}
		return out
	}
	for j := range 5 {
		strength := 0.8 + 0.3*float64(j)
		p.Members = append(p.Members, ensemble.Member{
			ID:    fmt.Sprintf("trial-%d", j),
			OOF:   probs(p.Labels, strength),
			Test:  probs(p.TestLabels, strength),
			Bytes: int64(1000 * (j + 1)),
		})
	}
	return p
}

// A coordinator's ensemble stage: score candidate specs by nested CV,
// pick the best, and look at the test split once.
func Example() {
	ctx := context.Background()
	p := exampleProblem()

	var best ensemble.Result
	for _, spec := range ensemble.DefaultSpecs(p.Members, 6000) {
		r, err := ensemble.Evaluate(ctx, spec, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		if r.CV.Mean.Accuracy > best.CV.Mean.Accuracy {
			best = r
		}
	}
	final, err := ensemble.Final(ctx, best.Spec, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("best %s: nested-CV accuracy %.3f ± %.3f, %d bytes\n",
		best.Spec.Name, best.CV.Mean.Accuracy, best.CV.Std.Accuracy, best.Bytes)
	fmt.Printf("test accuracy %.3f\n", final.Test.Accuracy)
	// Output:
	// best stacking-logprob: nested-CV accuracy 0.867 ± 0.015, 15000 bytes
	// test accuracy 0.820
}

func ExampleParseSpec() {
	spec, err := ensemble.ParseSpec([]byte(`{
		"method": "caruana",
		"members": ["trial-1", "trial-3", "trial-4"],
		"rounds": 25, "init": 2, "bags": 4, "seed": 7,
		"max_bytes": 8000
	}`))
	fmt.Println(spec.Method, spec.Members, spec.Rounds, spec.MaxBytes, err)

	_, err = ensemble.ParseSpec([]byte(`{"method":"weighted","members":["a","b"],"weights":[0.7,0.7]}`))
	fmt.Println(err)
	// Output:
	// caruana [trial-1 trial-3 trial-4] 25 8000 <nil>
	// ensemble: invalid spec: weights sum to 1.4, want 1 ± 1e-06
}

func ExampleNestedCV() {
	p := exampleProblem()
	for _, f := range []ensemble.Fitter{
		ensemble.Average{},
		ensemble.Caruana{Rounds: 20, Init: 2},
		ensemble.Stacking{},
	} {
		cv, err := ensemble.NestedCV(context.Background(), p, f)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-20T accuracy %.3f ± %.3f  log loss %.3f  macro-F1 %.3f\n",
			f, cv.Mean.Accuracy, cv.Std.Accuracy, cv.Mean.LogLoss, cv.Mean.MacroF1)
	}
	// Output:
	// ensemble.Average     accuracy 0.747 ± 0.015  log loss 0.640  macro-F1 0.746
	// ensemble.Caruana     accuracy 0.803 ± 0.038  log loss 0.494  macro-F1 0.802
	// ensemble.Stacking    accuracy 0.857 ± 0.038  log loss 0.360  macro-F1 0.856
}

func ExampleCaruana() {
	p := exampleProblem()
	comb, err := ensemble.Caruana{Rounds: 10, Init: 2, Limits: ensemble.Limits{MaxBytes: 8000}}.Fit(context.Background(), p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for j, w := range comb.(*ensemble.Weighted).Weights {
		fmt.Printf("%s %.2f\n", p.Members[j].ID, w)
	}
	// Output:
	// trial-0 0.00
	// trial-1 0.00
	// trial-2 0.08
	// trial-3 0.00
	// trial-4 0.92
}

func ExampleDefaultSpecs() {
	p := exampleProblem()
	var names []string
	for _, s := range ensemble.DefaultSpecs(p.Members, 4000) {
		names = append(names, s.Name)
	}
	fmt.Println(strings.Join(names, "\n"))
	// Output:
	// average
	// vote
	// inverse-error
	// optimized
	// caruana
	// caruana-bagged
	// stacking
	// stacking-logprob
	// average-b4000
	// vote-b4000
	// inverse-error-b4000
	// optimized-b4000
	// caruana-b4000
	// caruana-bagged-b4000
	// stacking-b4000
	// stacking-logprob-b4000
}

func ExamplePareto() {
	ctx := context.Background()
	p := exampleProblem()
	var results []ensemble.Result
	for _, b := range []int64{0, 3000, 5000, 9000} {
		spec := ensemble.Spec{Method: ensemble.MethodCaruana, Members: []string{"trial-0", "trial-1", "trial-2", "trial-3", "trial-4"}, MaxBytes: b}
		r, err := ensemble.Evaluate(ctx, spec, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		results = append(results, r)
	}
	for _, i := range ensemble.Pareto(results) {
		fmt.Printf("%d bytes, accuracy %.3f  %v\n", results[i].Bytes, results[i].CV.Mean.Accuracy, results[i].Members)
	}
	// Output:
	// 3000 bytes, accuracy 0.697  [trial-2]
	// 5000 bytes, accuracy 0.793  [trial-4]
	// 9000 bytes, accuracy 0.800  [trial-3 trial-4]
}

func ExampleMarginalGain() {
	ctx := context.Background()
	p := exampleProblem()
	spec := ensemble.Spec{Method: ensemble.MethodAverage, Members: []string{"trial-3", "trial-4"}}
	r, err := ensemble.Evaluate(ctx, spec, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, _ := p.Subset(spec.Members)
	current := make([]float64, len(p.Labels)*p.Classes)
	r.Combiner.Predict(current, sub.OOF())

	for _, cand := range p.Members[:3] {
		g, err := ensemble.MarginalGain(p, current, len(r.Members), cand)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: accuracy %+.3f, log loss %+.3f\n", cand.ID, g.Accuracy, g.LogLoss)
	}
	// Output:
	// trial-0: accuracy -0.057, log loss -0.115
	// trial-1: accuracy -0.030, log loss -0.074
	// trial-2: accuracy -0.017, log loss -0.037
}
