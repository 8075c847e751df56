package configs

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
)

// Sweep declares one search: the data and protocol every trial shares, the
// fixed training settings, the space searched, how trials are chosen and
// scheduled, the budget, and the ensemble stage. It is what `consort run`
// and `consort submit` read from YAML, and what the coordinator stores in
// etcd (as JSON) for workers to check trials against.
type Sweep struct {
	// Name identifies the sweep: 1–64 of [a-z0-9_-], starting with a
	// letter or digit. It names NATS subjects and etcd keys.
	Name string `json:"name"`
	// Seed makes the sweep reproducible: proposals, training seeds.
	Seed uint64 `json:"seed"`
	// Data is the dataset and protocol every trial shares.
	Data SweepData `json:"data"`
	// Base holds the training settings of every trial; parameters in
	// Space override them. Keys as in `consort train` (snake_case).
	Base trainer.Config `json:"base"`
	// Space is the search space (see package search). Parsed by Parsed.
	Space map[string]any `json:"space"`
	// Sampler chooses fresh configurations.
	Sampler SamplerConfig `json:"sampler"`
	// Objective is what members are ranked and sampled by: "accuracy"
	// (CV accuracy), "ensemble_gain" (marginal gain of the member to the
	// best ensemble so far, on out-of-fold predictions), or for the
	// multi-objective sampler a list such as "accuracy,size" or
	// "accuracy,size,latency".
	Objective string `json:"objective"`
	// ASHA, when Enabled, schedules trials by asynchronous successive
	// halving over epochs.
	ASHA ASHAConfig `json:"asha"`
	// Budget bounds the member stage.
	Budget Budget `json:"budget"`
	// Parallelism is the number of trials kept in flight.
	Parallelism int `json:"parallelism"`
	// Ensemble configures the ensemble stage.
	Ensemble EnsembleConfig `json:"ensemble"`
}

// SweepData is the dataset and the evaluation protocol of a sweep.
type SweepData struct {
	// Source is a built-in name, or a CSV file or IDX directory resolved
	// under each worker's --data-root.
	Source string `json:"source"`
	// Label and Header read a CSV as in `consort train`.
	Label  string `json:"label"`
	Header string `json:"header"`
	// Folds is the number of cross-validation folds (≥ 2).
	Folds int `json:"folds"`
	// TestFraction is the held-out test share when the data has no test
	// file of its own.
	TestFraction float64 `json:"test_fraction"`
	// SplitSeed draws the test split and the folds, shared by all trials.
	SplitSeed uint64 `json:"split_seed"`
}

// SamplerConfig chooses and tunes the sampler.
type SamplerConfig struct {
	// Name: tpe, random, sobol, grid; motpe for several objectives.
	Name string `json:"name"`
	// Startup is the number of random trials before TPE models (0: 10).
	Startup int `json:"startup"`
	// Candidates is TPE's number of candidates per proposal (0: 24).
	Candidates int `json:"candidates"`
	// Multivariate models TPE's parameters jointly.
	Multivariate bool `json:"multivariate"`
	// Initial lists configurations to evaluate first, in order, before
	// the sampler proposes any (search.Enqueued): values for some or all
	// of the space's parameters; the others are drawn at random.
	Initial []map[string]any `json:"initial"`
}

// ASHAConfig configures asynchronous successive halving.
type ASHAConfig struct {
	// Enabled turns ASHA on; trials then run for their rung's epochs.
	Enabled bool `json:"enabled"`
	// Eta is the reduction factor (0: 3).
	Eta int `json:"eta"`
	// MinEpochs and MaxEpochs bound the rungs' epochs.
	MinEpochs int `json:"min_epochs"`
	MaxEpochs int `json:"max_epochs"`
	// Brackets > 1 runs asynchronous Hyperband: bracket b starts its
	// configurations at rung b (search.ASHA.Brackets). 1 is plain ASHA.
	Brackets int `json:"brackets"`
}

