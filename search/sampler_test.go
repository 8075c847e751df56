package search

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestSamplersProposeValidParams runs every sampler on the sweep space with
// a history mixing complete, failed, pending and promoted trials; every
// proposal must pass Check.
func TestSamplersProposeValidParams(t *testing.T) {
	s := sweepSpace(t)
	two := []Direction{Maximize, Minimize}
	samplers := []struct {
		name string
		s    Sampler
		nobj int
	}{
		{"random", Random{}, 1},
		{"grid", &Grid{Points: 2}, 1},
		{"sobol", &Sobol{Seed: 9}, 1},
		{"tpe", &TPE{Startup: 5}, 1},
		{"tpe-multivariate", &TPE{Startup: 5, Multivariate: true}, 1},
		{"motpe", &TPE{Startup: 5, Directions: two}, 2},
		{"motpe-multivariate", &TPE{Startup: 5, Directions: two, Multivariate: true}, 2},
	}
	for _, sc := range samplers {
		t.Run(sc.name, func(t *testing.T) {
			var hist []Trial
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 60 {
				p, err := sc.s.Sample(s, hist, NewRand(5, len(hist)))
				if err != nil {
					t.Fatalf("proposal %d: %v", i, err)
				}
				if err := s.Check(p); err != nil {
					t.Fatalf("proposal %d invalid: %v\n%v", i, err, p)
				}
				tr := Trial{ID: strconv.Itoa(len(hist)), Params: p, State: State(rng.IntN(4))}
				if tr.State == Complete {
					for range sc.nobj {
						tr.Values = append(tr.Values, rng.Float64())
					}
				}
				hist = append(hist, tr)
				if i%7 == 6 { // a promotion of an earlier trial
					parent := hist[rng.IntN(len(hist))]
					hist = append(hist, Trial{ID: parent.ID + "+", Params: parent.Params, Rung: 1, Parent: parent.ID, State: Complete, Values: tr.Values})
				}
			}
		})
	}
}

// TestSamplersIgnoreForeignHistory checks that trials that do not belong to
// the space (e.g. from an older sweep definition) do not break a sampler.
func TestSamplersIgnoreForeignHistory(t *testing.T) {
	s := sweepSpace(t)
	var hist []Trial
	for i := range 30 {
		hist = append(hist, Trial{ID: strconv.Itoa(i), State: Complete, Values: []float64{float64(i)},
			Params: Params{"lr": "fast", "bits": 7, "layers": 99, "zzz": []any{1}, "optimizer": nil}})
	}
	for _, smp := range []Sampler{&TPE{}, &TPE{Multivariate: true}, &Grid{Points: 2}, &Sobol{}} {
		p, err := smp.Sample(s, hist, NewRand(1, 30))
		if err != nil {
			t.Fatalf("%T: %v", smp, err)
		}
		if err := s.Check(p); err != nil {
			t.Fatalf("%T: %v", smp, err)
		}
	}
}

func TestGrid(t *testing.T) {
	s := mustSpace(t, map[string]any{
		"a": []any{"x", "y"},
		"b": map[string]any{"type": "bool", "when": map[string]any{"param": "a", "value": "x"}},
		"c": map[string]any{"type": "int", "low": 1, "high": 3},
	})
	g := &Grid{}
	var hist []Trial
	var got []string
	for {
		p, err := g.Sample(s, hist, nil)
		if errors.Is(err, ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v %v %v", p["a"], p["b"], p["c"]))
		// Every state counts as used, including pending and failed.
		hist = append(hist, Trial{Params: p, State: State(len(hist) % 4)})
		if len(hist) > 20 {
			t.Fatal("grid does not end")
		}
	}
	want := []string{
		"x false 1", "x false 2", "x false 3", "x true 1", "x true 2", "x true 3",
		"y <nil> 1", "y <nil> 2", "y <nil> 3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grid order:\n got %q\nwant %q", got, want)
	}
	// Trials from JSON (float64 numbers) are recognised too.
	hist[0].Params = Params{"a": "x", "b": false, "c": 1.0}
	if _, err := g.Sample(s, hist, nil); !errors.Is(err, ErrExhausted) {
		t.Errorf("after JSON-typed history: %v, want ErrExhausted", err)
	}
	if _, err := (&Grid{MaxPoints: 8}).Sample(s, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("MaxPoints 8 on 9 points: %v, want ErrInvalidConfig", err)
	}
	if _, err := (&Grid{MaxPoints: 9}).Sample(s, hist, nil); !errors.Is(err, ErrExhausted) {
		t.Errorf("MaxPoints 9 on 9 used points: %v, want ErrExhausted", err)
	}
}

