package vec

import "math"

// The generic kernels are the trainer's original scalar loops. Every
// product is wrapped in an explicit float32 conversion, which the Go
// specification says rounds and so forbids fusing it with the following
// addition into an FMA: the results are the same on every architecture
// and GOAMD64 level, and the same as the AVX2 kernels, which use no FMA.
// The optimizer loops (Adam, SGD) also flush subnormals as the AVX2
// kernels do (see ftz).

func adamGeneric(w, g, m, v, mask []float32, l2, step, rbc2, b1, b2, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	if mask != nil {
		mask = mask[:len(w)]
	}
	c1, c2 := daz(1-b1), daz(1-b2)
	l2, step, rbc2, b1, b2, eps = daz(l2), daz(step), daz(rbc2), daz(b1), daz(b2), daz(eps)
	for i := range w {
		wi := daz(w[i])
		gi := add(daz(g[i]), mul(l2, wi))
		if mask != nil {
			gi = mul(gi, daz(mask[i]))
		}
		mi := add(mul(b1, daz(m[i])), mul(c1, gi))
		vi := add(mul(b2, daz(v[i])), mul(mul(c2, gi), gi))
		m[i], v[i] = mi, vi
		w[i] = dropTiny(sub(wi, div(mul(step, mi), add(mul(sqrt32(vi), rbc2), eps))))
	}
}

// sqrt32 is the correctly rounded float32 square root (the float64 root
// of a float32, rounded once more, is correctly rounded). Its operand is
// never subnormal here, nor then its result.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func sgdGeneric(w, g, vel, mask []float32, l2, lr, mu float32) {
	g, vel = g[:len(w)], vel[:len(w)]
	if mask != nil {
		mask = mask[:len(w)]
	}
	l2, lr, mu = daz(l2), daz(lr), daz(mu)
	for i := range w {
		wi := daz(w[i])
		gi := add(daz(g[i]), mul(l2, wi))
		if mask != nil {
			gi = mul(gi, daz(mask[i]))
		}
		vi := add(mul(mu, daz(vel[i])), gi)
		vel[i] = vi
		w[i] = dropTiny(sub(wi, mul(lr, vi)))
	}
}

// tinyWeight is the magnitude below which the optimizers set a weight to
// zero (see dropTiny).
const tinyWeight = 0x1p-80

// dropTiny returns a zero of x's sign for |x| < 2⁻⁸⁰, and x otherwise
// (NaN included). A
// weight that small adds less than 10⁻²⁰ of an input to its unit, nothing
// a float32 sum of the other terms can hold; but where the other weights
// of a unit are as small (a dead unit, decaying under L2), its sums in the
// forward and backward products are themselves subnormal, and on Intel
// cores every multiply-add that produces one takes a microcode assist.
func dropTiny(x float32) float32 {
	if x > -tinyWeight && x < tinyWeight {
		return float32(math.Copysign(0, float64(x)))
	}
	return x
}

// The optimizer loops compute as x86 does with MXCSR's DAZ and FTZ bits
// set, which is how the AVX2 kernels run: daz reads a subnormal operand as
// a zero of its sign, and each operation's result goes through ftz, which
// returns a zero of the result's sign where x86 detects underflow. x86
// detects tininess after rounding: a result is tiny when, rounded to
// float32's 24 bits with an unbounded exponent, it is below 2⁻¹²⁶, that
// is when its exact value is below 2⁻¹²⁶·(1 − 2⁻²⁵). The operations are
// done in float64, where the product of two float32s is exact, the sum of
// two that are not subnormal is exact whenever it is near 2⁻¹²⁶, and the
// double rounding of +, −, ×, ÷ and √ to float32 is innocuous (53 ≥ 2·24+2
// bits).
const tinyBelow = 0x1p-126 * (1 - 0x1p-25)

func daz(x float32) float32 {
	if x != 0 && x > -0x1p-126 && x < 0x1p-126 {
		return float32(math.Copysign(0, float64(x)))
	}
	return x
}

func ftz(x float64) float32 {
	if x > -tinyBelow && x < tinyBelow {
		return float32(math.Copysign(0, x))
	}
	return float32(x)
}

func add(a, b float32) float32 { return ftz(float64(a) + float64(b)) }
func sub(a, b float32) float32 { return ftz(float64(a) - float64(b)) }
func mul(a, b float32) float32 { return ftz(float64(a) * float64(b)) }
func div(a, b float32) float32 { return ftz(float64(a) / float64(b)) }

func biasReLUGeneric(z, b []float32) {
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		b := b[:len(row)]
		for j := range row {
			// max(v, 0) without a branch: clear v when its sign bit is set
			// (a data-dependent branch mispredicts half the time).
			u := math.Float32bits(row[j] + b[j])
			row[j] = math.Float32frombits(u &^ uint32(int32(u)>>31))
		}
	}
}

func biasAddGeneric(z, b []float32) {
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		b := b[:len(row)]
		for j := range row {
			row[j] += b[j]
		}
	}
}

func reluGradGeneric(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		// Keep g where a's bits, as an int32, are positive (ReLU outputs
		// are +0 or positive), without a branch.
		keep := uint32(-int32(math.Float32bits(v)) >> 31)
		g[i] = math.Float32frombits(math.Float32bits(g[i]) & keep)
	}
}

func sumRowsGeneric(dst, z []float32) {
	n := len(dst)
	clear(dst)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		j := 0
		for ; j+4 <= len(row); j += 4 {
			d, s := dst[j:j+4:j+4], row[j:j+4:j+4]
			d[0] += s[0]
			d[1] += s[1]
			d[2] += s[2]
			d[3] += s[3]
		}
		for ; j < len(row); j++ {
			dst[j] += row[j]
		}
	}
}

// standardizeGeneric standardizes the rows of x, from column c0 of each
// row on (Standardize's AVX2 path leaves the last d mod 8 to it).
func standardizeGeneric(dst, x, mean, scale []float32, c0 int) {
	d := len(mean)
	m, s := mean[c0:], scale[c0:]
	for r := c0; r < len(x); r += d {
		in, out := x[r:r+len(m)], dst[r:r+len(m)]
		for j, v := range in {
			out[j] = (v - m[j]) / s[j]
		}
	}
}

func columnStatsGeneric(sum []float64, lo, hi, x []float32) {
	x = x[:len(sum)]
	lo, hi = lo[:len(x)], hi[:len(x)]
	for j, v := range x {
		sum[j] += float64(v)
		if v < lo[j] {
			lo[j] = v
		}
		if v > hi[j] {
			hi[j] = v
		}
	}
}

func columnSquaresGeneric(sq, mean []float64, x []float32) {
	x = x[:len(sq)]
	mean = mean[:len(x)]
	for j, v := range x {
		dv := float64(v) - mean[j]
		sq[j] += float64(dv * dv) // the conversion forbids fusing
	}
}