// TopEpochs returns the epochs of ASHA's top rung (search.ASHA.Rungs), or
// 0 when ASHA is off. A member trained for fewer epochs is a screen that
// ASHA may stop; only members at the top rung are fully trained.
func (a ASHAConfig) TopEpochs() int {
	if !a.Enabled {
		return 0
	}
	rungs, err := (&search.ASHA{Eta: a.Eta, MinResource: a.MinEpochs, MaxResource: a.MaxEpochs}).Rungs()
	if err != nil {
		return a.MaxEpochs // not a valid sweep; Validate reports it
	}
	return rungs[len(rungs)-1]
}

// Budget bounds the member stage: it ends when Trials trials have been
// started (promotions included) or Wall has passed, whichever comes first.
// Zero means no bound; at least one must be set.
type Budget struct {
	Trials int           `json:"trials"`
	Wall   time.Duration `json:"wall"`
}

// EnsembleConfig configures the ensemble stage.
type EnsembleConfig struct {
	// Enabled runs the stage after the member stage.
	Enabled bool `json:"enabled"`
	// Pool is how many of the best members (by CV accuracy, completed
	// trials at their highest rung) candidates are built from.
	Pool int `json:"pool"`
	// Methods restricts the ensemble methods tried; empty means all.
	Methods []string `json:"methods"`
	// MaxBytes is a size budget: the chosen ensemble's members' packed
	// bytes sum to at most this. 0 means no budget.
	MaxBytes int64 `json:"max_bytes"`
	// MaxMembers bounds the members of an ensemble; 0 means no bound.
	MaxMembers int `json:"max_members"`
	// Distill trains one compressed student on the chosen ensemble's
	// out-of-fold probabilities and enters it on the leaderboard.
	Distill bool `json:"distill"`
	// Student overrides Base for the distilled student (e.g. hidden,
	// sparsity, bits).
	Student map[string]any `json:"student"`
}

// SweepDefaults returns the viper defaults of every Sweep key.
func SweepDefaults() map[string]any {
	d := map[string]any{
		"name":                 "",
		"seed":                 uint64(1),
		"data.source":          "digits",
		"data.label":           "",
		"data.header":          "auto",
		"data.folds":           5,
		"data.test_fraction":   0.2,
		"data.split_seed":      uint64(1),
		"space":                map[string]any{},
		"sampler.name":         "tpe",
		"sampler.startup":      0,
		"sampler.candidates":   0,
		"sampler.multivariate": true,
		"objective":            "accuracy",
		"asha.enabled":         false,
		"asha.eta":             3,
		"asha.min_epochs":      5,
		"asha.max_epochs":      45,
		"asha.brackets":        1,
		"budget.trials":        0,
		"budget.wall":          time.Duration(0),
		"parallelism":          4,
		"ensemble.enabled":     true,
		"ensemble.pool":        20,
		"ensemble.methods":     []string{},
		"ensemble.max_bytes":   int64(0),
		"ensemble.max_members": 0,
		"ensemble.distill":     false,
		"ensemble.student":     map[string]any{},
	}
	for k, v := range defaultsOf(trainer.DefaultConfig()) {
		d["base."+k] = v
	}
	return d
}

var sweepName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Samplers lists the sampler names a sweep accepts.
var Samplers = []string{"tpe", "random", "sobol", "grid", "motpe"}

// objectiveNames are the objectives a sweep can rank members by.
var objectiveNames = []string{"accuracy", "size", "latency"}

