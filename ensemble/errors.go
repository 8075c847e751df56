package ensemble

import "errors"

// Sentinel errors. Every error returned by this package that is caused by
// bad input wraps exactly one of these, so callers branch with errors.Is.
var (
	// ErrProblem reports a Problem or Member with inconsistent shapes or
	// invalid values (labels out of range, empty folds, NaN probabilities…).
	ErrProblem = errors.New("ensemble: invalid problem")

	// ErrSpec reports a Spec that is malformed on its own: unknown method,
	// negative or non-normalised weights, hyperparameters that the method
	// does not use, undecodable JSON.
	ErrSpec = errors.New("ensemble: invalid spec")

	// ErrUnknownMember reports a member id that is not in the Problem. It is
	// joined with ErrSpec when the id comes from a Spec.
	ErrUnknownMember = errors.New("ensemble: unknown member")

	// ErrBudget reports that no member (or not the given explicit weights)
	// fits the size budget or the member-count limit.
	ErrBudget = errors.New("ensemble: budget")

	// ErrNoTest reports a request for test metrics on a Problem without
	// test labels or without test probabilities for every member used.
	ErrNoTest = errors.New("ensemble: no test split")
)
