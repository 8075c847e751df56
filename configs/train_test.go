package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/consort-ml/consort/trainer"
)

func trainFlags() *pflag.FlagSet {
	f := pflag.NewFlagSet("train", pflag.ContinueOnError)
	d := trainer.DefaultConfig()
	f.Int("epochs", d.Epochs, "")
	f.Float64("lr", d.LR, "")
	f.Int("batch", d.Batch, "")
	f.IntSlice("hidden", d.Hidden, "")
	f.String("lr-schedule", d.LRSchedule, "")
	f.String("data", "digits", "")
	return f
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceFlagsEnvFileDefaults(t *testing.T) {
	file := writeFile(t, "c.yaml", "epochs: 7\nlr: 0.01\nbatch: 16\nhidden: [20, 10]\nlr_schedule: cosine\n")
	t.Setenv("CONSORT_EPOCHS", "9")
	t.Setenv("CONSORT_LR", "0.02")
	t.Setenv("CONSORT_HIDDEN", "30,15")
	f := trainFlags()
	if err := f.Parse([]string{"--epochs", "11"}); err != nil {
		t.Fatal(err)
	}
	v, err := NewViper(file, f, TrainDefaults())
	if err != nil {
		t.Fatal(err)
	}
	var c Train
	if err := Decode(v, &c); err != nil {
		t.Fatal(err)
	}
	if c.Epochs != 11 {
		t.Errorf("epochs = %d, want 11 from the flag", c.Epochs)
	}
	if c.LR != 0.02 {
		t.Errorf("lr = %v, want 0.02 from the environment", c.LR)
	}
	if len(c.Hidden) != 2 || c.Hidden[0] != 30 || c.Hidden[1] != 15 {
		t.Errorf("hidden = %v, want [30 15] from the environment", c.Hidden)
	}
	if c.Batch != 16 || c.LRSchedule != "cosine" {
		t.Errorf("batch = %d, lr_schedule = %q; want 16 and cosine from the file", c.Batch, c.LRSchedule)
	}
	if c.Optimizer != "adam" || c.Folds != 5 || c.Data != "digits" {
		t.Errorf("defaults lost: optimizer %q folds %d data %q", c.Optimizer, c.Folds, c.Data)
	}
}

func TestDecodeErrorsNameFieldsAndAllowedValues(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"bad values all at once", "activation: sigmoid\nbits: 7\nfolds: 1\nlr: -1\n",
			[]string{`activation: "sigmoid"`, "relu, tanh", "bits: 7", "2, 3, 4, 5, 6, 8, 16, 32", "folds: 1", "lr: -1"}},
		{"unknown key", "epochs: 5\nepoch: 6\n", []string{"epoch"}},
		{"wrong type", "epochs: many\n", []string{"epochs"}},
		{"qat without quantization", "qat: true\n", []string{"qat", "bits < 32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewViper(writeFile(t, "c.yaml", tc.file), nil, TrainDefaults())
			if err == nil {
				var c Train
				err = Decode(v, &c)
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMissingOrBrokenConfigFile(t *testing.T) {
	if _, err := NewViper(filepath.Join(t.TempDir(), "nope.yaml"), nil, TrainDefaults()); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := NewViper(writeFile(t, "c.yaml", "epochs: [1\n"), nil, TrainDefaults()); !errors.Is(err, ErrConfig) {
		t.Fatalf("broken YAML: %v", err)
	}
}
