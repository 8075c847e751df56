package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consort-ml/consort/search"
)

func TestQuickstartSweepLoads(t *testing.T) {
	s, err := LoadSweep("quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "quickstart" || s.Data.Source != "digits" || s.Budget.Trials != 80 || !s.ASHA.Enabled {
		t.Fatalf("loaded %+v", s)
	}
	if s.Base.Schedule != "agp" || s.Base.Epochs != 30 || s.Base.Optimizer != "adam" {
		t.Fatalf("base %+v: file values or defaults lost", s.Base)
	}
	space, err := s.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	// Every sampled assignment maps onto a valid training configuration.
	tpe := &search.Random{}
	for i := 0; i < 50; i++ {
		p, err := tpe.Sample(space, nil, search.NewRand(1, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := space.Check(p); err != nil {
			t.Fatal(err)
		}
		cfg, err := ApplyParams(s.Base, p)
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if len(cfg.Hidden) < 1 || len(cfg.Hidden) > 2 {
			t.Fatalf("%v gave hidden %v", p, cfg.Hidden)
		}
	}
	if _, err := s.StudentConfig(); err != nil {
		t.Fatal(err)
	}
}

func TestSweepEnvironmentOverrides(t *testing.T) {
	t.Setenv("CONSORT_BUDGET_TRIALS", "7")
	t.Setenv("CONSORT_PARALLELISM", "2")
	s, err := LoadSweep("quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Budget.Trials != 7 || s.Parallelism != 2 {
		t.Fatalf("budget.trials %d parallelism %d, want 7 and 2 from the environment", s.Budget.Trials, s.Parallelism)
	}
}

func TestSweepErrorsAllAtOnce(t *testing.T) {
	file := writeFile(t, "s.yaml", `
name: "Bad Name"
data: {source: digits, folds: 1}
base: {activation: sigmoid}
space:
  sparsity: {type: float, low: 0, high: 1.5}
  frobs: [1, 2]
sampler: {name: annealing}
budget: {trials: 0}
parallelism: 0
ensemble: {methods: [magic]}
`)
	_, err := LoadSweep(file)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("error %v does not wrap ErrConfig", err)
	}
	for _, want := range []string{"name:", "data.folds", "base.activation", "space.sparsity.high", "space.frobs",
		"sampler.name", "budget", "parallelism", "ensemble.methods[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
}

func TestApplyParamsRejectsForeignValues(t *testing.T) {
	base := TrainDefaults()
	_ = base
	s, err := LoadSweep("quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []search.Params{
		{"rm": "-rf /"},
		{"lr": "fast"},
		{"bits": 7.0},
		{"batch": 2.5},
		{"sparsity": 2.0},
	} {
		if _, err := ApplyParams(s.Base, p); !errors.Is(err, ErrConfig) {
			t.Errorf("%v: error %v", p, err)
		}
	}
	cfg, err := ApplyParams(s.Base, search.Params{"hidden": "32,16", "bits": 8.0, "qat": true, "lr": 0.002})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bits != 8 || !cfg.QAT || cfg.LR != 0.002 || len(cfg.Hidden) != 2 || cfg.Hidden[0] != 32 {
		t.Fatalf("applied %+v", cfg)
	}
}

// A sweep file of any content loads or fails with ErrConfig — never a
// panic — and what loads is valid.
func FuzzLoadSweep(f *testing.F) {
	q, _ := os.ReadFile("quickstart.yaml")
	f.Add(q)
	f.Add([]byte("name: x\nspace: {lr: [1, 2]}\nbudget: {trials: 1}\n"))
	f.Add([]byte("space: {width: {type: int, low: 1, high: 9, per: layers}}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, in, 0o600); err != nil {
			t.Skip()
		}
		s, err := LoadSweep(p)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("loaded an invalid sweep: %v", err)
		}
	})
}

func TestASHATopEpochs(t *testing.T) {
	for _, tc := range []struct {
		a    ASHAConfig
		want int
	}{
		{ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 5, MaxEpochs: 45}, 45},
		{ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 15, MaxEpochs: 45}, 45},
		{ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 5, MaxEpochs: 40}, 15},
		{ASHAConfig{Enabled: true, MinEpochs: 2, MaxEpochs: 20}, 18}, // Eta 0 means 3
		{ASHAConfig{Enabled: true, Eta: 2, MinEpochs: 1, MaxEpochs: 10}, 8},
		{ASHAConfig{Eta: 3, MinEpochs: 5, MaxEpochs: 45}, 0}, // off: nothing is a screen
	} {
		if got := tc.a.TopEpochs(); got != tc.want {
			t.Errorf("%+v: TopEpochs %d, want %d", tc.a, got, tc.want)
		}
	}
}

