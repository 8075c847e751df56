// Package ensemble combines the out-of-fold (OOF) predictions of trained
// models into ensembles and scores them by nested cross-validation, so that
// an ensemble is never judged on the predictions it was fitted to.
//
// # Inputs
//
// A Problem holds the training labels, the cross-validation fold of each
// training sample, optional test labels, and the candidate Members. A
// Member carries its OOF class probabilities (N×C float32, row-major: row i
// predicted by the fold model that did not train on sample i), optional
// test probabilities, its packed size in bytes and its id. Probabilities
// are stored as float32 (100 members × 10,000 samples × 10 classes is
// 40 MB) and accumulated in float64 where precision matters. Problem.Validate
// reports every inconsistency at once, naming the member.
//
// # Methods
//
// Each method is a Fitter: Fit(ctx, p) fits on every row of p and returns a
// Combiner that turns member probabilities into ensemble probabilities.
//
//   - Average: simple average (soft vote).
//   - Vote: majority (hard) vote, ties by summed probability (Majority).
//   - InverseError: weights ∝ 1 / error rate on the rows fitted on.
//   - Optimized: weights minimising log loss on the simplex (softmax
//     parametrisation, L-BFGS with an analytic gradient).
//   - Caruana: greedy forward selection with replacement (Caruana et al.
//     2004), sorted initialisation, a fixed number of rounds, optional
//     bagging over random member subsets.
//   - Stacking: L2-regularised multinomial logistic regression on the
//     members' probabilities or log-probabilities (L-BFGS).
//   - Fixed: explicit weights, fitted to nothing.
//
// The weighted methods return a *Weighted whose weights lie on the simplex.
//
// # Size budget and member limit
//
// Every method takes Limits: MaxBytes caps the total packed bytes of the
// members the ensemble uses (a member selected several times counts once)
// and MaxMembers caps how many distinct members it uses. Caruana enforces
// them at every step: a member not yet selected is a candidate only if it
// fits what is left (across bags too). The fixed-member methods (Average,
// Vote, InverseError, Optimized, Stacking) preselect: if all members fit,
// all are used; otherwise members are taken greedily in order of their own
// accuracy on the rows being fitted (ties by log loss, then position),
// skipping any that would break the budget, until the member limit. Fixed
// fails with ErrBudget if its positive weights do not fit. Preselection
// happens inside Fit, so under nested CV it too only sees the fitting rows.
// Pareto gives the front of (nested-CV accuracy ↑, bytes ↓) over results.
//
// # Honest scoring
//
// NestedCV fits a method, for each fold k, on a copy of the Problem holding
// only the other folds' rows, then scores its predictions on fold k against
// fold k's labels: accuracy, log loss and macro-F1 per fold, with mean and
// standard deviation. A method never sees the labels of, or is scored on, a
// row it was fitted on.
//
// # Specs
//
// A Spec is a self-contained, JSON-encodable ensemble candidate (method,
// member ids, hyperparameters, explicit weights, budget, member limit) that
// anyone holding the members' OOF artifacts can score. ParseSpec decodes
// one strictly; DefaultSpecs proposes a set for a pool of members. The
// lifecycle of a coordinator's ensemble stage is:
//
//	specs := ensemble.DefaultSpecs(p.Members)       // fan these out
//	res, err := ensemble.Evaluate(ctx, specs[i], p) // on a worker: nested CV + refit
//	...                                             // rank results by res.CV.Mean
//	final, err := ensemble.Final(ctx, best.Spec, p) // once: the test split
//
// Evaluate never reads test data; Final is the only function that does.
// MarginalGain scores how much one more member would add to an ensemble,
// for ensemble-aware search.
//
// # Errors
//
// Bad input is reported, never panicked on. Callers branch with errors.Is
// on ErrProblem (malformed Problem or Member), ErrSpec (malformed Spec or
// method hyperparameters), ErrUnknownMember (an id not in the Problem,
// joined with ErrSpec when it comes from a Spec), ErrBudget (nothing fits
// the Limits) and ErrNoTest (Final without test data); cancellation
// returns ctx.Err(). Only Combiner.Predict panics, on matrices of the wrong
// shape, which is a programming error.
package ensemble
