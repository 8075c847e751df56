package search

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"strconv"
	"testing"
)

// coordinator is the smallest loop a sweep coordinator runs: ASHA decides,
// TPE proposes fresh configurations, four workers finish the oldest job.
// It keeps no state besides the history.
type coordinator struct {
	seed    uint64
	space   *Space
	sampler Sampler
	asha    *ASHA
	hist    []Trial
}

// outcome is a deterministic noisy objective of a trial.
func outcome(tr Trial) float64 {
	h := fnv.New64a()
	h.Write([]byte(tr.ID))
	noise := float64(h.Sum64()%1000)/1000 - 0.5
	lr, _ := tr.Params.Float("lr")
	sparsity, _ := tr.Params.Float("sparsity")
	bits, _ := tr.Params.Int("bits")
	acc := 0.9 - 0.05*math.Abs(math.Log10(lr)+2) - 0.1*sparsity*sparsity - 0.02/float64(bits)
	return acc*(1-math.Exp(-float64(tr.Rung+1))) + 0.01*noise
}

// step finishes the oldest running trial when all four workers are busy,
// then asks ASHA and the sampler for the next trial. It returns the new
// trial (nil if ASHA said wait or done).
func (c *coordinator) step(t *testing.T) *Trial {
	t.Helper()
	running := 0
	for _, tr := range c.hist {
		if tr.State == Running {
			running++
		}
	}
	if running >= 4 {
		for i := range c.hist {
			if c.hist[i].State == Running {
				c.hist[i].State, c.hist[i].Values = Complete, []float64{outcome(c.hist[i])}
				break
			}
		}
	}
	d, err := c.asha.Next(c.hist)
	if err != nil {
		t.Fatal(err)
	}
	tr := Trial{ID: "t" + strconv.Itoa(len(c.hist)), State: Running, Rung: d.Rung, Parent: d.Parent}
	switch d.Action {
	case Promote:
		tr.Params = d.Params
	case Start:
		p, err := c.sampler.Sample(c.space, c.hist, NewRand(c.seed, len(c.hist)))
		if err != nil {
			t.Fatal(err)
		}
		tr.Params = p
	default:
		return nil
	}
	c.hist = append(c.hist, tr)
	return &c.hist[len(c.hist)-1]
}

// TestRecoveryFromHistory runs a sweep live, then rebuilds the sampler and
// scheduler from the recorded history alone (through JSON, as stored in
// etcd) and checks that both continue with identical decisions and
// proposals.
func TestRecoveryFromHistory(t *testing.T) {
	samplers := []struct {
		name string
		new  func() Sampler
	}{
		{"tpe", func() Sampler { return &TPE{Directions: []Direction{Maximize}, Startup: 8} }},
		{"tpe-multivariate", func() Sampler { return &TPE{Directions: []Direction{Maximize}, Startup: 8, Multivariate: true} }},
		{"sobol", func() Sampler { return &Sobol{Seed: 77} }},
		{"random", func() Sampler { return Random{} }},
		{"grid", func() Sampler { return &Grid{Points: 2} }},
	}
	for _, sc := range samplers {
		t.Run(sc.name, func(t *testing.T) {
			newASHA := func() *ASHA { return &ASHA{Eta: 3, MinResource: 1, MaxResource: 9, Direction: Maximize} }
			live := &coordinator{seed: 77, space: sweepSpace(t), sampler: sc.new(), asha: newASHA()}
			for range 80 {
				live.step(t)
			}
			// Crash: only the history survives, as JSON.
			b, err := json.Marshal(live.hist)
			if err != nil {
				t.Fatal(err)
			}
			var saved []Trial
			if err := json.Unmarshal(b, &saved); err != nil {
				t.Fatal(err)
			}
			var space Space
			if err := json.Unmarshal(mustJSON(t, live.space), &space); err != nil {
				t.Fatal(err)
			}
			rebuilt := &coordinator{seed: 77, space: &space, sampler: sc.new(), asha: newASHA(), hist: saved}
			promotions := 0
			for i := range 40 {
				a, b := live.step(t), rebuilt.step(t)
				if (a == nil) != (b == nil) {
					t.Fatalf("step %d: live %v, rebuilt %v", i, a, b)
				}
				if a == nil {
					continue
				}
				if a.ID != b.ID || a.Rung != b.Rung || a.Parent != b.Parent || live.space.key(a.Params) != rebuilt.space.key(b.Params) {
					t.Fatalf("step %d diverged:\n live    %+v\n rebuilt %+v", i, *a, *b)
				}
				if a.Parent != "" {
					promotions++
				}
			}
			if promotions == 0 {
				t.Error("no promotion in the compared steps; the test covers too little")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrialJSON(t *testing.T) {
	tr := Trial{ID: "a", Params: Params{"x": 1}, State: Complete, Values: []float64{0.5}, Rung: 2, Parent: "b"}
	b := mustJSON(t, tr)
	if want := `{"id":"a","params":{"x":1},"state":"complete","values":[0.5],"rung":2,"parent":"b"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back Trial
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.State != Complete || back.Rung != 2 || back.Parent != "b" {
		t.Errorf("back = %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"state":"lost"}`), &back); err == nil {
		t.Error("unknown state accepted")
	}
	var d Direction
	for in, want := range map[string]Direction{"max": Maximize, "maximize": Maximize, "min": Minimize, "minimize": Minimize} {
		if err := d.UnmarshalText([]byte(in)); err != nil || d != want {
			t.Errorf("%s: %v %v", in, d, err)
		}
	}
	if err := d.UnmarshalText([]byte("up")); err == nil {
		t.Error("direction up accepted")
	}
}
