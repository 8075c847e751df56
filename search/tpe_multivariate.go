package search

import (
	"math"
	"math/rand/v2"
	"slices"
)

// mvKernel is one side (l or g) of the multivariate TPE estimator over the
// unconditional parameters: a mixture whose component k is a product of
// one kernel per parameter, centred on observation k (the last component
// is the prior). Numeric kernels share Scott's-rule bandwidth; categorical
// kernels are the smoothed indicator of the observed choice.
type mvKernel struct {
	dims []*Param
	lo   []float64   // per dim
	hi   []float64   // per dim
	x    [][]float64 // x[d][k]: internal centre (numeric) or choice index (categorical)
	sig  [][]float64 // sig[d][k]: bandwidth (numeric)
	logZ [][]float64 // logZ[d][k]: log mass of the truncation (numeric)
	logC [][]float64 // logC[d][k]: −log σ − log √(2π) − logZ (Float)
	catA []float64   // per dim: a = priorWeight/(n+1) (categorical)
	logW []float64   // per component, normalized
	cumW []float64

	// Categorical dims: the log mass a component gives the point when it
	// observed the point's choice, when it observed another, and the
	// prior's.
	catHit, catMiss, catPrior []float64
	// Int dims: components with the same centre have the same bandwidth
	// (Scott's rule) and truncation, so a point's log mass is computed
	// once per distinct centre: uniq[d] indexes the distinct centres of
	// dim d, of[d][k] is component k's, and mass[d] caches, per integer,
	// the log masses of the distinct centres; cur[d] is the point's.
	uniq [][]int
	of   [][]int32
	mass []map[int][]float64
	cur  [][]float64
}

// sigma0 is Optuna's (and BOHB's) bandwidth factor for Scott's rule.
const sigma0 = 0.2

// fit builds the estimator from rows (one per observation, values in the
// space's external form as stored in Params) with weights ws.
func (e *mvKernel) fit(dims []*Param, rows [][]any, ws []float64, priorWeight float64) {
	n, nd := len(rows), len(dims)
	m := n + 1
	e.dims = dims
	e.lo = make([]float64, nd)
	e.hi = make([]float64, nd)
	e.x = make([][]float64, nd)
	e.sig = make([][]float64, nd)
	e.logZ = make([][]float64, nd)
	e.logC = make([][]float64, nd)
	e.catA = make([]float64, nd)
	e.catHit = make([]float64, nd)
	e.catMiss = make([]float64, nd)
	e.catPrior = make([]float64, nd)
	e.uniq = make([][]int, nd)
	e.of = make([][]int32, nd)
	e.mass = make([]map[int][]float64, nd)
	e.cur = make([][]float64, nd)
	bw := sigma0 * math.Pow(float64(max(n, 1)), -1/(float64(nd)+4))
	for d, prm := range dims {
		e.x[d] = make([]float64, m)
		if prm.Kind == Categorical {
			for k, r := range rows {
				e.x[d][k] = float64(prm.catIndex(r[d]))
			}
			e.x[d][n] = -1
			a, nc := priorWeight/float64(m), float64(len(prm.Values))
			e.catA[d] = a
			// The terms logPDF adds, as it would compute them per component.
			e.catHit[d] = math.Log((a + 1) / (1 + a*nc))
			e.catMiss[d] = math.Log(a / (1 + a*nc))
			e.catPrior[d] = math.Log(nc)
			continue
		}
		lo, hi := prm.internalBounds()
		e.lo[d], e.hi[d] = lo, hi
		e.sig[d] = make([]float64, m)
		e.logZ[d] = make([]float64, m)
		e.logC[d] = make([]float64, m)
		minS := (hi - lo) / min(100, 1+float64(m))
		for k := range m {
			var mu, s float64
			if k < n {
				v, _ := number(rows[k][d])
				mu = prm.toInternal(v)
				s = min(max(bw*(hi-lo), minS), hi-lo)
			} else {
				mu, s = 0.5*(lo+hi), hi-lo
			}
			e.x[d][k], e.sig[d][k] = mu, s
			e.logZ[d][k] = math.Log(normCDF((hi-mu)/s) - normCDF((lo-mu)/s))
			e.logC[d][k] = -math.Log(s) - logSqrt2Pi - e.logZ[d][k]
		}
		if prm.Kind == Int {
			e.of[d] = make([]int32, m)
			seen := make(map[[2]float64]int32, m)
			for k := range m {
				key := [2]float64{e.x[d][k], e.sig[d][k]}
				u, ok := seen[key]
				if !ok {
					u = int32(len(e.uniq[d]))
					seen[key] = u
					e.uniq[d] = append(e.uniq[d], k)
				}
				e.of[d][k] = u
			}
			e.mass[d] = make(map[int][]float64)
		}
	}
	total := priorWeight
	for _, w := range ws {
		total += w
	}
	e.logW = make([]float64, m)
	e.cumW = make([]float64, m)
	acc := 0.0
	for k := range m {
		w := priorWeight
		if k < n {
			w = ws[k]
		}
		acc += w / total
		e.cumW[k] = acc
		e.logW[k] = math.Log(w / total)
	}
}

