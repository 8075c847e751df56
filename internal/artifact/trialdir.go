package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/packed"
)

// Files of a trial directory.
const (
	TrialFile       = "trial.json"
	PredictionsFile = "predictions.bin"
	ModelFile       = "model.consort"
)

// Trial is a trial directory's summary (trial.json).
type Trial struct {
	// ID names the trial; by default the directory's base name.
	ID string `json:"id"`
	// Dataset and SplitSeed identify the data and folds: trials combined
	// into an ensemble must share them.
	Dataset   string `json:"dataset"`
	SplitSeed uint64 `json:"split_seed"`
	Folds     int    `json:"folds"`
	// Config is the training configuration.
	Config trainer.Config `json:"config"`
	// CV scores: accuracy mean and std over folds, per-fold accuracies.
	CVAccuracy    float64   `json:"cv_accuracy"`
	CVAccuracyStd float64   `json:"cv_accuracy_std"`
	FoldAccuracy  []float64 `json:"folds_accuracy"`
	// Size of the packed model.
	trainer.Size
}

// SaveTrial writes a trial directory: trial.json, predictions.bin and
// model.consort.
func SaveTrial(dir string, t *Trial, preds *trainer.Predictions, model *packed.Model) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, TrialFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	pb, err := preds.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, PredictionsFile), pb, 0o644); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if _, err := packed.WriteFile(filepath.Join(dir, ModelFile), model); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}

// ErrNotTrial marks a directory that is not a trial directory.
var ErrNotTrial = errors.New("artifact: not a trial directory")

// LoadTrial reads a trial directory written by SaveTrial. The model's
// size is the length of its file.
func LoadTrial(dir string) (*Trial, *trainer.Predictions, *packed.Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, TrialFile))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, nil, fmt.Errorf("%w: %s has no %s", ErrNotTrial, dir, TrialFile)
		}
		return nil, nil, nil, fmt.Errorf("artifact: %w", err)
	}
	var t Trial
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, nil, nil, fmt.Errorf("artifact: %s: %w", filepath.Join(dir, TrialFile), err)
	}
	if t.ID == "" {
		t.ID = filepath.Base(filepath.Clean(dir))
	}
	pb, err := os.ReadFile(filepath.Join(dir, PredictionsFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("artifact: %w", err)
	}
	preds, err := trainer.UnmarshalPredictions(pb)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("artifact: %s: %w", filepath.Join(dir, PredictionsFile), err)
	}
	model, err := packed.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("artifact: %s: %w", filepath.Join(dir, ModelFile), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ModelFile)); err == nil {
		t.Bytes = fi.Size()
	}
	return &t, preds, model, nil
}
