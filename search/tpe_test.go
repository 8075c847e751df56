package search

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestTPEBeatsRandom is the quality bar: at 50 trials, over 20 seeds, TPE's
// median regret is below random search's on Branin, Hartmann-6 and a noisy
// Hartmann-3, for both the independent and the multivariate estimator.
func TestTPEBeatsRandom(t *testing.T) {
	const trials, seeds = 50, 20
	for _, pr := range problems(t) {
		t.Run(pr.name, func(t *testing.T) {
			var rr []float64
			for seed := range uint64(seeds) {
				rr = append(rr, regret(t, Random{}, pr, seed, trials))
			}
			for _, sc := range []struct {
				name string
				s    *TPE
			}{{"independent", &TPE{}}, {"multivariate", &TPE{Multivariate: true}}} {
				var rt []float64
				for seed := range uint64(seeds) {
					rt = append(rt, regret(t, sc.s, pr, seed, trials))
				}
				mt, mr := median(rt), median(rr)
				t.Logf("median regret at %d trials over %d seeds: TPE %s %.4g, random %.4g", trials, seeds, sc.name, mt, mr)
				if !(mt < mr) {
					t.Errorf("TPE %s median regret %.4g not below random's %.4g", sc.name, mt, mr)
				}
			}
		})
	}
}

// spread returns the mean pairwise distance of the proposals' x.
func spread(ps []Params) float64 {
	sum, n := 0.0, 0
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			a, _ := ps[i].Float("x0")
			b, _ := ps[j].Float("x0")
			sum += math.Abs(a - b)
			n++
		}
	}
	return sum / float64(n)
}

// TestTPEConstantLiar proposes batches of 8 parallel trials: with pending
// trials counted as the worst value the batch spreads out; without, it
// piles up where the model is best.
func TestTPEConstantLiar(t *testing.T) {
	s := unitBox(t, 1)
	var withLiar, without []float64
	for seed := range uint64(10) {
		var hist []Trial
		rng := rand.New(rand.NewPCG(seed, 3))
		for i := range 30 {
			x := rng.Float64()
			hist = append(hist, Trial{ID: strconv.Itoa(i), Params: Params{"x0": x}, State: Complete, Values: []float64{(x - 0.3) * (x - 0.3)}})
		}
		for _, liar := range []bool{true, false} {
			h := slices.Clone(hist)
			var batch []Params
			for range 8 {
				p, err := (&TPE{IgnorePending: !liar}).Sample(s, h, NewRand(seed, len(h)))
				if err != nil {
					t.Fatal(err)
				}
				batch = append(batch, p)
				h = append(h, Trial{ID: strconv.Itoa(len(h)), Params: p, State: Running})
			}
			if liar {
				withLiar = append(withLiar, spread(batch))
			} else {
				without = append(without, spread(batch))
			}
		}
	}
	t.Logf("median spread of a batch of 8: constant liar %.4f, without %.4f", median(withLiar), median(without))
	if !(median(withLiar) > 1.5*median(without)) {
		t.Errorf("constant liar spread %.4f not clearly above %.4f", median(withLiar), median(without))
	}
}

// TestTPERanksByRungReached checks how TPE reads an ASHA history: each
// configuration counts once, at the highest rung it reached, and those
// that went further rank above any that stopped lower. Here rung 0 favours
// small x, the five promoted configurations (the smallest x) say x ≈ 0.2
// is best, and one screen at x = 0.9 scored spectacularly but was not
// promoted: proposals follow the promoted, not the screen.
func TestTPERanksByRungReached(t *testing.T) {
	s := unitBox(t, 1)
	var h []Trial
	rng := rand.New(rand.NewPCG(9, 9))
	xs := make([]float64, 40)
	for i := range xs {
		xs[i] = rng.Float64()
		h = append(h, Trial{ID: strconv.Itoa(i), Params: Params{"x0": xs[i]}, State: Complete, Values: []float64{xs[i]}})
	}
	h = append(h, Trial{ID: "lucky", Params: Params{"x0": 0.9}, State: Complete, Values: []float64{-5}})
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	for _, i := range order[:5] {
		h = append(h, Trial{ID: "p" + strconv.Itoa(i), Params: Params{"x0": xs[i]}, Rung: 1, Parent: strconv.Itoa(i),
			State: Complete, Values: []float64{math.Abs(xs[i] - 0.2)}})
	}
	near, far := 0, 0
	for i := range 40 {
		p, err := (&TPE{}).Sample(s, h, NewRand(1, i))
		if err != nil {
			t.Fatal(err)
		}
		x, _ := p.Float("x0")
		switch {
		case x > 0.7:
			far++
		case x < 0.45:
			near++
		}
	}
	if near < 30 || far > 3 {
		t.Errorf("%d of 40 proposals below 0.45 (want ≥ 30), %d above 0.7 (want ≤ 3)", near, far)
	}
}

