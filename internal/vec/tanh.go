package vec

import "math"

// BiasTanh's tanh is computed in float64, with a relative error below
// 2⁻⁴⁴, and rounded once to float32, which bounds its distance from
// float32(math.Tanh(x)) by 1 ulp; in fact it equals that for every one of
// the 2³² float32s (TestTanhExhaustive, against Go 1.26's math.Tanh). Its
// own formula lets the AVX2 kernel follow the same operations bit for bit:
//
//	tanh |x| = E/(E+2),  E = e^y - 1,  y = min(2|x|, 40)
//
// then the sign is copied from x (tanh is odd; at y = 40 the float32
// result is already 1). E is computed without cancellation, so small |x|
// keep full relative accuracy: with k = round(y/ln 2) and r = y - k·ln 2
// (Cody–Waite, |r| ≤ ln 2/2), E = 2^k·(e^r - 1) + (2^k - 1), where
// e^r - 1 = r·Q(r) and Q is the Taylor series of (e^r - 1)/r through r¹⁰
// (truncation below 2⁻⁴⁵ relative), evaluated by Estrin's scheme, whose
// short dependency chains let the vector kernel overlap its work; 2^k is
// built from the exponent bits. Every float64 operation is rounded on its
// own (explicit conversions stop the compiler fusing multiply-adds), so
// the generic and AVX2 paths agree exactly. A NaN comes back as that NaN.
const (
	tanhClamp = 40.0               // largest y used
	log2e     = 1.4426950408889634 // 1/ln 2
	expMagic  = 0x1.8p52           // adding it rounds to an integer, kept in the low bits
	ln2Hi     = 6.93147180369123816490e-01
	ln2Lo     = 1.90821492927058770002e-10 // ln2Hi + ln2Lo = ln 2; k·ln2Hi is exact for |k| < 2²⁰
	expBias   = 0x3ff << 52                // exponent bits of 1.0
)

// expm1Coef are 1/(k+1)! for k = 0 … 10: (e^r - 1)/r ≈ Σ expm1Coef[k]·r^k.
var expm1Coef = [11]float64{
	1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
	1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
}

// lin is a + b·x, the product rounded before the sum.
func lin(a, b, x float64) float64 { return a + float64(b*x) }

// tanh32 is tanh(s) as described above.
func tanh32(s float32) float32 { return float32(tanh64(float64(s))) }

// tanh64 is tanh(x) as described above, before the final rounding to
// float32.
func tanh64(x float64) float64 {
	if x != x {
		return x
	}
	y := math.Abs(x) * 2
	if y > tanhClamp { // a plain compare: min's handling of NaN and ±0 is not needed
		y = tanhClamp
	}
	t := float64(y*log2e) + expMagic
	k := t - expMagic
	r := float64(y-float64(k*ln2Hi)) - float64(k*ln2Lo)
	c := &expm1Coef
	r2 := float64(r * r)
	r4 := float64(r2 * r2)
	b0 := lin(lin(c[0], c[1], r), lin(c[2], c[3], r), r2)
	b1 := lin(lin(c[4], c[5], r), lin(c[6], c[7], r), r2)
	b2 := lin(lin(c[8], c[9], r), c[10], r2)
	em1 := float64(r * lin(b0, lin(b1, b2, r4), r4))              // e^r - 1
	p2 := math.Float64frombits(math.Float64bits(t)<<52 + expBias) // 2^k
	e := float64(p2*em1) + float64(p2-1)
	th := e / float64(e+2)
	return math.Float64frombits(math.Float64bits(th) | math.Float64bits(x)&(1<<63))
}

// tanhTable holds the AVX2 kernel's constants, each repeated in the four
// lanes of a vector, at the byte offsets listed in arch_amd64.s (TANH4);
// they are built from the constants above, so both paths use the same
// values.
var tanhTable = func() (t [tanhConsts][4]uint64) {
	set := func(i int, bits uint64) { t[i] = [4]uint64{bits, bits, bits, bits} }
	f := math.Float64bits
	set(0, 1<<63-1) // abs mask
	set(1, 1<<63)   // sign mask
	set(2, f(tanhClamp))
	set(3, f(log2e))
	set(4, f(expMagic))
	set(5, f(ln2Hi))
	set(6, f(ln2Lo))
	set(7, f(1))
	set(8, f(2))
	set(9, expBias)
	for i, c := range expm1Coef {
		set(10+i, f(c))
	}
	return t
}()

// tanhConsts is the number of vectors in tanhTable.
const tanhConsts = 21

// tanhBatch is how many elements biasTanhGeneric converts to float64
// at a time.
const tanhBatch = 16

// biasTanhGeneric converts a batch of sums to float64, takes their tanh,
// and converts them back, in three passes: amd64's float conversions
// write only part of a register and so depend on its previous value,
// which in a one-element loop chains every element's tanh to the one
// before; the middle pass has no conversions and runs the elements in
// parallel (about twice as fast).
func biasTanhGeneric(z, b []float32) {
	var buf [tanhBatch]float64
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		b := b[:len(row)]
		for j := 0; j < len(row); j += tanhBatch {
			m := min(tanhBatch, len(row)-j)
			zs, bs, xs := row[j:j+m], b[j:j+m], buf[:m]
			for k := range xs {
				xs[k] = float64(zs[k] + bs[k])
			}
			for k, x := range xs {
				xs[k] = tanh64(x)
			}
			for k, x := range xs {
				zs[k] = float32(x)
			}
		}
	}
}

func tanhGradGeneric(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		g[i] *= 1 - float32(v*v)
	}
}