func TestGridValues(t *testing.T) {
	tests := []struct {
		name   string
		p      Param
		points int
		want   []any
	}{
		{"float", Param{Kind: Float, Low: 0, High: 1}, 3, []any{0.0, 0.5, 1.0}},
		{"float log", Param{Kind: Float, Low: 1e-3, High: 1e-1, Log: true}, 3, []any{1e-3, 1e-2, 1e-1}},
		{"float log, five", Param{Kind: Float, Low: 1e-3, High: 1e-2, Log: true}, 5, []any{1e-3, 1.778279410038923e-3, 3.1622776601683794e-3, 5.623413251903491e-3, 1e-2}},
		{"float one", Param{Kind: Float, Low: 2, High: 4}, 1, []any{3.0}},
		{"int all", Param{Kind: Int, Low: 1, High: 4}, 5, []any{1, 2, 3, 4}},
		{"int step", Param{Kind: Int, Low: 0, High: 100, Step: 10}, 3, []any{0, 50, 100}},
		{"int log", Param{Kind: Int, Low: 16, High: 256, Log: true}, 3, []any{16, 64, 256}},
		{"int one", Param{Kind: Int, Low: 0, High: 10}, 1, []any{5}},
		{"categorical", Param{Kind: Categorical, Values: []any{"a", "b"}}, 1, []any{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.gridValues(tc.points)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				g, _ := number(got[i])
				w, ok := number(tc.want[i])
				if reflect.TypeOf(got[i]) != reflect.TypeOf(tc.want[i]) || ok && math.Abs(g-w) > 1e-12*math.Abs(w) || !ok && got[i] != tc.want[i] {
					t.Fatalf("got %#v, want %#v", got, tc.want)
				}
			}
			// The bounds are the declared values to the bit: a grid over
			// [0.001, 0.1] starts at 0.001, not 0.0010000000000000002.
			if tc.p.Kind == Float && tc.points > 1 && (got[0] != tc.p.Low || got[len(got)-1] != tc.p.High) {
				t.Errorf("got %#v: the ends are not %v and %v", got, tc.p.Low, tc.p.High)
			}
		})
	}
}

func TestSobolUnscrambled(t *testing.T) {
	// Reference values from SciPy 1.10 qmc.Sobol(d=1024, scramble=False),
	// scaled by 2^32.
	dims := []int{0, 1, 2, 7, 20, 21, 100, 511, 1023}
	want := map[uint32][]uint32{
		3:    {1073741824, 3221225472, 3221225472, 1073741824, 3221225472, 1073741824, 3221225472, 1073741824, 1073741824},
		100:  {1778384896, 1107296256, 3321888768, 2046820352, 3254779904, 1711276032, 167772160, 2248146944, 4060086272},
		1000: {943718400, 415236096, 2227175424, 3862953984, 2243952640, 2361393152, 3300917248, 1698693120, 3066036224},
		1024: {6291456, 1616904192, 1923088384, 2522873856, 2254438400, 526385152, 2900361216, 3592421376, 2900361216},
	}
	pt := make([]uint32, sobolMaxDims)
	for i, w := range want {
		sobolPoint(pt, i)
		for k, d := range dims {
			if pt[d] != w[k] {
				t.Errorf("point %d dim %d = %d, want %d", i, d, pt[d], w[k])
			}
		}
	}
	// The first points of the first dimensions.
	first := [][]float64{{0, 0, 0}, {0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625}}
	for i, w := range first {
		sobolPoint(pt[:3], uint32(i))
		for d := range 3 {
			if got := float64(pt[d]) / (1 << 32); got != w[d] {
				t.Errorf("point %d dim %d = %g, want %g", i, d, got, w[d])
			}
		}
	}
}