func TestConfigResults(t *testing.T) {
	ok := func(tr *Trial) bool { return tr.State == Complete }
	h := []Trial{
		{ID: "a", State: Complete, Values: []float64{1}},
		{ID: "b", State: Complete, Values: []float64{2}},
		{ID: "a1", Parent: "a", Rung: 1, State: Complete, Values: []float64{3}},
		{ID: "c", State: Running},
		{ID: "b1", Parent: "b", Rung: 1, State: Failed},
		{ID: "a2", Parent: "a1", Rung: 2, State: Complete, Values: []float64{4}},
		{ID: "d", State: Failed},
		{ID: "e", State: Complete, Values: []float64{5}},
		{ID: "x1", Parent: "gone", Rung: 1, State: Complete, Values: []float64{6}},
	}
	// a's chain counts once, at a2; b at rung 0 (its promotion failed);
	// x1's parent is unknown, so it stands for itself.
	if got, want := configResults(h, ok), []int{1, 5, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("configResults = %v, want %v", got, want)
	}
}

// TestTPEConditional models a conditional parameter only from the trials in
// which it was active.
func TestTPEConditional(t *testing.T) {
	s := mustSpace(t, map[string]any{
		"mode": []any{"on", "off"},
		"b":    map[string]any{"type": "float", "low": 0, "high": 1, "when": map[string]any{"param": "mode", "value": "on"}},
	})
	loss := func(p Params) float64 {
		if b, ok := p.Float("b"); ok {
			return (b - 0.8) * (b - 0.8)
		}
		return 1
	}
	for _, smp := range []Sampler{&TPE{}, &TPE{Multivariate: true}} {
		var errs []float64
		for seed := range uint64(10) {
			var h []Trial
			for i := range 40 {
				p, err := smp.Sample(s, h, NewRand(seed, i))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Check(p); err != nil {
					t.Fatal(err)
				}
				h = append(h, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: []float64{loss(p)}})
			}
			best := math.Inf(1)
			for _, tr := range h[30:] {
				best = min(best, tr.Values[0])
			}
			errs = append(errs, best)
		}
		if m := median(errs); m > 0.001 {
			t.Errorf("%+v: median best loss of trials 30–40 is %.4g, want b near 0.8", smp, m)
		}
	}
}

// TestTPEStartupIsRandom: before Startup complete trials TPE is random
// search with the same source.
func TestTPEStartupIsRandom(t *testing.T) {
	s := sweepSpace(t)
	var h []Trial
	for i := range 9 {
		p, _ := Random{}.Sample(s, h, NewRand(2, i))
		h = append(h, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: []float64{float64(i)}})
	}
	h = append(h, Trial{ID: "r", State: Running}, Trial{ID: "f", State: Failed})
	a, _ := (&TPE{}).Sample(s, h, NewRand(2, 11))
	b, _ := Random{}.Sample(s, h, NewRand(2, 11))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("TPE before startup %v, random %v", a, b)
	}
}

