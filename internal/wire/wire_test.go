package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/search"
)

func validTrial() *Trial {
	return &Trial{V: Version, Sweep: "s1", ID: "t00001", Kind: Member, SpecRevision: 7, Params: search.Params{"lr": 0.01}, Seed: 3}
}

func TestTrialRoundTripAndValidation(t *testing.T) {
	b, _ := json.Marshal(validTrial())
	got, err := DecodeTrial(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params["lr"] != 0.01 {
		t.Fatalf("params %v", got.Params)
	}
	for name, mutate := range map[string]func(*Trial){
		"version":          func(t *Trial) { t.V = 2 },
		"sweep name":       func(t *Trial) { t.Sweep = "../etc" },
		"id":               func(t *Trial) { t.ID = "T 1" },
		"kind":             func(t *Trial) { t.Kind = "shell" },
		"spec revision":    func(t *Trial) { t.SpecRevision = 0 },
		"epochs":           func(t *Trial) { t.Epochs = -1 },
		"member no params": func(t *Trial) { t.Params = nil },
		"teacher path":     func(t *Trial) { t.Kind, t.Teacher = Distill, "../../other/t1/predictions" },
		"ensemble spec":    func(t *Trial) { t.Kind, t.Params, t.Ensemble = Ensemble, nil, &ensemble.Spec{Method: "magic"} },
	} {
		tr := validTrial()
		mutate(tr)
		b, _ := json.Marshal(tr)
		if _, err := DecodeTrial(b); !errors.Is(err, ErrMessage) {
			t.Errorf("%s: error %v, want ErrMessage", name, err)
		}
	}
	for _, junk := range []string{"", "{", `{"v":1,"extra":true}`, `{"v":1} {"v":1}`, strings.Repeat("x", MaxMessage+1)} {
		if _, err := DecodeTrial([]byte(junk)); !errors.Is(err, ErrMessage) {
			t.Errorf("%.20q: error %v", junk, err)
		}
	}
}

func TestResultValidation(t *testing.T) {
	ok := &Result{V: Version, Sweep: "s1", ID: "t00001", Kind: Member, Status: Done, Worker: "w1", Attempt: 1,
		Metrics: &Metrics{CVAccuracy: 0.9}, Time: time.Now()}
	b, _ := json.Marshal(ok)
	if _, err := DecodeResult(b); err != nil {
		t.Fatal(err)
	}
	bad := *ok
	bad.Metrics = nil
	b, _ = json.Marshal(&bad)
	if _, err := DecodeResult(b); !errors.Is(err, ErrMessage) {
		t.Fatalf("done without metrics: %v", err)
	}
	bad = *ok
	bad.Metrics = &Metrics{CVAccuracy: 1.5}
	b, _ = json.Marshal(&bad)
	if _, err := DecodeResult(b); !errors.Is(err, ErrMessage) {
		t.Fatalf("accuracy 1.5: %v", err)
	}
}

// Nothing that arrives over the bus can crash a decoder; whatever decodes
// is valid.
func FuzzDecodeTrial(f *testing.F) {
	b, _ := json.Marshal(validTrial())
	f.Add(b)
	f.Add([]byte(`{"v":1,"sweep":"s","id":"e1","kind":"ensemble","spec_revision":1,"seed":1,"ensemble":{"method":"caruana","members":["t1","t2"],"rounds":5}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, err := DecodeTrial(in)
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("decoded an invalid trial: %v", err)
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	b, _ := json.Marshal(&Result{V: Version, Sweep: "s1", ID: "t00001", Kind: Member, Status: Started, Worker: "w", Attempt: 1})
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeResult(in)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded an invalid result: %v", err)
		}
	})
}
