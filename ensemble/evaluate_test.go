package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	p := makeProblem(t, synth{n: 400, c: 4, k: 4, m: 6, ntest: 200, seed: 31})
	ctx := context.Background()
	ids := []string{p.Members[4].ID, p.Members[1].ID, p.Members[2].ID}
	for _, spec := range []Spec{
		{Method: MethodCaruana, Members: ids, Rounds: 10, Init: 2},
		{Method: MethodStacking, Members: ids},
		{Method: MethodWeighted, Members: ids, Weights: []float64{0.5, 0, 0.5}},
		{Method: MethodVote, Members: ids, MaxBytes: p.Members[4].Bytes + p.Members[1].Bytes + p.Members[2].Bytes - 1},
	} {
		t.Run(spec.Method, func(t *testing.T) {
			r, err := Evaluate(ctx, spec, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.CV.Folds) != 4 || r.Test != nil {
				t.Fatalf("CV folds %d, test %v", len(r.CV.Folds), r.Test)
			}
			var bytes int64
			for _, id := range r.Members {
				if !slices.Contains(ids, id) {
					t.Errorf("uses %q, not in the spec", id)
				}
				bytes += p.Members[p.Index(id)].Bytes
			}
			if bytes != r.Bytes {
				t.Errorf("Bytes = %d, members add up to %d", r.Bytes, bytes)
			}
			if spec.MaxBytes > 0 && r.Bytes > spec.MaxBytes {
				t.Errorf("Bytes = %d over budget %d", r.Bytes, spec.MaxBytes)
			}
			switch spec.Method {
			case MethodWeighted:
				want := map[string]float64{ids[0]: 0.5, ids[2]: 0.5}
				if !mapsEqual(r.Weights, want) {
					t.Errorf("Weights = %v, want %v", r.Weights, want)
				}
			case MethodCaruana:
				var sum float64
				for _, w := range r.Weights {
					sum += w
				}
				if math.Abs(sum-1) > 1e-9 {
					t.Errorf("weights sum to %v", sum)
				}
			default:
				if r.Weights != nil {
					t.Errorf("Weights = %v for %s, want nil", r.Weights, spec.Method)
				}
			}

			f, err := Final(ctx, spec, p)
			if err != nil {
				t.Fatal(err)
			}
			if f.Test == nil || f.Test.Accuracy <= 0.25 {
				t.Fatalf("Final test scores %+v", f.Test)
			}
			if !slices.Equal(f.Members, r.Members) || f.CV.Mean != r.CV.Mean {
				t.Error("Final refitted a different ensemble than Evaluate")
			}
			if _, err := json.Marshal(f); err != nil {
				t.Errorf("marshal result: %v", err)
			}
		})
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if math.Abs(b[k]-v) > 1e-12 {
			return false
		}
	}
	return true
}

// TestEvaluateNeverReadsTest poisons the test split: Evaluate must not
// notice, Final must.
func TestEvaluateNeverReadsTest(t *testing.T) {
	p := makeProblem(t, synth{n: 200, c: 3, k: 3, m: 3, ntest: 50, seed: 32})
	for j := range p.Members {
		for i := range p.Members[j].Test {
			p.Members[j].Test[i] = float32(math.NaN())
		}
	}
	p.TestLabels[0] = 99
	spec := Spec{Method: MethodOptimized, Members: []string{p.Members[0].ID, p.Members[2].ID}}
	if _, err := Evaluate(context.Background(), spec, p); err != nil {
		t.Fatalf("Evaluate with a poisoned test split: %v", err)
	}
	if _, err := Final(context.Background(), spec, p); !errors.Is(err, ErrProblem) {
		t.Fatalf("Final with a poisoned test split: err = %v, want ErrProblem", err)
	}
}