func TestDefaultWeights(t *testing.T) {
	if got := defaultWeights(nil, 3); !reflect.DeepEqual(got, []float64{1, 1, 1}) {
		t.Errorf("3: %v", got)
	}
	w := defaultWeights(nil, 30)
	if len(w) != 30 || w[0] != 1.0/30 || w[4] != 1 || w[5] != 1 || w[29] != 1 {
		t.Errorf("30: %v", w)
	}
	for i := 1; i < 5; i++ {
		if !(w[i] > w[i-1]) {
			t.Errorf("30: ramp not increasing: %v", w[:6])
		}
	}
	if got := defaultWeights(nil, 26); got[0] != 1.0/26 || got[1] != 1 {
		t.Errorf("26: %v", got)
	}
}

// TestParzenMatchesTruncatedNormalMixture compares the estimator with a
// direct evaluation and checks it integrates to one.
func TestParzenMatchesTruncatedNormalMixture(t *testing.T) {
	var e parzen
	e.fit([]float64{0.1, 0.35, 0.36, 0.8, 0.95}, []float64{1, 1, 1, 1, 1}, 0, 1, 1)
	// Bandwidths as Optuna 3.1 computes them for these observations.
	wantSigma := []float64{0.25, 0.25, 1.0 / 7, 0.3, 0.15, 1}
	for i, s := range wantSigma {
		if math.Abs(e.sigma[i]-s) > 1e-12 {
			t.Errorf("sigma[%d] = %g, want %g", i, e.sigma[i], s)
		}
	}
	// Reference: scipy.stats.truncnorm mixture with equal weights.
	want := map[float64]float64{0: -0.40776973615498624, 0.2: 0.0713521718382407, 0.5: 0.007574128211062692, 0.9: 0.12738213304488477}
	for x, w := range want {
		if got := e.logPDF(x); math.Abs(got-w) > 1e-9 {
			t.Errorf("logPDF(%g) = %.15g, want %.15g", x, got, w)
		}
	}
	sum, n := 0.0, 100000
	for k := range n {
		sum += math.Exp(e.logPDF((float64(k) + 0.5) / float64(n)))
	}
	if math.Abs(sum/float64(n)-1) > 1e-6 {
		t.Errorf("density integrates to %g", sum/float64(n))
	}
	if m := math.Exp(e.logMass(0, 1)); math.Abs(m-1) > 1e-12 {
		t.Errorf("mass of the whole range %g", m)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		if x := e.sample(rng); x < 0 || x > 1 {
			t.Fatalf("sample %g outside the range", x)
		}
	}
}

// TestParzenLogPDFAllocs pins the acquisition hot path at zero allocations.
// TestMVKernelMatchesMixture checks the multivariate estimator's log
// density against the mixture written out term by term: per component,
// its weight times, per dim, the bin mass of its truncated normal (Int),
// its smoothed indicator (Categorical) or its truncated normal density
// (Float). Int centres repeat, as TPE's good region makes them do, so the
// masses logPDF shares between equal centres are exercised.
func TestMVKernelMatchesMixture(t *testing.T) {
	s, err := parseYAML(t, `
space:
  width: {type: int, low: 16, high: 256, log: true}
  depth: {type: int, low: 1, high: 4}
  batch: [16, 32, 64, 128]
  lr:    {type: float, low: 1.0e-4, high: 3.0e-2, log: true}
`)
	if err != nil {
		t.Fatal(err)
	}
	var dims []*Param
	for i := range s.params {
		dims = append(dims, &s.params[i])
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 7, 80} {
		var rows [][]any
		var ws []float64
		for range n {
			p, _ := Random{}.Sample(s, nil, rng)
			p["width"] = 200 + rng.IntN(4)
			row := make([]any, len(dims))
			for d, prm := range dims {
				row[d] = p[prm.Name]
			}
			rows = append(rows, row)
			ws = append(ws, 0.5+rng.Float64())
		}
		var e mvKernel
		e.fit(dims, rows, ws, 1)
		total := 1.0
		for _, w := range ws {
			total += w
		}
		pt := make([]float64, len(dims))
		for range 50 {
			e.sample(pt, rng)
			want := 0.0
			for k := range n + 1 {
				p := 1 / total
				if k < n {
					p = ws[k] / total
				}
				for d, prm := range dims {
					mu, sig := e.x[d][k], 0.0
					if prm.Kind != Categorical {
						sig = e.sig[d][k]
					}
					lo, hi := prm.internalBounds()
					z := normCDF((hi-mu)/sig) - normCDF((lo-mu)/sig)
					switch prm.Kind {
					case Int:
						a, b := prm.internalBin(int(pt[d]), lo, hi)
						p *= (normCDF((b-mu)/sig) - normCDF((a-mu)/sig)) / z
					case Categorical:
						nc, a := float64(len(prm.Values)), 1/float64(n+1)
						switch {
						case k == n:
							p /= nc
						case float64(prm.catIndex(rows[k][d])) == pt[d]:
							p *= (1 + a) / (1 + a*nc)
						default:
							p *= a / (1 + a*nc)
						}
					default:
						u := (pt[d] - mu) / sig
						p *= math.Exp(-0.5*u*u) / (sig * math.Sqrt(2*math.Pi) * z)
					}
				}
				want += p
			}
			if got := e.logPDF(pt); !(math.Abs(got-math.Log(want)) < 1e-9) {
				t.Fatalf("n=%d: logPDF(%v) = %.15g, want %.15g", n, pt, got, math.Log(want))
			}
		}
	}
}