func TestASHABracketsValidated(t *testing.T) {
	for _, tc := range []struct {
		brackets string
		bad      bool
	}{
		{"", false}, // default: 1, plain ASHA
		{"brackets: 3,", false},
		{"brackets: 4,", true}, // three rungs: 5, 15, 45
		{"brackets: -1,", true},
	} {
		file := writeFile(t, "s.yaml", `
name: b
data: {source: digits}
space: {lr: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}}
asha: {enabled: true, `+tc.brackets+` min_epochs: 5, max_epochs: 45}
budget: {trials: 10}
`)
		s, err := LoadSweep(file)
		switch {
		case tc.bad && (err == nil || !strings.Contains(err.Error(), "asha.brackets")):
			t.Errorf("%q: error %v, want one naming asha.brackets", tc.brackets, err)
		case !tc.bad && err != nil:
			t.Errorf("%q: %v", tc.brackets, err)
		case tc.brackets == "" && err == nil && s.ASHA.Brackets != 1:
			t.Errorf("default brackets %d, want 1", s.ASHA.Brackets)
		}
	}
}

// TestSweepWholeNumbers checks that a number which does not fit an
// integer field is an error naming it, not wrapped or truncated: a
// negative or fractional seed, a seed beyond 2⁶⁴−1, fractional folds.
func TestSweepWholeNumbers(t *testing.T) {
	dir := t.TempDir()
	load := func(top, data string) (*Sweep, error) {
		p := filepath.Join(dir, "s.yaml")
		doc := "name: s\n" + top + "\ndata: {source: digits" + data + "}\nspace:\n  lr: {type: float, low: 1.0e-3, high: 1.0e-2}\nbudget: {trials: 1}\n"
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadSweep(p)
	}
	for _, tc := range []struct{ top, data, field string }{
		{"seed: -1", "", "'seed' -1"},
		{"seed: 1.5", "", "'seed' 1.5"},
		{"seed: 1.8446744073709552e+19", "", "'seed' 1.8446744073709552e+19"},
		{"seed: 1", ", folds: 2.7", "'data.folds' 2.7"},
		{"seed: 1", ", split_seed: -2", "'data.split_seed' -2"},
	} {
		_, err := load(tc.top, tc.data)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field+" is not allowed (allowed: whole numbers") {
			t.Errorf("%s%s: got %v, want an error naming %s", tc.top, tc.data, err, tc.field)
		}
	}
	for _, tc := range []struct {
		top  string
		seed uint64
	}{{"seed: 18446744073709551615", 1<<64 - 1}, {"seed: 1.0e+3", 1000}, {"seed: 12345678901234567", 12345678901234567}} {
		s, err := load(tc.top, "")
		if err != nil || s.Seed != tc.seed {
			t.Errorf("%s: seed %v, %v; want %d", tc.top, s, err, tc.seed)
		}
	}
}

// TestSweepInitialPoints checks that sampler.initial points are checked
// against the space when the sweep loads, every problem named with the
// point's index: unknown parameters, values out of range, parameters
// their own values leave inactive.
func TestSweepInitialPoints(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	doc := `name: s
data: {source: digits}
space:
  lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
  bits: [4, 8, 32]
  qat: {type: bool, when: {param: bits, op: lt, value: 32}}
sampler:
  initial:
    - {lr: 0.003, bits: 8, qat: true}
    - {lr: 0.5, bits: 32, qat: true, depth: 3}
    - {}
budget: {trials: 5}
`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSweep(p)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("got %v, want ErrConfig", err)
	}
	for _, want := range []string{"sampler.initial[1].depth: unknown parameter", "sampler.initial[1].lr: 0.5 outside", "sampler.initial[1].qat: set but inactive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "initial[0]") || strings.Contains(err.Error(), "initial[2]") {
		t.Errorf("%v\nfaults a valid point", err)
	}
	os.WriteFile(p, []byte(strings.Replace(doc, "    - {lr: 0.5, bits: 32, qat: true, depth: 3}\n", "", 1)), 0o600)
	s, err := LoadSweep(p)
	if err != nil || len(s.Sampler.Initial) != 2 || s.Sampler.Initial[0]["bits"] != 8 {
		t.Fatalf("valid points: %v, %+v", err, s)
	}
}
