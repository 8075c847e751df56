package search

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sweepYAML is a sweep's search space as a user writes it.
const sweepYAML = `
space:
  lr:          {type: float, low: 1.0e-4, high: 0.3, log: true}
  batch:       [32, 64, 128]
  epochs:      {type: int, low: 5, high: 45, step: 10}
  l2:          {type: float, low: 0, high: 0.01}
  optimizer:   {type: categorical, values: [sgd, adam]}
  activation:  relu
  layers:      {type: int, low: 1, high: 3}
  width:       {type: int, low: 16, high: 256, log: true, per: layers}
  sparsity:    {type: float, low: 0, high: 0.9}
  prune:       {type: categorical, values: [unstructured, structured], when: {param: sparsity, op: gt, value: 0}}
  schedule:    {type: categorical, values: [oneshot, agp]}
  bits:        {type: categorical, values: [4, 8, 32]}
  qat:         {type: bool, when: {param: bits, op: lt, value: 32}}
  per_channel: {type: bool, when: [{param: bits, op: in, value: [4, 8]}, {param: qat, value: true}]}
`

// parseYAML decodes a document with a space: section through yaml.v3.
func parseYAML(tb testing.TB, doc string) (*Space, error) {
	tb.Helper()
	var cfg struct {
		Space Space `yaml:"space"`
	}
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		return nil, err
	}
	return &cfg.Space, nil
}