// TestSobolScrambledNets checks that scrambling keeps the net structure:
// any 2^m consecutive points from the start stratify every dimension into
// 2^m intervals, and dimensions 0 and 1 form a (0, m, 2)-net.
func TestSobolScrambledNets(t *testing.T) {
	const m = 8
	const n = 1 << m
	const d = 40
	for _, seed := range []uint64{0, 1, 12345} {
		pts := make([][]float64, n)
		for i := range pts {
			pts[i] = make([]float64, d)
			sobolScrambled(pts[i], uint32(i), seed)
		}
		for dim := range d {
			seen := make([]bool, n)
			for _, p := range pts {
				if p[dim] < 0 || p[dim] >= 1 {
					t.Fatalf("seed %d dim %d: %g outside [0, 1)", seed, dim, p[dim])
				}
				seen[int(p[dim]*n)] = true
			}
			if slices.Contains(seen, false) {
				t.Errorf("seed %d dim %d: not stratified", seed, dim)
			}
		}
		for a := 0; a <= m; a++ {
			cells := make(map[[2]int]int)
			for _, p := range pts {
				cells[[2]int{int(p[0] * float64(int(1)<<a)), int(p[1] * float64(int(1)<<(m-a)))}]++
			}
			if len(cells) != n {
				t.Errorf("seed %d: elementary intervals 2^-%d x 2^-%d hold %d distinct cells, want %d", seed, a, m-a, len(cells), n)
			}
		}
	}
	a, b := make([]float64, 3), make([]float64, 3)
	sobolScrambled(a, 5, 1)
	sobolScrambled(b, 5, 2)
	if reflect.DeepEqual(a, b) {
		t.Error("different seeds give the same point")
	}
}

func TestSobolSampler(t *testing.T) {
	s := unitBox(t, 2)
	smp := &Sobol{Seed: 3}
	var hist []Trial
	for i := range 4 {
		p, err := smp.Sample(s, hist, nil)
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, Trial{ID: strconv.Itoa(i), Params: p})
	}
	// A promotion does not consume a point.
	withPromotion := append(slices.Clone(hist), Trial{ID: "p", Params: hist[0].Params, Parent: "0", Rung: 1})
	a, _ := smp.Sample(s, hist, nil)
	b, _ := smp.Sample(s, withPromotion, nil)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("promotion changed the next point: %v vs %v", a, b)
	}
	raw := map[string]any{}
	for i := range sobolMaxDims + 1 {
		raw["x"+strconv.Itoa(i)] = []any{1, 2}
	}
	if _, err := smp.Sample(mustSpace(t, raw), nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("%d dims: %v, want ErrInvalidConfig", sobolMaxDims+1, err)
	}
}

func TestNewRand(t *testing.T) {
	a, b, c := NewRand(1, 7), NewRand(1, 7), NewRand(1, 8)
	x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
	if x != y {
		t.Error("same (seed, proposal) gives different streams")
	}
	if x == z {
		t.Error("different proposals give the same stream")
	}
	if NewRand(2, 7).Uint64() == x {
		t.Error("different seeds give the same stream")
	}
}

func TestFromUnitCoversDomain(t *testing.T) {
	tests := []struct {
		name string
		p    Param
		want []any
	}{
		{"int", Param{Kind: Int, Low: 1, High: 3}, []any{1, 2, 3}},
		{"int step", Param{Kind: Int, Low: -4, High: 4, Step: 4}, []any{-4, 0, 4}},
		{"int log", Param{Kind: Int, Low: 1, High: 3, Log: true}, []any{1, 2, 3}},
		{"categorical", Param{Kind: Categorical, Values: []any{"a", true}}, []any{"a", true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[any]bool{}
			for k := range 1000 {
				v := tc.p.fromUnit(float64(k) / 1000)
				if tc.p.checkValue(v) != "" {
					t.Fatalf("fromUnit gave %v outside the domain", v)
				}
				seen[v] = true
			}
			seen[tc.p.fromUnit(1)] = true // clamped
			if len(seen) != len(tc.want) {
				t.Errorf("values %v, want %v", seen, tc.want)
			}
		})
	}
}
