package packed

import (
	"math"
	"math/bits"
)

// The grids compact metadata lives on (doc.go, "Compact metadata"). A
// value on a grid is stored as a small integer and decoded by exactly the
// arithmetic below, so the float32 a Model holds is the float32 a file
// decodes to.

// Grid constants.
const (
	// gridSteps is the number of log-grid points per octave.
	gridSteps = 128
	// gridMaxK is the largest log-grid point a file may address.
	gridMaxK = 1<<16 - 1
	// scaleStep and stdStep are the grid points per index step of weight
	// scales (1/32 octave) and of standardisation scales (1/128 octave).
	scaleStep, stdStep = 4, 1
	// biasLevels is the largest bias code magnitude FromFloat uses: the
	// bias step is the smallest power of two with biasLevels·step ≥
	// max|bias|.
	biasLevels = 127
	// maxBiasCode bounds a stored bias code's magnitude.
	maxBiasCode = 1<<20 - 1
	// minBiasExp and maxBiasExp bound a bias step's exponent (one signed
	// byte).
	minBiasExp, maxBiasExp = -128, 127
	// meanExp is log2 of the mean step in units of the feature's scale:
	// a compact mean is c·Scale·2^meanExp.
	meanExp = -7
	// maxMeanCode bounds a stored mean code's magnitude.
	maxMeanCode = 1 << 24
)

// logGrid[r] is 2^(−r/128) rounded to float64.
var logGrid = [gridSteps]float64{
	1.0, 0.9945994234836332, 0.9892280131939755, 0.9838856116165879,
	0.9785720620877001, 0.9732872087896166, 0.9680308967461472, 0.9628029718180625,
	0.9576032806985737, 0.9524316709088371, 0.9472879907934828, 0.9421720895161673,
	0.93708381705515, 0.9320230241988945, 0.9269895625416927, 0.921983284479313,
	0.9170040432046712, 0.9120516927035267, 0.9071260877501994, 0.902227083903312,
	0.8973545375015536, 0.8925083056594675, 0.8876882462632606, 0.8828942179666364,
	0.8781260801866497, 0.8733836930995845, 0.8686669176368531, 0.8639756154809188,
	0.859309649061239, 0.8546688815502315, 0.8500531768592617, 0.8454623996346526,
	0.8408964152537145, 0.8363550898207983, 0.8318382901633682, 0.8273458838280972,
	0.8228777390769825, 0.8184337248834822, 0.8140137109286739, 0.8096175675974319,
	0.8052451659746271, 0.8008963778413467, 0.7965710756711335, 0.7922691326262469,
	0.7879904225539432, 0.7837348199827765, 0.7795022001189185, 0.7752924388425,
	0.7711054127039704, 0.766940998920478, 0.7627990753722692, 0.7586795205991074,
	0.7545822137967114, 0.7505070348132128, 0.7464538641456324, 0.7424225829363762,
	0.7384130729697497, 0.7344252166684909, 0.7304588970903235, 0.7265139979245263,
	0.7225904034885233, 0.7186879987244912, 0.714806669195985, 0.7109463010845828,
	0.7071067811865476, 0.7032879969095077, 0.6994898362691556, 0.6957121878859631,
	0.691954940981916, 0.6882179853772651, 0.6845012114872953, 0.6808045103191124,
	0.6771277734684463, 0.6734708931164729, 0.6698337620266515, 0.6662162735415808,
	0.6626183215798707, 0.659039800633032, 0.6554806057623822, 0.6519406325959679,
	0.6484197773255048, 0.6449179367033329, 0.6414350080393891, 0.637970889198196,
	0.6345254785958666, 0.6310986751971254, 0.6276903785123455, 0.6243004885946024,
	0.620928906036742, 0.6175755319684667, 0.614240268053435, 0.6109230164863788,
	0.6076236799902345, 0.6043421618132908, 0.6010783657263515, 0.5978321960199137,
	0.5946035575013605, 0.5913923554921705, 0.5881984958251406, 0.5850218848416251,
	0.5818624293887887, 0.5787200368168756, 0.5755946149764913, 0.5724860722159021,
	0.5693943173783458, 0.5663192597993596, 0.5632608093041209, 0.5602188762048034,
	0.5571933712979462, 0.5541842058618394, 0.5511912916539204, 0.5482145409081884,
	0.5452538663326288, 0.5423091811066546, 0.5393803988785599, 0.5364674337629878,
	0.5335702003384118, 0.530688613644631, 0.5278225891802786, 0.5249720429003436,
	0.5221368912137069, 0.5193170509806894, 0.5165124395106142, 0.5137229745593819,
	0.5109485743270583, 0.5081891574554765, 0.5054446430258502, 0.5027149505564014,
}

// gridValue returns index k of the log grid below top with step points
// per index: float32(top · logGrid[p mod 128] · 2^−⌊p/128⌋), p = k·step,
// the product rounded to float64 and the result to float32. It is
// non-increasing in k.
func gridValue(top float32, k, step int) float32 {
	p := k * step
	return float32(math.Ldexp(float64(top)*logGrid[p%gridSteps], -(p / gridSteps)))
}