// sample draws one point: per dim, an internal value (Float), an integer
// (Int) or a choice index (Categorical).
func (e *mvKernel) sample(dst []float64, rng *rand.Rand) {
	u := rng.Float64() * e.cumW[len(e.cumW)-1]
	k, _ := slices.BinarySearch(e.cumW, u)
	k = min(k, len(e.cumW)-1)
	for d, prm := range e.dims {
		if prm.Kind == Categorical {
			nc := len(prm.Values)
			obs := int(e.x[d][k])
			if obs < 0 || rng.Float64()*(1+e.catA[d]*float64(nc)) < e.catA[d]*float64(nc) {
				// The prior part of the component: uniform.
				dst[d] = float64(rng.IntN(nc))
			} else {
				dst[d] = float64(obs)
			}
			continue
		}
		mu, s := e.x[d][k], e.sig[d][k]
		pa, pb := normCDF((e.lo[d]-mu)/s), normCDF((e.hi[d]-mu)/s)
		x := min(max(mu+s*normQuantile(pa+rng.Float64()*(pb-pa)), e.lo[d]), e.hi[d])
		if prm.Kind == Int {
			v, _ := number(prm.fromInternal(x))
			dst[d] = v
		} else {
			dst[d] = x
		}
	}
}

// logPDF returns the log density (mass for Int and Categorical dims) of a
// point in the representation of sample.
func (e *mvKernel) logPDF(pt []float64) float64 {
	for d, prm := range e.dims {
		if prm.Kind == Int {
			e.cur[d] = e.intMass(d, int(pt[d]))
		}
	}
	mx, sum := math.Inf(-1), 0.0
	for k := range e.logW {
		v := e.logW[k]
		for d, prm := range e.dims {
			switch prm.Kind {
			case Categorical:
				switch obs := e.x[d][k]; {
				case obs < 0:
					v -= e.catPrior[d]
				case obs == pt[d]:
					v += e.catHit[d]
				default:
					v += e.catMiss[d]
				}
			case Int:
				v += e.cur[d][e.of[d][k]]
			default:
				z := (pt[d] - e.x[d][k]) / e.sig[d][k]
				v += e.logC[d][k] - 0.5*z*z
			}
		}
		if math.IsInf(v, -1) || math.IsNaN(v) {
			continue
		}
		if v <= mx {
			sum += math.Exp(v - mx)
		} else {
			sum = sum*math.Exp(mx-v) + 1
			mx = v
		}
	}
	return mx + math.Log(sum)
}

// intMass returns the log mass of integer j's bin under each distinct
// centre's truncated normal of Int dim d, computed once per j.
func (e *mvKernel) intMass(d, j int) []float64 {
	if ms, ok := e.mass[d][j]; ok {
		return ms
	}
	a, b := e.dims[d].internalBin(j, e.lo[d], e.hi[d])
	ms := make([]float64, len(e.uniq[d]))
	for u, k := range e.uniq[d] {
		mu, s := e.x[d][k], e.sig[d][k]
		ms[u] = math.Log(normCDF((b-mu)/s)-normCDF((a-mu)/s)) - e.logZ[d][k]
	}
	e.mass[d][j] = ms
	return ms
}

// sampleJoint proposes values for the unconditional parameters dims jointly
// and writes them into out.
func sampleJoint(dims []*Param, history []Trial, below, above *tpeGroup, cands int, pw float64, rng *rand.Rand, out Params) {
	rowsOf := func(g *tpeGroup) ([][]any, []float64) {
		var rows [][]any
		var ws []float64
		for k, h := range g.idx {
			row := make([]any, len(dims))
			ok := true
			for d, prm := range dims {
				v, has := history[h].Params[prm.Name]
				if !has || prm.checkValue(v) != "" {
					ok = false
					break
				}
				row[d] = v
			}
			if !ok {
				continue
			}
			rows = append(rows, row)
			if g.w != nil {
				ws = append(ws, g.w[k])
			}
		}
		if g.w == nil {
			ws = defaultWeights(nil, len(rows))
		}
		return rows, ws
	}
	var l, g mvKernel
	rb, wb := rowsOf(below)
	ra, wa := rowsOf(above)
	l.fit(dims, rb, wb, pw)
	g.fit(dims, ra, wa, pw)
	pt := make([]float64, len(dims))
	best := make([]float64, len(dims))
	bestScore := math.Inf(-1)
	for c := range cands {
		l.sample(pt, rng)
		if s := l.logPDF(pt) - g.logPDF(pt); c == 0 || s > bestScore {
			bestScore = s
			copy(best, pt)
		}
	}
	for d, prm := range dims {
		switch prm.Kind {
		case Categorical:
			out[prm.Name] = prm.Values[int(best[d])]
		case Int:
			out[prm.Name] = int(best[d])
		default:
			out[prm.Name] = prm.fromInternal(best[d])
		}
	}
}
