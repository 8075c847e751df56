package configs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/consort-ml/consort/trainer"
)

// Train configures one training run (`consort train`): the data, the
// cross-validation protocol, and the model (trainer.Config, flattened:
// its keys sit at the top level).
type Train struct {
	trainer.Config

	// Data is a built-in dataset name (digits, iris), a CSV file, or a
	// directory of IDX files (train-* and t10k-*).
	Data string `json:"data"`
	// Label names the CSV label column, by header name or 1-based column
	// number (negative counts from the end, -1 is the last). Empty means
	// the last column.
	Label string `json:"label"`
	// Header says whether the CSV has a header row: auto, yes or no.
	Header string `json:"header"`
	// Folds is the number of cross-validation folds (≥ 2), or 0 for none.
	Folds int `json:"folds"`
	// TestFraction is the stratified share held out as the test split when
	// the data has no test file of its own; 0 means no test split.
	TestFraction float64 `json:"test_fraction"`
	// SplitSeed draws the test split and the folds; trials compared or
	// ensembled together must share it. Independent of seed.
	SplitSeed uint64 `json:"split_seed"`
	// Parallel is how many folds train at once; 0 means one per core.
	Parallel int `json:"parallel"`
	// JSON prints one JSON object instead of text.
	JSON bool `json:"json"`
	// Save writes the packed refit model to this file.
	Save string `json:"save"`
	// Out writes a trial directory for `consort ensemble`.
	Out string `json:"out"`
	// DistillFrom names a teacher: a packed model or bundle, or a
	// predictions file of the same data and split.
	DistillFrom string `json:"distill_from"`
}

// TrainDefaults returns the viper defaults of every Train key.
func TrainDefaults() map[string]any {
	return defaultsOf(Train{
		Config:       trainer.DefaultConfig(),
		Data:         "digits",
		Header:       "auto",
		Folds:        5,
		TestFraction: 0.2,
		SplitSeed:    1,
	})
}

// Validate reports every invalid field at once.
func (t *Train) Validate() error {
	var errs []error
	if err := t.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(t.Data) == "" {
		errs = append(errs, &trainer.FieldError{Field: "data", Value: `""`, Allowed: "a built-in name (digits, iris), a CSV file or an IDX directory"})
	}
	if !slices.Contains([]string{"auto", "yes", "no"}, t.Header) {
		errs = append(errs, &trainer.FieldError{Field: "header", Value: fmt.Sprintf("%q", t.Header), Allowed: "auto, yes, no"})
	}
	if t.Folds < 0 || t.Folds == 1 || t.Folds > 100 {
		errs = append(errs, &trainer.FieldError{Field: "folds", Value: t.Folds, Allowed: "0 (no cross-validation) or 2..100"})
	}
	if !(t.TestFraction >= 0 && t.TestFraction < 0.9) {
		errs = append(errs, &trainer.FieldError{Field: "test_fraction", Value: t.TestFraction, Allowed: "[0, 0.9)"})
	}
	if t.Parallel < 0 {
		errs = append(errs, &trainer.FieldError{Field: "parallel", Value: t.Parallel, Allowed: "0 (one per core) or more"})
	}
	return errors.Join(errs...)
}