// Objectives splits Objective into its parts ("accuracy,size" → both).
func (s *Sweep) Objectives() []string {
	var out []string
	for _, p := range strings.Split(s.Objective, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Parsed returns the sweep's search space.
func (s *Sweep) Parsed() (*search.Space, error) {
	return search.ParseSpace(s.Space)
}

func fieldErr(field string, v any, allowed string) error {
	return &trainer.FieldError{Field: field, Value: v, Allowed: allowed}
}

// Validate reports every invalid field at once, each with its path.
func (s *Sweep) Validate() error {
	var errs []error
	if !sweepName.MatchString(s.Name) {
		errs = append(errs, fieldErr("name", fmt.Sprintf("%q", s.Name), "1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit"))
	}
	if strings.TrimSpace(s.Data.Source) == "" {
		errs = append(errs, fieldErr("data.source", `""`, "a built-in name (digits, iris), a CSV file or an IDX directory"))
	}
	if !slices.Contains([]string{"auto", "yes", "no"}, s.Data.Header) {
		errs = append(errs, fieldErr("data.header", fmt.Sprintf("%q", s.Data.Header), "auto, yes, no"))
	}
	if s.Data.Folds < 2 || s.Data.Folds > 100 {
		errs = append(errs, fieldErr("data.folds", s.Data.Folds, "2..100"))
	}
	if !(s.Data.TestFraction >= 0 && s.Data.TestFraction < 0.9) {
		errs = append(errs, fieldErr("data.test_fraction", s.Data.TestFraction, "[0, 0.9)"))
	}
	if err := s.Base.Validate(); err != nil {
		errs = append(errs, prefixFields("base.", err))
	}
	names := make([]string, 0, len(s.Space))
	for name := range s.Space {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !IsTrialKnob(name) {
			errs = append(errs, fieldErr("space."+name, "unknown parameter", strings.Join(TrialKnobs(), ", ")))
		}
		if s.ASHA.Enabled && name == "epochs" {
			errs = append(errs, fieldErr("space.epochs", "searched", "not searched when asha.enabled: ASHA sets each trial's epochs"))
		}
	}
	if space, err := s.Parsed(); err != nil {
		errs = append(errs, err)
	} else if len(space.Params()) == 0 {
		errs = append(errs, fieldErr("space", "{}", "at least one parameter"))
	} else {
		for i, pt := range s.Sampler.Initial {
			at := fmt.Sprintf("sampler.initial[%d].", i)
			p, err := space.Complete(search.Params(pt), search.NewRand(s.Seed, i))
			if err == nil {
				_, err = ApplyParams(s.Base, p)
			}
			if err != nil {
				errs = append(errs, prefixFields(at, err))
			}
		}
	}
	if !slices.Contains(Samplers, s.Sampler.Name) {
		errs = append(errs, fieldErr("sampler.name", fmt.Sprintf("%q", s.Sampler.Name), strings.Join(Samplers, ", ")))
	}
	if s.Sampler.Startup < 0 || s.Sampler.Candidates < 0 {
		errs = append(errs, fieldErr("sampler.startup/candidates", fmt.Sprintf("%d/%d", s.Sampler.Startup, s.Sampler.Candidates), "≥ 0"))
	}
	objs := s.Objectives()
	switch {
	case s.Objective == "ensemble_gain":
	case len(objs) == 0:
		errs = append(errs, fieldErr("objective", `""`, "accuracy, ensemble_gain, or a list such as accuracy,size"))
	default:
		for _, o := range objs {
			if !slices.Contains(objectiveNames, o) {
				errs = append(errs, fieldErr("objective", fmt.Sprintf("%q", o), "accuracy, size, latency (or ensemble_gain alone)"))
			}
		}
		if len(objs) > 1 && s.Sampler.Name != "motpe" && s.Sampler.Name != "random" && s.Sampler.Name != "sobol" && s.Sampler.Name != "grid" {
			errs = append(errs, fieldErr("sampler.name", fmt.Sprintf("%q", s.Sampler.Name), "motpe (or random, sobol, grid) for several objectives"))
		}
		if len(objs) == 1 && s.Sampler.Name == "motpe" {
			errs = append(errs, fieldErr("objective", s.Objective, "two or three objectives for motpe, e.g. accuracy,size"))
		}
	}
	if s.ASHA.Enabled {
		if s.ASHA.Eta < 2 {
			errs = append(errs, fieldErr("asha.eta", s.ASHA.Eta, "≥ 2"))
		}
		if s.ASHA.MinEpochs < 1 || s.ASHA.MaxEpochs < s.ASHA.MinEpochs || s.ASHA.MaxEpochs > 100000 {
			errs = append(errs, fieldErr("asha.min_epochs/max_epochs", fmt.Sprintf("%d/%d", s.ASHA.MinEpochs, s.ASHA.MaxEpochs), "1 ≤ min_epochs ≤ max_epochs ≤ 100000"))
		} else if rungs, err := (&search.ASHA{Eta: s.ASHA.Eta, MinResource: s.ASHA.MinEpochs, MaxResource: s.ASHA.MaxEpochs}).Rungs(); err == nil && (s.ASHA.Brackets < 0 || s.ASHA.Brackets > len(rungs)) {
			errs = append(errs, fieldErr("asha.brackets", s.ASHA.Brackets, fmt.Sprintf("1..%d, at most one per rung (%s epochs)", len(rungs), strings.Trim(strings.Join(strings.Fields(fmt.Sprint(rungs)), ", "), "[]"))))
		}
		if len(objs) > 1 {
			errs = append(errs, fieldErr("asha.enabled", true, "false with several objectives"))
		}
	}
	if s.Budget.Trials < 0 || s.Budget.Wall < 0 || (s.Budget.Trials == 0 && s.Budget.Wall == 0) {
		errs = append(errs, fieldErr("budget", fmt.Sprintf("trials %d, wall %s", s.Budget.Trials, s.Budget.Wall), "trials > 0 and/or wall > 0"))
	}
	if s.Budget.Trials > 1_000_000 {
		errs = append(errs, fieldErr("budget.trials", s.Budget.Trials, "at most 1,000,000"))
	}
	if s.Parallelism < 1 || s.Parallelism > 10000 {
		errs = append(errs, fieldErr("parallelism", s.Parallelism, "1..10000"))
	}
	if s.Ensemble.Pool < 0 || s.Ensemble.Pool > 1000 || (s.Ensemble.Enabled && s.Ensemble.Pool < 1) {
		errs = append(errs, fieldErr("ensemble.pool", s.Ensemble.Pool, "1..1000"))
	}
	for i, m := range s.Ensemble.Methods {
		if !slices.Contains(ensemble.Methods(), m) || m == ensemble.MethodWeighted {
			errs = append(errs, fieldErr(fmt.Sprintf("ensemble.methods[%d]", i), fmt.Sprintf("%q", m), "average, vote, inverse-error, optimized, caruana, stacking"))
		}
	}
	if s.Ensemble.MaxBytes < 0 || s.Ensemble.MaxMembers < 0 {
		errs = append(errs, fieldErr("ensemble.max_bytes/max_members", fmt.Sprintf("%d/%d", s.Ensemble.MaxBytes, s.Ensemble.MaxMembers), "≥ 0 (0: no bound)"))
	}
	if s.Ensemble.Distill {
		if _, err := s.StudentConfig(); err != nil {
			errs = append(errs, prefixFields("ensemble.student.", err))
		}
	}
	return errors.Join(errs...)
}

// prefixFields prefixes the field of every *FieldError in err.
func prefixFields(prefix string, err error) error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *trainer.FieldError
		if errors.As(e, &fe) {
			c := *fe
			c.Field = prefix + c.Field
			out = append(out, &c)
			return
		}
		var se *search.FieldError
		if errors.As(e, &se) { // an assignment's: params.NAME
			c := *se
			c.Path = prefix + strings.TrimPrefix(c.Path, "params.")
			out = append(out, &c)
			return
		}
		out = append(out, fmt.Errorf("%s%w", prefix, e))
	}
	walk(err)
	return errors.Join(out...)
}

