package worker

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
)

func quickstart(t *testing.T) *sweepSpec {
	t.Helper()
	sw, err := configs.LoadSweep("../configs/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sw)
	var back configs.Sweep
	if err := decodeSweep(b, &back); err != nil {
		t.Fatalf("a valid sweep does not decode: %v", err)
	}
	space, err := back.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	return &sweepSpec{rev: 1, sweep: &back, space: space}
}

func TestCheckTrial(t *testing.T) {
	s := quickstart(t)
	good, err := search.Random{}.Sample(s.space, nil, search.NewRand(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	student := search.Params{}
	for k, v := range s.sweep.Ensemble.Student {
		student[k] = v
	}
	for _, tc := range []struct {
		name string
		tr   wire.Trial
		ok   bool
	}{
		{"member in the space", wire.Trial{Kind: wire.Member, Params: good}, true},
		{"member at the top rung", wire.Trial{Kind: wire.Member, Params: good, Epochs: 45}, true},
		{"epochs above the top rung", wire.Trial{Kind: wire.Member, Params: good, Epochs: 46}, false},
		{"parameter outside its range", wire.Trial{Kind: wire.Member, Params: with(good, "lr", 5.0)}, false},
		{"unknown parameter", wire.Trial{Kind: wire.Member, Params: with(good, "cmd", "sh")}, false},
		{"the sweep's student", wire.Trial{Kind: wire.Distill, Params: student}, true},
		{"another student", wire.Trial{Kind: wire.Distill, Params: with(student, "bits", 2.0)}, false},
		{"ensemble", wire.Trial{Kind: wire.Ensemble}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTrial(&tc.tr, s)
			if tc.ok != (err == nil) {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !isPermanent(err) {
				t.Fatalf("a refused trial must fail for good: %v", err)
			}
		})
	}
}

func with(p search.Params, k string, v any) search.Params {
	q := p.Clone()
	q[k] = v
	return q
}

func TestErrorClassification(t *testing.T) {
	base := errors.New("boom")
	if isPermanent(base) || !isPermanent(Permanent(base)) || !errors.Is(Permanent(base), base) || Permanent(nil) != nil {
		t.Fatal("Permanent does not classify errors")
	}
	if !isBuiltin("digits") || isBuiltin("/etc/passwd") {
		t.Fatal("isBuiltin")
	}
	var sw configs.Sweep
	if err := decodeSweep([]byte(`{"name":"x"}`), &sw); err == nil {
		t.Fatal("an invalid sweep decoded")
	}
}
