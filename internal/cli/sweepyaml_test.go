package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/consort-ml/consort/configs"
)

// TestResolvedSweepLoadsBack checks that the sweep.yaml a run writes loads
// back to the very sweep that ran, seeds above 2⁵³ included: it is what a
// user reruns to reproduce a sweep.
func TestResolvedSweepLoadsBack(t *testing.T) {
	dir := t.TempDir()
	quick, err := configs.LoadSweep(filepath.Join("..", "..", "configs", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(`name: big
seed: 18446744073709551557
data: {source: digits, split_seed: 12345678901234567}
base: {lr: 0.0012345678901234567, l2: 1.0e-7}
space:
  lr: {type: float, low: 1.0e-4, high: 3.0e-2, log: true}
  batch: [16, 32]
sampler: {name: tpe, initial: [{lr: 0.001, batch: 16}, {batch: 32}]}
budget: {wall: 90s, trials: 7}
`), 0o600)
	bigSweep, err := configs.LoadSweep(big)
	if err != nil {
		t.Fatal(err)
	}
	for _, sw := range []*configs.Sweep{quick, bigSweep} {
		y, err := yaml.Marshal(sweepYAML(sw))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, sw.Name+"-resolved.yaml")
		os.WriteFile(path, y, 0o600)
		back, err := configs.LoadSweep(path)
		if err != nil {
			t.Fatalf("%s: the resolved sweep does not load: %v\n%s", sw.Name, err, y)
		}
		if len(back.Ensemble.Student) == 0 && len(sw.Ensemble.Student) == 0 {
			back.Ensemble.Student = sw.Ensemble.Student // no student: written {}, read as an empty map
		}
		if !reflect.DeepEqual(back, sw) {
			t.Errorf("%s: the resolved sweep loads as\n%+v\nnot\n%+v\n%s", sw.Name, back, sw, y)
		}
		if strings.Contains(string(y), "e+") {
			t.Errorf("%s: the resolved sweep writes an integer in floating point:\n%s", sw.Name, y)
		}
	}
}