func TestEvaluateErrors(t *testing.T) {
	p := makeProblem(t, synth{n: 100, c: 3, k: 2, m: 3, seed: 33})
	noTest := makeProblem(t, synth{n: 100, c: 3, k: 2, m: 3, seed: 33})
	partial := makeProblem(t, synth{n: 100, c: 3, k: 2, m: 3, ntest: 20, seed: 33})
	partial.Members[1].Test = nil
	ids := []string{p.Members[0].ID, p.Members[1].ID}
	tests := []struct {
		name  string
		final bool
		p     *Problem
		spec  Spec
		want  []error
		quote string
	}{
		{"unknown member", false, p, Spec{Method: MethodAverage, Members: []string{"nobody"}}, []error{ErrSpec, ErrUnknownMember}, `"nobody"`},
		{"bad spec", false, p, Spec{Method: "mean", Members: ids}, []error{ErrSpec}, `"mean"`},
		{"budget", false, p, Spec{Method: MethodCaruana, Members: ids, MaxBytes: 1}, []error{ErrBudget}, "fold 0"},
		{"weights budget", false, p, Spec{Method: MethodWeighted, Members: ids, Weights: []float64{.5, .5}, MaxMembers: 1}, []error{ErrBudget}, ""},
		{"no test labels", true, noTest, Spec{Method: MethodAverage, Members: ids}, []error{ErrNoTest}, ""},
		{"member without test", true, partial, Spec{Method: MethodAverage, Members: ids}, []error{ErrNoTest}, p.Members[1].ID},
		{"member without test unused", true, partial, Spec{Method: MethodWeighted, Members: ids, Weights: []float64{1, 0}}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eval := Evaluate
			if tc.final {
				eval = Final
			}
			_, err := eval(context.Background(), tc.spec, tc.p)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want %v", err, w)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tc.quote) {
				t.Errorf("err = %q, want it to mention %q", err, tc.quote)
			}
		})
	}
}

func TestPareto(t *testing.T) {
	res := func(acc float64, bytes int64) Result {
		return Result{CV: CV{Mean: Scores{Accuracy: acc}}, Bytes: bytes}
	}
	results := []Result{
		res(0.90, 100), // 0: front
		res(0.95, 300), // 1: front
		res(0.93, 300), // 2: dominated by 1
		res(0.89, 150), // 3: dominated by 0
		res(0.97, 900), // 4: front
		res(0.95, 300), // 5: equal to 1: kept
		res(0.90, 50),  // 6: front, dominates 0
	}
	got := Pareto(results)
	want := []int{6, 1, 5, 4}
	if !slices.Equal(got, want) {
		t.Errorf("Pareto = %v, want %v", got, want)
	}
	if got := Pareto(nil); len(got) != 0 {
		t.Errorf("Pareto(nil) = %v", got)
	}
}

func TestMarginalGain(t *testing.T) {
	p := handProblem()
	// Current ensemble: A alone (n = 1). Adding D averages them: on
	// samples 1–4 the label gets (.9+.4)/2 = .65, on 5–6 (.2+.9)/2 = .55,
	// so every sample becomes right (A had 5–6 wrong).
	current := make([]float64, len(p.Members[0].OOF))
	for i, v := range p.Members[0].OOF {
		current[i] = float64(v)
	}
	g, err := MarginalGain(p, current, 1, p.Members[3])
	if err != nil {
		t.Fatal(err)
	}
	wantLL := -(4*math.Log(.65) + 2*math.Log(.55)) / 6
	if math.Abs(g.After.Accuracy-1) > 1e-12 || math.Abs(g.Before.Accuracy-4.0/6) > 1e-12 ||
		math.Abs(g.Accuracy-2.0/6) > 1e-12 || math.Abs(g.After.LogLoss-wantLL) > 1e-6 ||
		math.Abs(g.LogLoss-(g.Before.LogLoss-g.After.LogLoss)) > 1e-15 {
		t.Errorf("gain = %+v, want accuracy 4/6 → 1, log loss → %v", g, wantLL)
	}
	// With n = 3 the candidate gets a quarter of the weight: .9·3/4 +
	// .4/4 = .775 on 1–4 and .2·3/4 + .9/4 = .375 on 5–6: still wrong.
	g, err = MarginalGain(p, current, 3, p.Members[3])
	if err != nil {
		t.Fatal(err)
	}
	if g.Accuracy != 0 {
		t.Errorf("n = 3: accuracy gain %v, want 0", g.Accuracy)
	}

	for _, tc := range []struct {
		name    string
		current []float64
		n       int
		cand    Member
	}{
		{"n zero", current, 0, p.Members[1]},
		{"current shape", current[:3], 1, p.Members[1]},
		{"candidate shape", current, 1, Member{ID: "x", OOF: []float32{1, 0}}},
		{"candidate NaN", current, 1, Member{ID: "x", OOF: slices.Repeat([]float32{float32(math.NaN())}, 12)}},
	} {
		if _, err := MarginalGain(p, tc.current, tc.n, tc.cand); !errors.Is(err, ErrProblem) {
			t.Errorf("%s: err = %v, want ErrProblem", tc.name, err)
		}
	}
}
