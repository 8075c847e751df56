package search

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestEnqueuedPointsFirst checks that Enqueued proposes its points in
// order, completed with random draws for what they leave out, then hands
// over to its sampler; that ASHA promotions do not use up a point; and
// that the proposals are a function of the history (a resumed sweep
// proposes the same).
func TestEnqueuedPointsFirst(t *testing.T) {
	s := sweepSpace(t)
	full := validParams()
	partial := Params{"lr": 0.003, "layers": 1, "bits": 32}
	e := &Enqueued{Points: []Params{full, partial}, Then: Random{}}
	var h []Trial
	propose := func() Params {
		t.Helper()
		p, err := e.Sample(s, h, NewRand(7, len(h)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(p); err != nil {
			t.Fatalf("proposal %v: %v", p, err)
		}
		return p
	}
	if p := propose(); !reflect.DeepEqual(p, full) {
		t.Fatalf("first proposal %v, want the first point %v", p, full)
	}
	h = append(h, Trial{ID: "t1", Params: full, State: Complete, Values: []float64{0.9}})
	// A promotion of t1 is not a new configuration.
	h = append(h, Trial{ID: "t2", Params: full, Parent: "t1", Rung: 1, State: Running})
	p := propose()
	for k, v := range partial {
		if p[k] != v {
			t.Errorf("second proposal %v: %s = %v, want the point's %v", p, k, p[k], v)
		}
	}
	if _, ok := p["width_1"]; !ok || p["width_2"] != nil || p["qat"] != nil {
		t.Errorf("second proposal %v: want width_1 drawn, width_2 and qat inactive", p)
	}
	if again := propose(); !reflect.DeepEqual(again, p) {
		t.Errorf("the same history proposed %v, then %v", p, again)
	}
	h = append(h, Trial{ID: "t3", Params: p, State: Pending})
	if r, _ := (Random{}).Sample(s, h, NewRand(7, len(h))); !reflect.DeepEqual(propose(), r) {
		t.Errorf("after the points: want Then's proposal %v", r)
	}
}

// TestCompleteErrors checks that Complete names every problem of a point:
// an unknown parameter, a value out of range, one its own values make
// inactive.
func TestCompleteErrors(t *testing.T) {
	s := sweepSpace(t)
	_, err := s.Complete(Params{"lr": 5.0, "nope": 1, "bits": 32, "qat": true, "width_1": 64.0}, NewRand(1, 0))
	if !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("got %v, want ErrInvalidParams", err)
	}
	for _, want := range []string{"params.lr: 5 outside", "params.nope: unknown", "params.qat: set but inactive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
	// Values come back in the samplers' types: 64.0 for an Int is 64.
	p, err := s.Complete(Params{"width_1": 64.0, "layers": 1.0, "batch": 32.0}, NewRand(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if p["width_1"] != 64 || p["layers"] != 1 || p["batch"] != 32 {
		t.Errorf("completed %v: want width_1 64, layers 1, batch 32 as ints", p)
	}
	for i := range 20 {
		if p, err := s.Complete(Params{}, NewRand(uint64(i), 0)); err != nil || s.Check(p) != nil {
			t.Fatalf("an empty point: %v, %v", p, err)
		}
	}
}
