package ensemble

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Method names, as a Spec's Method field spells them.
const (
	MethodAverage      = "average"       // Average
	MethodVote         = "vote"          // Vote
	MethodInverseError = "inverse-error" // InverseError
	MethodOptimized    = "optimized"     // Optimized
	MethodCaruana      = "caruana"       // Caruana
	MethodStacking     = "stacking"      // Stacking
	MethodWeighted     = "weighted"      // Fixed: explicit weights
)

// Methods returns every method name a Spec accepts.
func Methods() []string {
	return []string{MethodAverage, MethodVote, MethodInverseError, MethodOptimized, MethodCaruana, MethodStacking, MethodWeighted}
}

// Upper bounds on a Spec's hyperparameters, so that a spec from the bus
// cannot ask for unbounded work.
const (
	MaxSpecRounds     = 100_000
	MaxSpecInit       = 10_000
	MaxSpecBags       = 1_000
	MaxSpecIterations = 100_000
)

// Spec is a self-contained ensemble candidate: anyone holding the named
// members' OOF artifacts can score it with Evaluate. It is JSON-encoded on
// the wire; ParseSpec decodes and validates one.
//
// Hyperparameters a method does not use must be left zero.
type Spec struct {
	// Name optionally labels the candidate on a leaderboard.
	Name string `json:"name,omitempty"`

	// Method is one of the Method* names.
	Method string `json:"method"`

	// Members lists the candidate member ids, at least one, no duplicates.
	// Methods weight and report members in this order.
	Members []string `json:"members"`

	// Weights gives one weight per member, for MethodWeighted only (where
	// it is required): non-negative and summing to 1 within
	// SimplexTolerance.
	Weights []float64 `json:"weights,omitempty"`

	// MaxBytes caps the used members' total packed bytes. Zero means no
	// budget.
	MaxBytes int64 `json:"max_bytes,omitempty"`

	// MaxMembers caps the number of distinct members used. Zero means no
	// limit.
	MaxMembers int `json:"max_members,omitempty"`

	// Rounds, Init, Bags, BagFraction, Metric and Seed configure
	// MethodCaruana; see Caruana. Metric is "logloss" (or empty) or
	// "accuracy".
	Rounds      int     `json:"rounds,omitempty"`
	Init        int     `json:"init,omitempty"`
	Bags        int     `json:"bags,omitempty"`
	BagFraction float64 `json:"bag_fraction,omitempty"`
	Metric      string  `json:"metric,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`

	// L2 and Features configure MethodStacking; see Stacking. Features is
	// "prob" (or empty) or "logprob".
	L2       float64 `json:"l2,omitempty"`
	Features string  `json:"features,omitempty"`

	// MaxIterations caps the optimiser of MethodOptimized and
	// MethodStacking. Zero means DefaultMaxIterations.
	MaxIterations int `json:"max_iterations,omitempty"`
}

// ParseSpec decodes one JSON Spec, rejecting unknown fields and trailing
// data, and validates it. Errors wrap ErrSpec.
func ParseSpec(data []byte) (Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("%w: json: %w", ErrSpec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Spec{}, fmt.Errorf("%w: json: data after the spec", ErrSpec)
	}
	if len(s.Weights) == 0 {
		s.Weights = nil // "weights": [] means none, as omitted
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Validate checks the spec on its own (not against a Problem) and reports
// every fault, each wrapping ErrSpec.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrSpec}, args...)...))
	}
	m := s.Method
	if !slices.Contains(Methods(), m) {
		bad("method %q: want one of %q", m, Methods())
	}
	if len(s.Members) == 0 {
		bad("no members")
	}
	seen := make(map[string]bool, len(s.Members))
	for i, id := range s.Members {
		switch {
		case id == "":
			bad("member %d: empty id", i)
		case seen[id]:
			bad("member %q listed twice", id)
		}
		seen[id] = true
	}
	if s.MaxBytes < 0 {
		bad("max_bytes: %d is negative", s.MaxBytes)
	}
	if s.MaxMembers < 0 {
		bad("max_members: %d is negative", s.MaxMembers)
	}

	// unused reports a non-zero hyperparameter the method ignores.
	unused := func(field string, set bool, users ...string) {
		if set && m != "" && slices.Contains(Methods(), m) && !slices.Contains(users, m) {
			bad("%s: not used by method %q", field, m)
		}
	}
	unused("weights", s.Weights != nil, MethodWeighted)
	unused("rounds", s.Rounds != 0, MethodCaruana)
	unused("init", s.Init != 0, MethodCaruana)
	unused("bags", s.Bags != 0, MethodCaruana)
	unused("bag_fraction", s.BagFraction != 0, MethodCaruana)
	unused("metric", s.Metric != "", MethodCaruana)
	unused("seed", s.Seed != 0, MethodCaruana)
	unused("l2", s.L2 != 0, MethodStacking)
	unused("features", s.Features != "", MethodStacking)
	unused("max_iterations", s.MaxIterations != 0, MethodOptimized, MethodStacking)

	if m == MethodWeighted {
		switch {
		case s.Weights == nil:
			bad("weights: required by method %q", m)
		case len(s.Weights) != len(s.Members):
			bad("weights: %d for %d members", len(s.Weights), len(s.Members))
		default:
			if err := checkSimplex(s.Weights); err != nil {
				errs = append(errs, err)
			}
		}
	}
	intRange := func(field string, v, hi int) {
		if v < 0 || v > hi {
			bad("%s: %d not in [0, %d]", field, v, hi)
		}
	}
	intRange("rounds", s.Rounds, MaxSpecRounds)
	intRange("init", s.Init, MaxSpecInit)
	intRange("bags", s.Bags, MaxSpecBags)
	intRange("max_iterations", s.MaxIterations, MaxSpecIterations)
	if f := s.BagFraction; math.IsNaN(f) || f < 0 || f > 1 {
		bad("bag_fraction: %v not in (0, 1]", f)
	}
	if _, err := ParseMetric(s.Metric); err != nil {
		errs = append(errs, err)
	}
	if l2 := s.L2; math.IsNaN(l2) || math.IsInf(l2, 0) || l2 < 0 {
		bad("l2: %v is not a non-negative number", l2)
	}
	if s.Features != "" && s.Features != "prob" && s.Features != "logprob" {
		bad("features %q: want \"prob\" or \"logprob\"", s.Features)
	}
	return errors.Join(errs...)
}

