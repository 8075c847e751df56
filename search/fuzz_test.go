package search

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParseSpace feeds arbitrary YAML to ParseSpace. It must never panic;
// an accepted space must round-trip through YAML and every sampler's
// proposals must pass Check.
func FuzzParseSpace(f *testing.F) {
	f.Add([]byte(sweepYAML[len("\nspace:\n"):]))
	f.Add([]byte("x: {type: float, low: 0, high: 1}\ny: {type: int, low: -3, high: 3, step: 2, when: {param: x, op: lt, value: 0.5}}"))
	f.Add([]byte("a: [x, y]\nb: {type: bool, when: {param: a, op: in, value: [x]}}\nc: 4"))
	f.Add([]byte("layers: {type: int, low: 0, high: 2}\nwidth: {type: categorical, values: [8, 16], per: layers}"))
	f.Add([]byte("x: {type: int, low: 1, high: 1000000, log: true}"))
	f.Add([]byte("x: {type: float, low: .nan, high: .inf}"))
	f.Add([]byte("x: [1, 2.5, 1e308]\ny: {type: bool, when: {param: x, op: ge, value: 2}}"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var raw map[string]any
		if yaml.Unmarshal(doc, &raw) != nil {
			return
		}
		s, err := ParseSpace(raw)
		if err != nil {
			return
		}
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back Space
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(back.Params(), s.Params()) {
			t.Fatalf("round trip changed the space:\n%s", out)
		}
		var hist []Trial
		samplers := []Sampler{Random{}, &Sobol{Seed: 1}, &Grid{Points: 2, MaxPoints: 256}, &TPE{Startup: 2}, &TPE{Startup: 2, Multivariate: true}}
		for i := range 4 {
			for _, smp := range samplers {
				p, err := smp.Sample(s, hist, NewRand(3, i))
				if err != nil {
					continue // grid exhausted or too large
				}
				if err := s.Check(p); err != nil {
					t.Fatalf("%T proposed %v: %v", smp, p, err)
				}
				hist = append(hist, Trial{ID: string(rune('a' + len(hist))), Params: p, State: Complete, Values: []float64{float64(i % 3)}})
			}
		}
	})
}

// FuzzCheck feeds arbitrary JSON assignments to Check, as a worker receives
// them from the bus. It must never panic, and what it accepts must stay
// accepted after another JSON round trip.
func FuzzCheck(f *testing.F) {
	s := sweepSpace(f)
	good, _ := json.Marshal(validParams())
	f.Add(good)
	f.Add([]byte(`{"lr": "x", "bits": 8.0000001, "width_9": null, "qat": [true]}`))
	f.Add([]byte(`{"lr": 1e400, "epochs": -9223372036854775809, "layers": {"a": 1}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Params
		if json.Unmarshal(b, &p) != nil {
			return
		}
		if err := s.Check(p); err != nil {
			return
		}
		again, _ := json.Marshal(p)
		var q Params
		if err := json.Unmarshal(again, &q); err != nil {
			t.Fatal(err)
		}
		if err := s.Check(q); err != nil {
			t.Fatalf("accepted %s but not %s: %v", b, again, err)
		}
		if _, err := q.IntList("width"); err != nil {
			t.Fatalf("IntList on accepted params: %v", err)
		}
	})
}
