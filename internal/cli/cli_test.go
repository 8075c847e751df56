package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the command line and returns the exit status and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	ragged := filepath.Join(dir, "ragged.csv")
	os.WriteFile(ragged, []byte("a,b,label\n1,2,x\n3,y\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"unknown flag", []string{"train", "--nope"}, 2, []string{"unknown flag", "--nope"}},
		{"bad flag value", []string{"train", "--epochs", "many"}, 2, []string{"epochs"}},
		{"bad choice", []string{"train", "--activation", "sigmoid"}, 2, []string{"activation", "relu, tanh"}},
		{"bad bits", []string{"train", "--bits", "7"}, 2, []string{"bits", "2, 3, 4, 5, 6, 8, 16, 32"}},
		{"stray argument", []string{"train", "extra"}, 2, []string{"no arguments"}},
		{"missing data", []string{"train", "--data", filepath.Join(dir, "absent.csv")}, 2, []string{"absent.csv"}},
		{"bad csv", []string{"train", "--data", ragged}, 2, []string{"ragged.csv", "line 3"}},
		{"missing config file", []string{"train", "--config", filepath.Join(dir, "c.yaml")}, 2, []string{"c.yaml"}},
		{"version", []string{"version"}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

func TestTrainJSON(t *testing.T) {
	code, out, stderr := run(t, "train", "--data", "iris", "--hidden", "8", "--epochs", "30", "--folds", "3", "--lr", "0.01", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"cv_accuracy", "cv_accuracy_std", "test_accuracy", "folds", "params", "seconds"} {
		if _, ok := r[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if folds := r["folds"].([]any); len(folds) != 3 {
		t.Errorf("folds = %v, want 3 accuracies", folds)
	}
	// 4-8-3: 4·8+8 + 8·3+3 = 67 parameters.
	if r["params"].(float64) != 67 {
		t.Errorf("params = %v, want 67", r["params"])
	}
	if acc := r["cv_accuracy"].(float64); acc < 0.85 {
		t.Errorf("iris CV accuracy %v: training is broken", acc)
	}
}

func TestTrainTextAndEnvironment(t *testing.T) {
	t.Setenv("CONSORT_EPOCHS", "3")
	code, out, stderr := run(t, "train", "--data", "iris", "--hidden", "4", "--folds", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"epochs=3", "cv ", "test ", "fold"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestInterruptedExit checks that a command stopped by a signal (its
// context canceled) exits with 130 and says so in one line, not with
// status 1 and "context canceled".
func TestInterruptedExit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, []string{"train", "--data", "iris", "--epochs", "30", "--folds", "3"}, strings.NewReader(""), &out, &errb)
	if code != ExitInterrupted || errb.String() != "consort: interrupted\n" {
		t.Fatalf("exit %d, stderr %q; want %d and one line saying it was interrupted", code, errb.String(), ExitInterrupted)
	}
}