// gridFirstBelow returns the smallest k in [0, gridMaxK/step] with
// gridValue(top, k, step) ≤ v, or gridMaxK/step+1 when there is none.
func gridFirstBelow(top, v float32, step int) int {
	lo, hi := 0, gridMaxK/step+1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if gridValue(top, mid, step) <= v {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// gridIndex returns the smallest k with gridValue(top, k, step) == v, or
// false.
func gridIndex(top, v float32, step int) (int, bool) {
	k := gridFirstBelow(top, v, step)
	if k > gridMaxK/step || gridValue(top, k, step) != v {
		return 0, false
	}
	return k, true
}

// gridCeil returns the largest k whose grid value is at least v, the
// finest step that does not clip: a k with value exactly v if there is
// one. v must be in (0, top].
func gridCeil(top, v float32, step int) int {
	k := gridFirstBelow(top, v, step)
	if k <= gridMaxK/step && gridValue(top, k, step) == v {
		return k
	}
	return k - 1
}

// gridNearest returns the k whose grid value is nearest v in ratio,
// v in (0, top]; ties go to the larger value.
func gridNearest(top, v float32, step int) int {
	k := gridFirstBelow(top, v, step)
	if k == 0 {
		return 0
	}
	if k > gridMaxK/step {
		return gridMaxK / step
	}
	below, above := float64(gridValue(top, k, step)), float64(gridValue(top, k-1, step))
	if below > 0 && float64(v)*float64(v) < below*above {
		return k
	}
	return k - 1
}

// biasValue returns the bias of code c under step 2^e.
func biasValue(c int64, e int) float32 { return float32(math.Ldexp(float64(c), e)) }

// biasGrid returns the exponent e of the coarsest power-of-two step on
// which every bias in b lies with codes of magnitude at most maxBiasCode
// (0 when all are +0), or false when there is none: a −0, a bias needing
// a step below 2^minBiasExp, or codes too large.
func biasGrid(b []float32) (int, bool) {
	e, any := maxBiasExp, false
	for _, v := range b {
		u := math.Float32bits(v)
		switch {
		case u == 0:
			continue
		case u == 1<<31:
			return 0, false
		}
		exp, man := int(u>>23&0xFF), u&(1<<23-1)
		if exp == 0xFF {
			return 0, false
		}
		low := -149 // exponent of the mantissa's lowest bit
		if exp != 0 {
			man |= 1 << 23
			low = exp - 150
		}
		e = min(e, low+bits.TrailingZeros32(man))
		any = true
	}
	if !any {
		return 0, true
	}
	if e < minBiasExp {
		return 0, false
	}
	for _, v := range b {
		if math.Abs(math.Ldexp(float64(v), -e)) > maxBiasCode {
			return 0, false
		}
	}
	return e, true
}

// roundBiases rounds b in place to the power-of-two grid FromFloat uses
// for layers of at most 8 bits and reports whether it did: it leaves b
// unchanged when the rounded values would not be finite or the step would
// be below 2^minBiasExp.
func roundBiases(b []float32) bool {
	var peak float64
	for _, v := range b {
		peak = max(peak, math.Abs(float64(v)))
	}
	if peak == 0 {
		for i := range b {
			b[i] = 0 // −0 becomes +0
		}
		return true
	}
	_, e := math.Frexp(peak / biasLevels) // peak/levels in [2^(e−1), 2^e)
	if math.Ldexp(1, e-1) >= peak/biasLevels {
		e--
	}
	e = max(e, minBiasExp)
	if e > maxBiasExp {
		return false
	}
	out := make([]float32, len(b))
	for i, v := range b {
		c := math.RoundToEven(math.Ldexp(float64(v), -e))
		out[i] = biasValue(int64(c), e)
		if math.IsInf(float64(out[i]), 0) {
			return false
		}
	}
	copy(b, out)
	return true
}

// meanValue returns the mean of code c for a feature of scale s:
// float32(c·s·2^meanExp), exact in float64 before the one rounding.
func meanValue(c int64, s float32) float32 {
	return float32(math.Ldexp(float64(c)*float64(s), meanExp))
}

// meanCode returns the code of mean m for a feature of scale s > 0, or
// false when m is not on the grid.
func meanCode(m, s float32) (int64, bool) {
	c := math.RoundToEven(math.Ldexp(float64(m)/float64(s), -meanExp))
	if math.IsNaN(c) || math.Abs(c) > maxMeanCode {
		return 0, false
	}
	for _, d := range [...]float64{0, -1, 1} {
		if ci := int64(c + d); math.Abs(float64(ci)) <= maxMeanCode && math.Float32bits(meanValue(ci, s)) == math.Float32bits(m) {
			return ci, true
		}
	}
	return 0, false
}