// Fitter validates s and returns the method it describes, configured with
// its hyperparameters and limits. Explicit weights are in s.Members order,
// so the Fitter must be fitted on a Problem with exactly those members in
// that order (Problem.Subset(s.Members)), as Evaluate does.
func (s Spec) Fitter() (Fitter, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	lim := Limits{MaxBytes: s.MaxBytes, MaxMembers: s.MaxMembers}
	switch s.Method {
	case MethodAverage:
		return Average{Limits: lim}, nil
	case MethodVote:
		return Vote{Limits: lim}, nil
	case MethodInverseError:
		return InverseError{Limits: lim}, nil
	case MethodOptimized:
		return Optimized{MaxIterations: s.MaxIterations, Limits: lim}, nil
	case MethodCaruana:
		metric, _ := ParseMetric(s.Metric) // validated above
		return Caruana{
			Rounds: s.Rounds, Init: s.Init, Metric: metric,
			Bags: s.Bags, BagFraction: s.BagFraction, Seed: s.Seed,
			Limits: lim,
		}, nil
	case MethodStacking:
		return Stacking{L2: s.L2, LogProbs: s.Features == "logprob", MaxIterations: s.MaxIterations, Limits: lim}, nil
	default: // MethodWeighted; Validate rejected anything else
		return Fixed{Weights: slices.Clone(s.Weights), Limits: lim}, nil
	}
}

// DefaultStackingMembers caps the members a default stacking spec uses, to
// keep its meta-learner's features (members × classes) small.
const DefaultStackingMembers = 10

// DefaultSpecs returns a sensible set of candidate specs over members for a
// coordinator to fan out: every method except MethodWeighted (average,
// vote, inverse-error, optimized, Caruana with and without bagging,
// stacking on probabilities and on log-probabilities), each without a
// budget and under each budget in budgets. With no budgets given, the
// budgets are 1×, 2× and 4× the largest member's bytes, skipping any that
// would admit every member (the unbudgeted specs cover those). Stacking
// specs are capped at DefaultStackingMembers members. Specs are named
// "<method>[-<variant>][-b<bytes>]".
func DefaultSpecs(members []Member, budgets ...int64) []Spec {
	ids := make([]string, len(members))
	var total, largest int64
	for j, m := range members {
		ids[j] = m.ID
		total += m.Bytes
		largest = max(largest, m.Bytes)
	}
	if budgets == nil {
		for _, f := range []int64{1, 2, 4} {
			if b := f * largest; b > 0 && b < total {
				budgets = append(budgets, b)
			}
		}
	}
	stackMax := 0
	if len(ids) > DefaultStackingMembers {
		stackMax = DefaultStackingMembers
	}
	base := []Spec{
		{Name: MethodAverage, Method: MethodAverage},
		{Name: MethodVote, Method: MethodVote},
		{Name: MethodInverseError, Method: MethodInverseError},
		{Name: MethodOptimized, Method: MethodOptimized},
		{Name: MethodCaruana, Method: MethodCaruana, Rounds: DefaultRounds, Init: DefaultInit},
		{Name: MethodCaruana + "-bagged", Method: MethodCaruana, Rounds: DefaultRounds, Init: DefaultInit, Bags: 10, BagFraction: DefaultBagFraction, Seed: 1},
		{Name: MethodStacking, Method: MethodStacking, L2: DefaultL2, MaxMembers: stackMax},
		{Name: MethodStacking + "-logprob", Method: MethodStacking, L2: DefaultL2, Features: "logprob", MaxMembers: stackMax},
	}
	var out []Spec
	for _, b := range append([]int64{0}, budgets...) {
		for _, s := range base {
			s.Members = slices.Clone(ids)
			if b > 0 {
				s.MaxBytes = b
				s.Name += "-b" + strconv.FormatInt(b, 10)
			}
			out = append(out, s)
		}
	}
	return out
}
