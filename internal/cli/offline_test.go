package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train --out, ensemble --save, predict: the offline workflow.
func TestOfflineTrainEnsemblePredict(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models")
	}
	dir := t.TempDir()
	var dirs []string
	for i, args := range [][]string{
		{"--hidden", "32", "--seed", "1"},
		{"--hidden", "48", "--seed", "2", "--sparsity", "0.5", "--bits", "8"},
		{"--hidden", "24,16", "--seed", "3", "--bits", "8", "--qat"},
	} {
		out := filepath.Join(dir, "t"+string(rune('a'+i)))
		dirs = append(dirs, out)
		base := []string{"train", "--data", "digits", "--epochs", "8", "--fine-tune", "2", "--folds", "3", "--out", out, "--json"}
		code, stdout, stderr := run(t, append(base, args...)...)
		if code != 0 {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || r["size_bytes"].(float64) <= 0 {
			t.Fatalf("train json %v: %s", err, stdout)
		}
		for _, f := range []string{"trial.json", "predictions.bin", "model.consort"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	bundle := filepath.Join(dir, "best.consort")
	code, stdout, stderr := run(t, append([]string{"ensemble", "--save", bundle, "--json"}, dirs...)...)
	if code != 0 {
		t.Fatalf("ensemble: exit %d: %s", code, stderr)
	}
	var ens struct {
		Rows []struct {
			Chosen bool `json:"chosen"`
			CV     struct {
				Mean struct{ Accuracy float64 } `json:"mean"`
			} `json:"cv"`
			Test *struct{ Accuracy float64 } `json:"test"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(stdout), &ens); err != nil || len(ens.Rows) < 2 {
		t.Fatalf("ensemble json %v: %s", err, stdout)
	}
	if !ens.Rows[0].Chosen || ens.Rows[0].Test == nil || ens.Rows[0].CV.Mean.Accuracy < 0.85 {
		t.Fatalf("first row %+v: want chosen, tested once, accurate", ens.Rows[0])
	}
	for _, r := range ens.Rows[1:] {
		if r.Test != nil {
			t.Fatal("an ensemble that was not chosen was scored on the test split")
		}
	}
	code, stdout, stderr = run(t, "predict", "--model", bundle, "--data", "digits", "--quiet")
	if code != 0 || !strings.Contains(stdout, "accuracy 0.9") {
		t.Fatalf("predict: exit %d: %s %s", code, stdout, stderr)
	}
	// Usage errors: wrong width, missing flags, junk model.
	junk := filepath.Join(dir, "junk.consort")
	os.WriteFile(junk, []byte("not a model"), 0o600)
	for _, args := range [][]string{
		{"predict", "--model", bundle, "--data", "iris"},
		{"predict", "--model", bundle},
		{"predict", "--model", junk, "--data", "digits"},
		{"ensemble", filepath.Join(dir, "nope")},
	} {
		if code, _, stderr := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d (want 2): %s", args, code, stderr)
		}
	}
}

func TestDistillFromModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models")
	}
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher.consort")
	if code, _, stderr := run(t, "train", "--data", "iris", "--hidden", "16", "--epochs", "40", "--lr", "0.01", "--folds", "0", "--save", teacher); code != 0 {
		t.Fatalf("teacher: %s", stderr)
	}
	code, stdout, stderr := run(t, "train", "--data", "iris", "--hidden", "4", "--epochs", "60", "--lr", "0.01", "--folds", "3", "--distill-from", teacher, "--json")
	if code != 0 {
		t.Fatalf("student: exit %d: %s", code, stderr)
	}
	var r map[string]any
	json.Unmarshal([]byte(stdout), &r)
	if acc, _ := r["cv_accuracy"].(float64); acc < 0.8 {
		t.Fatalf("distilled student CV accuracy %v: %s", r["cv_accuracy"], stdout)
	}
	if code, _, _ := run(t, "train", "--data", "digits", "--distill-from", teacher); code != 2 {
		t.Fatalf("a teacher of another width was accepted: exit %d", code)
	}
}