// StudentConfig returns the distilled student's training configuration:
// Base with Ensemble.Student applied.
func (s *Sweep) StudentConfig() (trainer.Config, error) {
	return ApplyParams(s.Base, search.Params(s.Ensemble.Student))
}

// LoadSweep reads a sweep file with CONSORT_* environment overrides
// (CONSORT_PARALLELISM, CONSORT_BUDGET_TRIALS, …) and validates it.
func LoadSweep(file string) (*Sweep, error) {
	v, err := NewViper(file, nil, SweepDefaults())
	if err != nil {
		return nil, err
	}
	var s Sweep
	if err := Decode(v, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// TrialKnobs lists the parameter names a sweep's space may search: the
// training knobs, plus "layers"/"width_i" (or "hidden") for architecture.
func TrialKnobs() []string {
	return []string{"activation", "optimizer", "lr", "momentum", "batch", "epochs", "l2", "lr_schedule", "patience", "bootstrap", "feature_fraction",
		"layers", "width", "hidden", "sparsity", "prune", "prune_scope", "schedule", "fine_tune", "bits", "qat",
		"per_channel", "asymmetric", "act_bits", "distill_t", "distill_alpha"}
}

// IsTrialKnob reports whether name may appear in a sweep's space.
func IsTrialKnob(name string) bool {
	if strings.HasPrefix(name, "width_") {
		return true
	}
	return slices.Contains(TrialKnobs(), name)
}

// ApplyParams returns base with the trial parameters p applied and
// validated: the mapping from a search assignment to a training
// configuration that workers use. Unknown names are errors.
func ApplyParams(base trainer.Config, p search.Params) (trainer.Config, error) {
	c := base
	c.Hidden = append([]int(nil), base.Hidden...)
	var errs []error
	num := func(k string) (float64, bool) {
		switch v := p[k].(type) {
		case float64:
			return v, true
		case int:
			return float64(v), true
		case int64:
			return float64(v), true
		}
		errs = append(errs, fieldErr(k, p[k], "a number"))
		return 0, false
	}
	integer := func(k string) int {
		f, ok := num(k)
		if ok && (f != math.Trunc(f) || math.Abs(f) > 1<<30) {
			errs = append(errs, fieldErr(k, p[k], "an integer"))
		}
		return int(f)
	}
	str := func(k string) string {
		s, ok := p[k].(string)
		if !ok {
			errs = append(errs, fieldErr(k, p[k], "a string"))
		}
		return s
	}
	boolean := func(k string) bool {
		b, ok := p[k].(bool)
		if !ok {
			errs = append(errs, fieldErr(k, p[k], "true or false"))
		}
		return b
	}
	archSet := false
	for k := range p {
		switch {
		case k == "activation":
			c.Activation = str(k)
		case k == "optimizer":
			c.Optimizer = str(k)
		case k == "lr":
			c.LR, _ = num(k)
		case k == "momentum":
			c.Momentum, _ = num(k)
		case k == "batch":
			c.Batch = integer(k)
		case k == "epochs":
			c.Epochs = integer(k)
		case k == "l2":
			c.L2, _ = num(k)
		case k == "lr_schedule":
			c.LRSchedule = str(k)
		case k == "patience":
			c.Patience = integer(k)
		case k == "bootstrap":
			c.Bootstrap = boolean(k)
		case k == "feature_fraction":
			c.FeatureFraction, _ = num(k)
		case k == "sparsity":
			c.Sparsity, _ = num(k)
		case k == "prune":
			c.Prune = str(k)
		case k == "prune_scope":
			c.PruneScope = str(k)
		case k == "schedule":
			c.Schedule = str(k)
		case k == "fine_tune":
			c.FineTune = integer(k)
		case k == "bits":
			c.Bits = integer(k)
		case k == "qat":
			c.QAT = boolean(k)
		case k == "per_channel":
			c.PerChannel = boolean(k)
		case k == "asymmetric":
			c.Asymmetric = boolean(k)
		case k == "act_bits":
			c.ActBits = integer(k)
		case k == "distill_t":
			c.DistillT, _ = num(k)
		case k == "distill_alpha":
			c.DistillAlpha, _ = num(k)
		case k == "layers" || k == "hidden" || strings.HasPrefix(k, "width"):
			archSet = true
		default:
			errs = append(errs, fieldErr(k, "unknown parameter", strings.Join(TrialKnobs(), ", ")))
		}
	}
	if archSet {
		var hidden []int
		var err error
		switch {
		case p["hidden"] != nil:
			hidden, err = p.IntList("hidden")
		default:
			hidden, err = p.IntList("width")
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Hidden = hidden
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}
