package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// parzen is a one-dimensional mixture of truncated normals on [lo, hi]:
// one component per observation with an adaptive bandwidth (the distance to
// the farther neighbour, clipped) plus a wide prior component, as in
// Bergstra et al. (2011) and Optuna.
type parzen struct {
	lo, hi float64
	mu     []float64
	sigma  []float64
	wz     []float64 // weight / normalizer of the truncation
	logC   []float64 // log of the density's constant factor per component
	cumW   []float64 // cumulative normalized weights, for sampling
	order  []int     // scratch for fit
	sorted []float64 // scratch for fit
}

// fit builds the estimator from observations xs (already transformed) with
// non-negative weights ws, plus the prior with priorWeight.
func (e *parzen) fit(xs, ws []float64, lo, hi, priorWeight float64) {
	n := len(xs)
	e.lo, e.hi = lo, hi
	e.mu = append(e.mu[:0], xs...)
	e.mu = append(e.mu, 0.5*(lo+hi))
	e.sigma = slices.Grow(e.sigma[:0], n+1)[:n+1]
	e.order = slices.Grow(e.order[:0], n+1)[:n+1]
	for i := range e.order {
		e.order[i] = i
	}
	sort.SliceStable(e.order, func(a, b int) bool { return e.mu[e.order[a]] < e.mu[e.order[b]] })
	// Sorted means with the bounds as sentinels.
	m := n + 1
	e.sorted = slices.Grow(e.sorted[:0], m+2)[:m+2]
	e.sorted[0], e.sorted[m+1] = lo, hi
	for k, i := range e.order {
		e.sorted[k+1] = e.mu[i]
	}
	for k, i := range e.order {
		s := max(e.sorted[k+1]-e.sorted[k], e.sorted[k+2]-e.sorted[k+1])
		// The outermost components ignore the bounds (consider_endpoints=false).
		if m >= 2 {
			if k == 0 {
				s = e.sorted[2] - e.sorted[1]
			} else if k == m-1 {
				s = e.sorted[m] - e.sorted[m-1]
			}
		}
		e.sigma[i] = s
	}
	maxS := hi - lo
	minS := (hi - lo) / min(100, 1+float64(m))
	for i := range e.sigma {
		e.sigma[i] = min(max(e.sigma[i], minS), maxS)
	}
	e.sigma[n] = hi - lo // the prior
	total := priorWeight
	for _, w := range ws {
		total += w
	}
	e.wz = slices.Grow(e.wz[:0], m)[:m]
	e.logC = slices.Grow(e.logC[:0], m)[:m]
	e.cumW = slices.Grow(e.cumW[:0], m)[:m]
	acc := 0.0
	for i := range m {
		w := priorWeight
		if i < n {
			w = ws[i]
		}
		acc += w / total
		e.cumW[i] = acc
		z := normCDF((hi-e.mu[i])/e.sigma[i]) - normCDF((lo-e.mu[i])/e.sigma[i])
		e.wz[i] = w / total / z
		e.logC[i] = math.Log(e.wz[i]) - math.Log(e.sigma[i]) - logSqrt2Pi
	}
}

// sample draws one value from the mixture.
func (e *parzen) sample(rng *rand.Rand) float64 {
	u := rng.Float64() * e.cumW[len(e.cumW)-1]
	i, _ := slices.BinarySearch(e.cumW, u)
	i = min(i, len(e.mu)-1)
	mu, s := e.mu[i], e.sigma[i]
	pa, pb := normCDF((e.lo-mu)/s), normCDF((e.hi-mu)/s)
	x := mu + s*normQuantile(pa+rng.Float64()*(pb-pa))
	return min(max(x, e.lo), e.hi)
}

// logSqrt2Pi is log √(2π).
const logSqrt2Pi = 0.9189385332046727

// logPDF returns the log density at x. It does not allocate.
func (e *parzen) logPDF(x float64) float64 {
	// Streaming log-sum-exp: one exp per component.
	m, s := math.Inf(-1), 0.0
	for i, mu := range e.mu {
		z := (x - mu) / e.sigma[i]
		v := e.logC[i] - 0.5*z*z
		if math.IsInf(v, -1) {
			continue
		}
		if v <= m {
			s += math.Exp(v - m)
		} else {
			s = s*math.Exp(m-v) + 1
			m = v
		}
	}
	return m + math.Log(s)
}

// logMass returns the log probability of the interval [a, b].
func (e *parzen) logMass(a, b float64) float64 {
	sum := 0.0
	for i, mu := range e.mu {
		s := e.sigma[i]
		za, zb := (a-mu)/s, (b-mu)/s
		if za > 9 || zb < -9 {
			// Less than 1e-19 of this component's mass; the prior component
			// always contributes far more.
			continue
		}
		sum += e.wz[i] * (normCDF(zb) - normCDF(za))
	}
	if sum <= 0 {
		return math.Inf(-1)
	}
	return math.Log(sum)
}

// categoricalDist returns the TPE categorical estimator's probabilities:
// each observation's component puts mass 1 on its choice plus
// priorWeight/(n+1) on every choice; the prior component is uniform.
func categoricalDist(dst []float64, idx []int, ws []float64, nChoices int, priorWeight float64) []float64 {
	dst = slices.Grow(dst[:0], nChoices)[:nChoices]
	n := len(idx)
	total := priorWeight
	for _, w := range ws {
		total += w
	}
	a := priorWeight / float64(n+1)
	for c := range dst {
		dst[c] = priorWeight / total / float64(nChoices)
	}
	for k, c := range idx {
		w := ws[k] / total
		norm := 1 + a*float64(nChoices)
		for j := range dst {
			dst[j] += w * a / norm
		}
		dst[c] += w / norm
	}
	return dst
}

// normCDF is the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normQuantile is the inverse of normCDF.
func normQuantile(p float64) float64 {
	if p < 0.5 {
		return -math.Sqrt2 * math.Erfcinv(2*p)
	}
	return math.Sqrt2 * math.Erfcinv(2*(1-p))
}