func TestParseSpaceSweep(t *testing.T) {
	s, err := parseYAML(t, sweepYAML)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var names []string
	for _, p := range s.Params() {
		names = append(names, p.Name)
	}
	// Parents before children, otherwise by name; width expands per layer.
	want := []string{"activation", "batch", "bits", "epochs", "l2", "layers", "lr", "optimizer",
		"qat", "per_channel", "schedule", "sparsity", "prune", "width_1", "width_2", "width_3"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("order:\n got %v\nwant %v", names, want)
	}
	tests := []struct {
		name string
		want Param
	}{
		{"batch", Param{Name: "batch", Kind: Categorical, Values: []any{32, 64, 128}}},
		{"activation", Param{Name: "activation", Kind: Categorical, Values: []any{"relu"}}},
		{"epochs", Param{Name: "epochs", Kind: Int, Low: 5, High: 45, Step: 10}},
		{"lr", Param{Name: "lr", Kind: Float, Low: 1e-4, High: 0.3, Log: true}},
		{"qat", Param{Name: "qat", Kind: Categorical, Values: []any{false, true},
			When: []Condition{{Param: "bits", Op: Lt, Value: 32.0}}}},
		{"per_channel", Param{Name: "per_channel", Kind: Categorical, Values: []any{false, true},
			When: []Condition{{Param: "bits", Op: In, Value: []any{4.0, 8.0}}, {Param: "qat", Op: Eq, Value: true}}}},
		{"width_2", Param{Name: "width_2", Kind: Int, Low: 16, High: 256, Log: true,
			When: []Condition{{Param: "layers", Op: Ge, Value: 2.0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.Param(tc.name)
			if !ok {
				t.Fatalf("no parameter %q", tc.name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
	if _, ok := s.Param("width"); ok {
		t.Error("the per-layer declaration itself should not be a parameter")
	}
}

func TestParseSpaceFromGenericMaps(t *testing.T) {
	// viper and yaml.v2 hand over map[any]any and typed slices; env
	// overrides arrive as strings.
	raw := map[string]any{
		"lr":    map[any]any{"type": "float", "low": "1e-4", "high": 0.1, "log": "true"},
		"bits":  []int{4, 8},
		"width": map[string]any{"type": "int", "low": int64(8), "high": uint(64)},
	}
	s, err := ParseSpace(raw)
	if err != nil {
		t.Fatalf("ParseSpace: %v", err)
	}
	if p, _ := s.Param("lr"); p.Low != 1e-4 || !p.Log {
		t.Errorf("lr = %+v", p)
	}
	if p, _ := s.Param("bits"); !reflect.DeepEqual(p.Values, []any{4, 8}) {
		t.Errorf("bits values = %#v", p.Values)
	}
}

func TestParseSpaceErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // every error text expected, in order
	}{
		{"sparsity above domain", `sparsity: {type: float, low: 0, high: 1.5}`,
			[]string{"search: space.sparsity.high: 1.5 outside [0, 0.99]"}},
		{"bits not allowed", `bits: [4, 7, 32]`,
			[]string{"search: space.bits[1]: 7 not in {2, 3, 4, 5, 6, 8, 16, 32}"}},
		{"bits int range", `bits: {type: int, low: 2, high: 8}`,
			[]string{"search: space.bits: range [2, 8] includes 7 not in {2, 3, 4, 5, 6, 8, 16, 32}; use a categorical"}},
		{"bits as float", `bits: {type: float, low: 2, high: 8}`,
			[]string{"search: space.bits.type: float not allowed (want int or categorical)"}},
		{"prune unknown", `prune: [unstructured, random]`,
			[]string{`search: space.prune[1]: "random" not in {unstructured, structured}`}},
		{"prune unknown in mapping", `prune: {type: categorical, values: [random, structured]}`,
			[]string{`search: space.prune.values[0]: "random" not in {unstructured, structured}`}},
		{"schedule unknown", `schedule: linear`,
			[]string{`search: space.schedule.value: "linear" not in {oneshot, agp}`}},
		{"qat not bool", `qat: [0, 1]`,
			[]string{"search: space.qat[0]: 0 not in {false, true}", "search: space.qat[1]: 1 not in {false, true}"}},
		{"lr zero", `lr: {type: float, low: 0, high: 0.1}`,
			[]string{"search: space.lr.low: 0 outside (0, 10]"}},
		{"optimizer", `optimizer: [sgd, rmsprop]`,
			[]string{`search: space.optimizer[1]: "rmsprop" not in {sgd, adam}`}},
		{"batch fractional", `batch: [16, 24.5]`,
			[]string{"search: space.batch[1]: 24.5 not an integer"}},
		{"low above high", `x: {type: float, low: 2, high: 1}`,
			[]string{"search: space.x.high: 1 not above low 2"}},
		{"log needs positive", `x: {type: float, low: 0, high: 1, log: true}`,
			[]string{"search: space.x.low: 0 outside (0, +Inf) required by log"}},
		{"int not integral", `x: {type: int, low: 0.5, high: 4}`,
			[]string{"search: space.x.low: 0.5 not an integer"}},
		{"step mismatch", `x: {type: int, low: 0, high: 10, step: 3}`,
			[]string{"search: space.x.step: high-low = 10 not a multiple of 3"}},
		{"unknown field", `x: {type: float, low: 0, high: 1, lgo: true}`,
			[]string{"search: space.x.lgo: unknown field (want one of high, log, low, per, step, type, values, when)"}},
		{"field of other type", `x: {type: float, low: 0, high: 1, step: 1}`,
			[]string{"search: space.x.step: not allowed for type float"}},
		{"missing type", `x: {low: 0, high: 1}`,
			[]string{"search: space.x.type: missing (want float, int, categorical or bool)"}},
		{"unknown type", `x: {type: complex}`,
			[]string{`search: space.x.type: "complex" unknown (want float, int, categorical or bool)`}},
		{"missing bounds", `x: {type: int}`,
			[]string{"search: space.x.low: missing", "search: space.x.high: missing"}},
		{"mixed values", `x: [1, a]`,
			[]string{`search: space.x[1]: "a" is a string but earlier values are numbers`}},
		{"duplicate values", `x: [a, b, a]`,
			[]string{`search: space.x[2]: "a" duplicates values[0]`}},
		{"empty", `x: []`, []string{"search: space.x: empty list of values"}},
		{"null", `x: null`,
			[]string{"search: space.x: empty declaration (want a mapping with type, a list of values, or a fixed value)"}},
		{"bad name", `"x-y": [1]`,
			[]string{"search: space.\"x-y\": invalid name (want a letter followed by letters, digits or _)"}},
		{"condition on unknown", `qat: {type: bool, when: {param: bitz, op: lt, value: 32}}`,
			[]string{`search: space.qat.when.param: "bitz" is not a parameter`}},
		{"condition bad op", "bits: [4, 32]\nqat: {type: bool, when: {param: bits, op: lessthan, value: 32}}",
			[]string{"search: space.qat.when.op: lessthan unknown (want eq, ne, lt, le, gt, ge or in)"}},
		{"condition type mismatch", "bits: [4, 32]\nqat: {type: bool, when: {param: bits, value: four}}",
			[]string{`search: space.qat.when.value: "four" is a string, want a number like bits`}},
		{"order on strings", "optimizer: [sgd, adam]\nx: {type: bool, when: {param: optimizer, op: lt, value: sgd}}",
			[]string{"search: space.x.when.op: lt needs a numeric parameter, optimizer is categorical over strings"}},
		{"in needs list", "bits: [4, 32]\nqat: {type: bool, when: {param: bits, op: in, value: 4}}",
			[]string{"search: space.qat.when.value: want a non-empty list for op in"}},
		{"cycle", "a: {type: bool, when: {param: b, value: true}}\nb: {type: bool, when: {param: a, value: true}}",
			[]string{"search: space: conditions form a cycle among a, b"}},
		{"no follow-up errors", "bits: {type: int}\nqat: {type: bool, when: {param: bits, op: lt, value: 32}}",
			[]string{"search: space.bits.low: missing", "search: space.bits.high: missing"}},
		{"per unknown", `width: {type: int, low: 1, high: 8, per: depth}`,
			[]string{`search: space.width.per: "depth" is not a declared parameter`}},
		{"per on float", "depth: {type: float, low: 1, high: 3}\nwidth: {type: int, low: 1, high: 8, per: depth}",
			[]string{`search: space.width.per: "depth" is float, want int`}},
		{"per clash", "layers: {type: int, low: 1, high: 2}\nwidth: {type: int, low: 1, high: 8, per: layers}\nwidth_2: [3]",
			[]string{"search: space.width.per: expands to width_2, which is declared too"}},
		{"all at once", "sparsity: {type: float, low: -0.1, high: 1.5}\nbits: [1]\nlr: {type: float, low: 0.1, high: 0.01}",
			[]string{
				"search: space.bits[0]: 1 not in {2, 3, 4, 5, 6, 8, 16, 32}",
				"search: space.lr.high: 0.01 not above low 0.1",
				"search: space.sparsity.low: -0.1 outside [0, 0.99]",
				"search: space.sparsity.high: 1.5 outside [0, 0.99]",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]any
			if err := yaml.Unmarshal([]byte(tc.doc), &raw); err != nil {
				t.Fatalf("yaml: %v", err)
			}
			s, err := ParseSpace(raw)
			if err == nil {
				t.Fatalf("ParseSpace accepted %q: %v", tc.doc, s.Params())
			}
			if s != nil {
				t.Errorf("ParseSpace returned a space with an error")
			}
			if !errors.Is(err, ErrInvalidSpace) {
				t.Errorf("error %v does not wrap ErrInvalidSpace", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Path, "space") {
				t.Errorf("error %v carries no FieldError with a space path", err)
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSpaceRoundTrip(t *testing.T) {
	s, err := parseYAML(t, sweepYAML)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("yaml", func(t *testing.T) {
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Space
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", out, err)
		}
		if !reflect.DeepEqual(back.Params(), s.Params()) {
			t.Errorf("round trip changed the space:\n%s", out)
		}
	})
	t.Run("json", func(t *testing.T) {
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Space
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", out, err)
		}
		if !reflect.DeepEqual(back.Params(), s.Params()) {
			t.Errorf("round trip changed the space:\n%s", out)
		}
	})
}

func TestSpaceUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"not a mapping", "space: [1, 2]"},
		{"invalid", "space: {sparsity: {type: float, low: 0, high: 2}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseYAML(t, tc.doc)
			if !errors.Is(err, ErrInvalidSpace) {
				t.Errorf("got %v, want ErrInvalidSpace", err)
			}
		})
	}
	var s Space
	if err := json.Unmarshal([]byte(`{"x": {"type": "int", "low": 3, "high": 1}}`), &s); !errors.Is(err, ErrInvalidSpace) {
		t.Errorf("json: got %v, want ErrInvalidSpace", err)
	}
}

func TestKnobs(t *testing.T) {
	want := []string{"activation", "batch", "bits", "epochs", "l2", "layers", "lr", "optimizer",
		"per_channel", "prune", "qat", "schedule", "sparsity", "width"}
	if got := Knobs(); !reflect.DeepEqual(got, want) {
		t.Errorf("Knobs() = %v", got)
	}
}
