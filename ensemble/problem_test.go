package ensemble

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestProblemValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *Problem)
		want   []string // substrings of the error; nil means valid
	}{
		{"valid", func(*Problem) {}, nil},
		{"one class", func(p *Problem) { p.Classes = 1 }, []string{"classes: 1"}},
		{"label out of range", func(p *Problem) { p.Labels[3] = 2 }, []string{"label 3: class 2"}},
		{"negative label", func(p *Problem) { p.Labels[0] = -1 }, []string{"label 0: class -1"}},
		{"folds length", func(p *Problem) { p.Folds = p.Folds[:5] }, []string{"5 folds for 6 labels"}},
		{"single fold", func(p *Problem) { p.Folds = []int{0, 0, 0, 0, 0, 0} }, []string{"1 fold"}},
		{"empty fold", func(p *Problem) { p.Folds = []int{0, 2, 0, 2, 0, 2} }, []string{"fold 1 of 3 is empty"}},
		{"negative fold", func(p *Problem) { p.Folds[2] = -1 }, []string{"sample 2: negative fold"}},
		{"no members", func(p *Problem) { p.Members = nil }, []string{"no members"}},
		{"duplicate id", func(p *Problem) { p.Members[2].ID = "A" }, []string{`member "A": duplicate id`}},
		{"empty id", func(p *Problem) { p.Members[1].ID = "" }, []string{"member 1: empty id"}},
		{"short oof", func(p *Problem) { p.Members[1].OOF = p.Members[1].OOF[:11] }, []string{`member "B": oof: 11 values, want 6×2 = 12`}},
		{"NaN", func(p *Problem) { p.Members[2].OOF[4] = float32(math.NaN()) }, []string{`member "C": oof: row 2: class 0: probability NaN`}},
		{"negative probability", func(p *Problem) { p.Members[3].OOF[1] = -0.1 }, []string{`member "D": oof: row 0: class 1`}},
		{"row sum", func(p *Problem) { p.Members[0].OOF[0] += 0.01 }, []string{`member "A": oof: row 0: sums to 1.01`}},
		{"negative bytes", func(p *Problem) { p.Members[0].Bytes = -5 }, []string{`member "A": negative size -5`}},
		{"test without labels", func(p *Problem) { p.Members[0].Test = []float32{1, 0} }, []string{`member "A": test probabilities without test labels`}},
		{"test shape", func(p *Problem) {
			p.TestLabels = []int32{0, 1}
			p.Members[0].Test = []float32{1, 0}
		}, []string{`member "A": test: 2 values, want 2×2 = 4`}},
		{"test label", func(p *Problem) { p.TestLabels = []int32{5} }, []string{"test label 0: class 5"}},
		{"several at once", func(p *Problem) {
			p.Members[1].Bytes = -1
			p.Members[3].OOF[0] = 2
		}, []string{`member "B": negative size`, `member "D": oof: row 0: sums to`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := handProblem()
			tc.modify(p)
			err := p.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrProblem) {
				t.Fatalf("Validate() = %v, want ErrProblem", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestFitMalformed checks that every method reports a malformed Problem
// instead of panicking when called without Validate.
func TestFitMalformed(t *testing.T) {
	breaks := map[string]func(p *Problem){
		"short oof":   func(p *Problem) { p.Members[1].OOF = p.Members[1].OOF[:3] },
		"bad label":   func(p *Problem) { p.Labels[0] = 9 },
		"no members":  func(p *Problem) { p.Members = nil },
		"no labels":   func(p *Problem) { p.Labels = nil },
		"one class":   func(p *Problem) { p.Classes = 1 },
		"neg bytes":   func(p *Problem) { p.Members[0].Bytes = -1 },
		"long oof":    func(p *Problem) { p.Members[0].OOF = append(p.Members[0].OOF, 0) },
		"zero labels": func(p *Problem) { p.Labels = p.Labels[:0] },
	}
	for name, brk := range breaks {
		for _, f := range allFitters(4) {
			p := handProblem()
			brk(p)
			if _, err := f.Fit(t.Context(), p); !errors.Is(err, ErrProblem) {
				t.Errorf("%s: %T: err = %v, want ErrProblem", name, f, err)
			}
		}
	}
}

// allFitters returns one of every method, for a problem of m members.
func allFitters(m int) []Fitter {
	w := make([]float64, m)
	w[0] = 1
	return []Fitter{
		Average{}, Vote{}, InverseError{}, Optimized{},
		Caruana{Rounds: 5, Init: 2}, Caruana{Rounds: 5, Init: 2, Bags: 3, Seed: 1},
		Caruana{Rounds: 5, Metric: MetricAccuracy},
		Stacking{}, Stacking{LogProbs: true}, Fixed{Weights: w},
	}
}

func TestSubset(t *testing.T) {
	p := handProblem()
	sub, err := p.Subset([]string{"D", "A"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Members) != 2 || sub.Members[0].ID != "D" || sub.Members[1].ID != "A" {
		t.Fatalf("Subset(D, A) members = %v", sub.Members)
	}
	if &sub.Members[0].OOF[0] != &p.Members[3].OOF[0] {
		t.Error("Subset copied member data")
	}
	_, err = p.Subset([]string{"A", "X", "Y"})
	if !errors.Is(err, ErrUnknownMember) || !strings.Contains(err.Error(), `"X"`) || !strings.Contains(err.Error(), `"Y"`) {
		t.Errorf("Subset(A, X, Y) = %v, want ErrUnknownMember naming X and Y", err)
	}
	if _, err := p.Subset([]string{"A", "A"}); !errors.Is(err, ErrProblem) {
		t.Errorf("Subset(A, A) = %v, want ErrProblem", err)
	}
	if got := p.Index("C"); got != 2 {
		t.Errorf("Index(C) = %d, want 2", got)
	}
	if got := p.Index("Z"); got != -1 {
		t.Errorf("Index(Z) = %d, want -1", got)
	}
	if got := p.NumFolds(); got != 2 {
		t.Errorf("NumFolds() = %d, want 2", got)
	}
}
