package search_test

import (
	"errors"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/consort-ml/consort/search"
)

func ExampleParseSpace() {
	doc := `
space:
  lr:       {type: float, low: 1.0e-4, high: 0.1, log: true}
  layers:   {type: int, low: 1, high: 2}
  width:    {type: int, low: 16, high: 256, log: true, per: layers}
  bits:     [4, 8, 32]
  qat:      {type: bool, when: {param: bits, op: lt, value: 32}}
  sparsity: {type: float, low: 0, high: 0.9}
`
	var cfg struct {
		Space search.Space `yaml:"space"` // or search.ParseSpace on the generic map
	}
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range cfg.Space.Params() {
		fmt.Println(p.Name, p.Kind, p.When)
	}
	// Output:
	// bits categorical []
	// layers int []
	// lr float []
	// qat categorical [bits lt 32]
	// sparsity float []
	// width_1 int [layers ge 1]
	// width_2 int [layers ge 2]
}

func ExampleParseSpace_errors() {
	var raw map[string]any
	_ = yaml.Unmarshal([]byte(`
sparsity: {type: float, low: 0, high: 1.5}
bits: [4, 7]
prune: random
`), &raw)
	_, err := search.ParseSpace(raw)
	fmt.Println(errors.Is(err, search.ErrInvalidSpace))
	fmt.Println(err)
	// Output:
	// true
	// search: space.bits[1]: 7 not in {2, 3, 4, 5, 6, 8, 16, 32}
	// search: space.prune.value: "random" not in {unstructured, structured}
	// search: space.sparsity.high: 1.5 outside [0, 0.99]
}

func ExampleSpace_Check() {
	space, _ := search.ParseSpace(map[string]any{
		"bits": []any{4, 8, 32},
		"qat":  map[string]any{"type": "bool", "when": map[string]any{"param": "bits", "op": "lt", "value": 32}},
		"lr":   map[string]any{"type": "float", "low": 1e-4, "high": 0.1, "log": true},
	})
	// A worker refuses trials that do not belong to the sweep.
	err := space.Check(search.Params{"bits": 32.0, "qat": true, "lr": 0.5, "cmd": "rm -rf /"})
	fmt.Println(err)
	fmt.Println(space.Check(search.Params{"bits": 8.0, "qat": false, "lr": 0.01}))
	// Output:
	// search: params.cmd: unknown parameter
	// search: params.lr: 0.5 outside [0.0001, 0.1]
	// search: params.qat: set but inactive (requires bits lt 32)
	// <nil>
}

func ExampleParams_IntList() {
	p := search.Params{"layers": 2, "width_1": 128, "width_2": 64.0} // 64.0: decoded from JSON
	hidden, _ := p.IntList("width")
	fmt.Println(hidden)
	// Output: [128 64]
}

func ExampleTPE() {
	space, _ := search.ParseSpace(map[string]any{
		"x": map[string]any{"type": "float", "low": -5, "high": 5},
	})
	sampler := &search.TPE{Directions: []search.Direction{search.Minimize}}
	const seed = 1
	var history []search.Trial
	for len(history) < 60 {
		// Proposal i draws from NewRand(seed, i): a restarted coordinator
		// proposes the same trial from the same history.
		p, err := sampler.Sample(space, history, search.NewRand(seed, len(history)))
		if err != nil {
			fmt.Println(err)
			return
		}
		x, _ := p.Float("x")
		history = append(history, search.Trial{
			ID: strconv.Itoa(len(history)), Params: p,
			State: search.Complete, Values: []float64{(x - 2) * (x - 2)},
		})
	}
	best := history[0]
	for _, t := range history {
		if t.Values[0] < best.Values[0] {
			best = t
		}
	}
	fmt.Printf("best x ≈ %.1f\n", best.Params["x"])
	// Output: best x ≈ 2.0
}

func ExampleASHA() {
	asha := &search.ASHA{Eta: 3, MinResource: 1, MaxResource: 9, Direction: search.Maximize}
	rungs, _ := asha.Rungs()
	fmt.Println("epochs per rung:", rungs)

	done := func(id string, acc float64) search.Trial {
		return search.Trial{ID: id, Params: search.Params{"lr": acc / 10}, State: search.Complete, Values: []float64{acc}}
	}
	history := []search.Trial{done("a", 0.71), done("b", 0.84), {ID: "c", State: search.Running}}
	d, _ := asha.Next(history)
	fmt.Println(d.Action, d.Rung, d.Resource) // two results: none in the top third yet

	history = append(history, done("d", 0.78))
	d, _ = asha.Next(history)
	fmt.Println(d.Action, d.Parent, d.Rung, d.Resource) // c still runs: no waiting

	// The coordinator records the promotion as a new trial.
	history = append(history, search.Trial{ID: "b@1", Params: d.Params, Rung: d.Rung, Parent: d.Parent, State: search.Running})
	d, _ = asha.Next(history)
	fmt.Println(d.Action, d.Rung, d.Resource)
	// Output:
	// epochs per rung: [1 3 9]
	// start 0 1
	// promote b 1 3
	// start 0 1
}

func ExampleHypervolume() {
	// (accuracy ↑, size in KB ↓) of three models.
	points := [][]float64{{0.90, 40}, {0.95, 120}, {0.85, 60}}
	dirs := []search.Direction{search.Maximize, search.Minimize}
	fronts, _ := search.NonDominatedSort(points, dirs)
	fmt.Println("fronts:", fronts)
	hv, _ := search.Hypervolume(points, []float64{0.5, 200}, dirs)
	fmt.Printf("hypervolume: %.1f\n", hv)
	// Output:
	// fronts: [[0 1] [2]]
	// hypervolume: 68.0
}
