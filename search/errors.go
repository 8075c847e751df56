package search

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers branch with errors.Is; validation failures are additionally
// *FieldError values (use errors.As for the path).
var (
	// ErrInvalidSpace marks a search-space declaration that does not
	// validate (ParseSpace, Space.UnmarshalYAML, Space.UnmarshalJSON).
	ErrInvalidSpace = errors.New("search: invalid space")

	// ErrInvalidParams marks an assignment that does not belong to the
	// space (Space.Check).
	ErrInvalidParams = errors.New("search: invalid params")

	// ErrExhausted is returned by a Sampler that has no new configuration
	// left to propose (a Grid whose points are all in the history).
	ErrExhausted = errors.New("search: space exhausted")

	// ErrInvalidConfig marks a sampler, scheduler or Pareto call whose own
	// settings are unusable (ASHA with Eta = 1, a Sobol space wider than its
	// direction-number table, objectives and directions of different
	// lengths).
	ErrInvalidConfig = errors.New("search: invalid configuration")
)

// FieldError is one validation failure at a field path such as
// "space.sparsity.high" or "params.bits". Its Error text is
// "search: <path>: <problem>". It unwraps to ErrInvalidSpace or
// ErrInvalidParams.
type FieldError struct {
	// Path locates the offending field, e.g. "space.lr.low".
	Path string
	// Problem says what is wrong and, where there is one, the allowed range.
	Problem string
	// Kind is the sentinel the error unwraps to.
	Kind error
}

// Error implements error.
func (e *FieldError) Error() string { return "search: " + e.Path + ": " + e.Problem }

// Unwrap returns the sentinel (ErrInvalidSpace or ErrInvalidParams).
func (e *FieldError) Unwrap() error { return e.Kind }

// errList collects field errors for errors.Join.
type errList struct {
	kind error
	errs []error
}

func (l *errList) addf(path, format string, args ...any) {
	l.errs = append(l.errs, &FieldError{Path: path, Problem: fmt.Sprintf(format, args...), Kind: l.kind})
}

func (l *errList) err() error { return errors.Join(l.errs...) }
