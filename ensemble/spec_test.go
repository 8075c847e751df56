package ensemble

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // substrings of the error; nil means valid
	}{
		{"average", `{"method":"average","members":["a","b"]}`, nil},
		{"caruana full", `{"name":"c","method":"caruana","members":["a"],"rounds":20,"init":3,"bags":5,"bag_fraction":0.4,"metric":"accuracy","seed":9,"max_bytes":1000,"max_members":2}`, nil},
		{"stacking", `{"method":"stacking","members":["a","b"],"l2":0.01,"features":"logprob","max_iterations":50}`, nil},
		{"weighted", `{"method":"weighted","members":["a","b"],"weights":[0.25,0.75]}`, nil},
		{"weighted within tolerance", `{"method":"weighted","members":["a","b"],"weights":[0.2500000001,0.75]}`, nil},
		{"empty weights are none", `{"method":"average","members":["a"],"weights":[]}`, nil},
		{"unknown method", `{"method":"boosting","members":["a"]}`, []string{`method "boosting"`}},
		{"no method", `{"members":["a"]}`, []string{`method ""`}},
		{"no members", `{"method":"average"}`, []string{"no members"}},
		{"duplicate member", `{"method":"vote","members":["a","a"]}`, []string{`member "a" listed twice`}},
		{"empty member id", `{"method":"vote","members":[""]}`, []string{"member 0: empty id"}},
		{"negative weight", `{"method":"weighted","members":["a","b"],"weights":[1.5,-0.5]}`, []string{"weight 1: -0.5"}},
		{"weights off simplex", `{"method":"weighted","members":["a","b"],"weights":[0.5,0.49]}`, []string{"weights sum to 0.99"}},
		{"weights count", `{"method":"weighted","members":["a","b"],"weights":[1]}`, []string{"weights: 1 for 2 members"}},
		{"weights missing", `{"method":"weighted","members":["a"]}`, []string{"weights: required"}},
		{"weights on caruana", `{"method":"caruana","members":["a"],"weights":[1]}`, []string{`weights: not used by method "caruana"`}},
		{"rounds on average", `{"method":"average","members":["a"],"rounds":3}`, []string{`rounds: not used by method "average"`}},
		{"l2 on caruana", `{"method":"caruana","members":["a"],"l2":0.1}`, []string{`l2: not used`}},
		{"max iterations on vote", `{"method":"vote","members":["a"],"max_iterations":3}`, []string{`max_iterations: not used`}},
		{"negative rounds", `{"method":"caruana","members":["a"],"rounds":-1}`, []string{"rounds: -1 not in"}},
		{"huge bags", `{"method":"caruana","members":["a"],"bags":1000000}`, []string{"bags: 1000000 not in"}},
		{"bag fraction", `{"method":"caruana","members":["a"],"bag_fraction":1.5}`, []string{"bag_fraction: 1.5"}},
		{"metric", `{"method":"caruana","members":["a"],"metric":"auc"}`, []string{`metric "auc"`}},
		{"features", `{"method":"stacking","members":["a"],"features":"logits"}`, []string{`features "logits"`}},
		{"negative l2", `{"method":"stacking","members":["a"],"l2":-1}`, []string{"l2: -1"}},
		{"negative budget", `{"method":"average","members":["a"],"max_bytes":-1}`, []string{"max_bytes: -1"}},
		{"negative member limit", `{"method":"average","members":["a"],"max_members":-2}`, []string{"max_members: -2"}},
		{"unknown field", `{"method":"average","members":["a"],"temperature":2}`, []string{`unknown field "temperature"`}},
		{"trailing data", `{"method":"average","members":["a"]} {}`, []string{"data after the spec"}},
		{"not json", `method: average`, []string{"json"}},
		{"wrong type", `{"method":"average","members":"a"}`, []string{"json"}},
		{"several faults", `{"method":"caruana","members":["a","a"],"rounds":-3,"l2":1}`, []string{"listed twice", "rounds: -3", "l2: not used"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpec([]byte(tc.json))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ParseSpec = %v, want nil", err)
				}
				if _, err := s.Fitter(); err != nil {
					t.Fatalf("Fitter() = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("ParseSpec = %v, want ErrSpec", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseSpec = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestSpecFitter(t *testing.T) {
	members := []string{"a", "b"}
	tests := []struct {
		spec Spec
		want Fitter
	}{
		{Spec{Method: MethodAverage, Members: members, MaxBytes: 5}, Average{Limits{MaxBytes: 5}}},
		{Spec{Method: MethodVote, Members: members, MaxMembers: 1}, Vote{Limits{MaxMembers: 1}}},
		{Spec{Method: MethodInverseError, Members: members}, InverseError{}},
		{Spec{Method: MethodOptimized, Members: members, MaxIterations: 7}, Optimized{MaxIterations: 7}},
		{
			Spec{Method: MethodCaruana, Members: members, Rounds: 4, Init: 2, Bags: 3, BagFraction: .3, Metric: "accuracy", Seed: 5},
			Caruana{Rounds: 4, Init: 2, Bags: 3, BagFraction: .3, Metric: MetricAccuracy, Seed: 5},
		},
		{Spec{Method: MethodStacking, Members: members, L2: .5, Features: "logprob"}, Stacking{L2: .5, LogProbs: true}},
		{Spec{Method: MethodWeighted, Members: members, Weights: []float64{.5, .5}}, Fixed{Weights: []float64{.5, .5}}},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Method, func(t *testing.T) {
			got, err := tc.spec.Fitter()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Fitter() = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestDefaultSpecs(t *testing.T) {
	p := makeProblem(t, synth{n: 50, c: 3, k: 2, m: 14, seed: 3})
	specs := DefaultSpecs(p.Members)
	methods := map[string]bool{}
	names := map[string]bool{}
	budgets := map[int64]bool{}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if names[s.Name] {
			t.Errorf("name %q twice", s.Name)
		}
		names[s.Name] = true
		methods[s.Method] = true
		budgets[s.MaxBytes] = true
		if len(s.Members) != len(p.Members) {
			t.Errorf("%s: %d members, want all %d", s.Name, len(s.Members), len(p.Members))
		}
		if s.Method == MethodStacking && s.MaxMembers != DefaultStackingMembers {
			t.Errorf("%s: max members %d, want %d", s.Name, s.MaxMembers, DefaultStackingMembers)
		}
	}
	for _, m := range Methods() {
		if m != MethodWeighted && !methods[m] {
			t.Errorf("no spec for method %q", m)
		}
	}
	if len(budgets) != 4 || !budgets[0] {
		t.Errorf("budgets %v, want none plus three", budgets)
	}
	if got := DefaultSpecs(p.Members, 5000); len(got) != 2*8 || got[8].MaxBytes != 5000 || got[8].Name != "average-b5000" {
		t.Errorf("DefaultSpecs(…, 5000): %d specs, spec 8 = %+v", len(got), got[8])
	}
}

// FuzzParseSpec: ParseSpec never panics; what it accepts is valid, builds
// a Fitter, and survives a JSON round trip unchanged.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		`{"method":"average","members":["a","b"]}`,
		`{"method":"weighted","members":["a","b"],"weights":[0.25,0.75],"max_bytes":10}`,
		`{"name":"x","method":"caruana","members":["a"],"rounds":20,"init":3,"bags":5,"bag_fraction":0.4,"metric":"accuracy","seed":18446744073709551615}`,
		`{"method":"stacking","members":["a"],"l2":1e-3,"features":"logprob","max_iterations":9}`,
		`{"method":"vote","members":["a"],"weights":[]}`,
		`{"method":"weighted","members":["a"],"weights":[1e308]}`,
		`{"method":"optimized","members":["\u0000"],"max_members":-1}`,
		`[]`, `null`, `{"members":null}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("error %v does not wrap ErrSpec", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted spec fails Validate: %v", err)
		}
		if _, err := s.Fitter(); err != nil {
			t.Fatalf("accepted spec has no Fitter: %v", err)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseSpec(out)
		if err != nil {
			t.Fatalf("round trip %s: %v", out, err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed %+v into %+v", s, again)
		}
		if !slices.Contains(Methods(), again.Method) {
			t.Fatalf("method %q accepted", again.Method)
		}
	})
}