func TestParzenLogPDFAllocs(t *testing.T) {
	var e parzen
	xs, ws := make([]float64, 500), make([]float64, 500)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range xs {
		xs[i], ws[i] = rng.Float64(), 1
	}
	e.fit(xs, ws, 0, 1, 1)
	if a := testing.AllocsPerRun(100, func() { e.logPDF(0.3); e.logMass(0.2, 0.4) }); a != 0 {
		t.Errorf("logPDF and logMass allocate %v times", a)
	}
}

// digitsSpace is bench/search_vs_optuna.py's space (and
// bench/proposal_speed.py's, which times Optuna's TPESampler on it).
const digitsSpace = `
space:
  layers: {type: int, low: 1, high: 2}
  width: {type: int, low: 16, high: 256, log: true, per: layers}
  lr: {type: float, low: 1.0e-4, high: 3.0e-2, log: true}
  batch: [16, 32, 64, 128]
  l2: {type: float, low: 1.0e-6, high: 1.0e-2, log: true}
`

// BenchmarkTPEDigits measures one proposal on the digits search's space
// with n complete trials of random configurations and random values:
// bench/proposal_speed.py runs it beside Optuna's TPESampler.
func BenchmarkTPEDigits(b *testing.B) {
	s, err := parseYAML(b, digitsSpace)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000, 10000} {
		h := randomHistory(s, n)
		for _, mv := range []bool{false, true} {
			name := map[bool]string{false: "independent", true: "multivariate"}[mv]
			b.Run(fmt.Sprintf("%s/history=%d", name, n), func(b *testing.B) {
				tpe := &TPE{Multivariate: mv}
				i := 0
				for b.Loop() {
					if _, err := tpe.Sample(s, h, NewRand(2, i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// randomHistory returns n complete trials of random configurations of s
// with random values.
func randomHistory(s *Space, n int) []Trial {
	var h []Trial
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range n {
		p, _ := Random{}.Sample(s, h, NewRand(1, i))
		h = append(h, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: []float64{rng.Float64()}})
	}
	return h
}

// BenchmarkTPE measures one proposal on the sweep space with a history of
// complete trials.
func BenchmarkTPE(b *testing.B) {
	s := sweepSpace(b)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{100, 1000, 10000} {
		h := randomHistory(s, n)
		for _, sc := range []struct {
			name string
			s    *TPE
		}{{"independent", &TPE{}}, {"multivariate", &TPE{Multivariate: true}}, {"two-objective", &TPE{Directions: []Direction{Maximize, Minimize}}}} {
			if len(sc.s.Directions) == 2 {
				for i := range h {
					h[i].Values = []float64{rng.Float64(), rng.Float64()}
				}
			}
			b.Run(fmt.Sprintf("%s/history=%d", sc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := sc.s.Sample(s, h, NewRand(2, i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			for i := range h {
				h[i].Values = h[i].Values[:1]
			}
		}
	}
}
