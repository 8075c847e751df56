package vec

import (
	"strconv"
	"unsafe"
)

// Path reports the kernels in use: "avx2" or "generic".
func Path() string {
	if useAVX2 {
		return "avx2"
	}
	return "generic"
}

// Adam applies one Adam step to w in place, given the raw gradient g,
// first and second moments m and v (updated in place) and an optional
// mask (nil: all ones). For each i, rounding to float32 after every
// operation, in this order:
//
//	gi   = (g[i] + l2*w[i]) * mask[i]
//	m[i] = b1*m[i] + (1-b1)*gi
//	v[i] = b2*v[i] + ((1-b2)*gi)*gi
//	w[i] = w[i] - (step*m[i]) / (sqrt(v[i])*rbc2 + eps)
//
// Subnormal operands read as zero and tiny results are flushed to zero,
// and a new w[i] below 2⁻⁸⁰ in magnitude becomes a zero of its sign (see
// the package documentation). step is the learning rate over the
// first-moment bias correction and rbc2 the reciprocal square root of the
// second's. g, m, v and mask (when not
// nil) must have len(w) elements; w, m and v must not overlap each other,
// and g and mask must not overlap them except by being the same slice.
func Adam(w, g, m, v, mask []float32, l2, step, rbc2, b1, b2, eps float32) {
	n := len(w)
	checkLen("Adam", "g", len(g), "w", n)
	checkLen("Adam", "m", len(m), "w", n)
	checkLen("Adam", "v", len(v), "w", n)
	if mask != nil {
		checkLen("Adam", "mask", len(mask), "w", n)
	}
	n8 := 0
	if useAVX2 && n >= 8 {
		n8 = n &^ 7
		var mp *float32
		if mask != nil {
			mp = unsafe.SliceData(mask)
		}
		adamAVX2(unsafe.SliceData(w), unsafe.SliceData(g), unsafe.SliceData(m), unsafe.SliceData(v), mp,
			n8, l2, step, rbc2, b1, 1-b1, b2, 1-b2, eps)
		if n8 == n {
			return
		}
		if mask != nil {
			mask = mask[n8:]
		}
	}
	adamGeneric(w[n8:], g[n8:], m[n8:], v[n8:], mask, l2, step, rbc2, b1, b2, eps)
}

// SGD applies one step of stochastic gradient descent with momentum to w
// in place, given the raw gradient g, the velocity vel (updated in place)
// and an optional mask (nil: all ones). For each i, rounding to float32
// after every operation:
//
//	gi     = (g[i] + l2*w[i]) * mask[i]
//	vel[i] = mu*vel[i] + gi
//	w[i]   = w[i] - lr*vel[i]
//
// with subnormals flushed and tiny weights dropped as in Adam.
// g, vel and mask (when not nil) must have len(w) elements; w and vel must
// not overlap, and g and mask must not overlap them except by being the
// same slice.
func SGD(w, g, vel, mask []float32, l2, lr, mu float32) {
	n := len(w)
	checkLen("SGD", "g", len(g), "w", n)
	checkLen("SGD", "vel", len(vel), "w", n)
	if mask != nil {
		checkLen("SGD", "mask", len(mask), "w", n)
	}
	n8 := 0
	if useAVX2 && n >= 8 {
		n8 = n &^ 7
		var mp *float32
		if mask != nil {
			mp = unsafe.SliceData(mask)
		}
		sgdAVX2(unsafe.SliceData(w), unsafe.SliceData(g), unsafe.SliceData(vel), mp, n8, l2, lr, mu)
		if n8 == n {
			return
		}
		if mask != nil {
			mask = mask[n8:]
		}
	}
	sgdGeneric(w[n8:], g[n8:], vel[n8:], mask, l2, lr, mu)
}

// BiasReLU adds b to every row of z (row-major, rows of len(b) elements)
// and applies max(·, 0) in place: z[r*n+j] = relu(z[r*n+j] + b[j]).
// Negative sums and -0 become +0, never -0. Like the branch-free scalar
// loop it replaces, relu clears every value whose sign bit is set, so a
// NaN sum with the sign bit set (such as the default NaN of Inf-Inf on
// x86) becomes +0 while one with the sign bit clear stays NaN.
//
// len(z) must be a multiple of len(b), and b must not overlap z. An empty
// b is allowed only with an empty z.
func BiasReLU(z, b []float32) {
	n := len(b)
	checkRows("BiasReLU", len(z), n)
	if len(z) == 0 {
		return
	}
	if useAVX2 && n >= 8 {
		biasReLUAVX2(unsafe.SliceData(z), unsafe.SliceData(b), len(z)/n, n)
		return
	}
	biasReLUGeneric(z, b)
}

// BiasAdd adds b to every row of z (row-major, rows of len(b) elements) in
// place: z[r*n+j] += b[j]. len(z) must be a multiple of len(b), and b must
// not overlap z. An empty b is allowed only with an empty z.
func BiasAdd(z, b []float32) {
	n := len(b)
	checkRows("BiasAdd", len(z), n)
	if len(z) == 0 {
		return
	}
	if useAVX2 && n >= 8 {
		biasAddAVX2(unsafe.SliceData(z), unsafe.SliceData(b), len(z)/n, n)
		return
	}
	biasAddGeneric(z, b)
}

// ReLUGrad multiplies the gradient g in place by the derivative of ReLU,
// given the ReLU's output a: it zeroes g[i] where a[i] is +0 and keeps it
// where a[i] is positive. For values a ReLU never outputs, the rule is the
// bit test of the scalar loop it replaces: g[i] is kept exactly when
// -int32(bits(a[i])) is negative, that is, when a[i] is positive, a NaN
// with the sign bit clear, or -0; it is zeroed when a[i] is +0, negative
// or a NaN with the sign bit set. Kept values are bit-for-bit unchanged
// (NaNs included); zeroed ones become +0.
//
// a must have len(g) elements and may be g itself, but must not otherwise
// overlap it.
func ReLUGrad(g, a []float32) {
	n := len(g)
	checkLen("ReLUGrad", "a", len(a), "g", n)
	n8 := 0
	if useAVX2 && n >= 8 {
		n8 = n &^ 7
		reluGradAVX2(unsafe.SliceData(g), unsafe.SliceData(a), n8)
		if n8 == n {
			return
		}
	}
	reluGradGeneric(g[n8:], a[n8:])
}

// SumRows sets dst to the column sums of z, a row-major block of rows of
// len(dst) elements: dst[j] = Σ_r z[r*len(dst)+j], summed from +0 over
// rows r = 0, 1, 2, … in order, rounding to float32 after each addition.
// An empty z gives all zeros. len(z) must be a multiple of len(dst), and
// dst must not overlap z. An empty dst is allowed only with an empty z.
func SumRows(dst, z []float32) {
	n := len(dst)
	checkRows("SumRows", len(z), n)
	if n == 0 {
		return
	}
	if useAVX2 && n >= 8 && len(z) > 0 {
		sumRowsAVX2(unsafe.SliceData(dst), unsafe.SliceData(z), len(z)/n, n)
		return
	}
	sumRowsGeneric(dst, z)
}

// checkLen panics unless got == want: a programmer error, like a shape
// mismatch in gonum's mat.
func checkLen(fn, name string, got int, ref string, want int) {
	if got != want {
		panicLen(fn, name, got, ref, want)
	}
}

//go:noinline
func panicLen(fn, name string, got int, ref string, want int) {
	panic("vec: " + fn + ": len(" + name + ") = " + strconv.Itoa(got) +
		", want len(" + ref + ") = " + strconv.Itoa(want))
}

// checkRows panics unless a block of size elements splits into whole rows
// of n elements.
func checkRows(fn string, size, n int) {
	if (n == 0 && size != 0) || (n != 0 && size%n != 0) {
		panicRows(fn, size, n)
	}
}

//go:noinline
func panicRows(fn string, size, n int) {
	panic("vec: " + fn + ": block of " + strconv.Itoa(size) +
		" elements is not a whole number of rows of " + strconv.Itoa(n))
}

// BiasTanh adds b to every row of z (row-major, rows of len(b) elements)
// and applies tanh in place: z[r*n+j] = tanh(z[r*n+j] + b[j]), the sum
// rounded to float32 first. tanh is computed in float64 and rounded once
// (tanh.go): at most 1 ulp from float32(math.Tanh(x)) by construction,
// and equal to it for every float32 x, checked exhaustively, so the
// results are those of the trainer's math.Tanh loop. tanh is odd (-0
// stays -0), ±1 for large |x| and infinities, and a NaN sum stays that
// NaN.
//
// len(z) must be a multiple of len(b), and b must not overlap z. An empty
// b is allowed only with an empty z.
func BiasTanh(z, b []float32) {
	n := len(b)
	checkRows("BiasTanh", len(z), n)
	if len(z) == 0 {
		return
	}
	if useAVX2 && n >= 8 {
		biasTanhAVX2(unsafe.SliceData(z), unsafe.SliceData(b), len(z)/n, n, &tanhTable)
		return
	}
	biasTanhGeneric(z, b)
}

// TanhGrad multiplies the gradient g in place by the derivative of tanh,
// given the tanh's output a: g[i] = g[i] * (1 - a[i]*a[i]), rounding to
// float32 after each operation.
//
// a must have len(g) elements and may be g itself, but must not otherwise
// overlap it.
func TanhGrad(g, a []float32) {
	n := len(g)
	checkLen("TanhGrad", "a", len(a), "g", n)
	n8 := 0
	if useAVX2 && n >= 8 {
		n8 = n &^ 7
		tanhGradAVX2(unsafe.SliceData(g), unsafe.SliceData(a), n8)
		if n8 == n {
			return
		}
	}
	tanhGradGeneric(g[n8:], a[n8:])
}

// Standardize sets dst[i] = (x[i] - mean[i%d]) / scale[i%d], d = len(mean),
// for rows of d features: a subtraction and a division, each rounded to
// float32, as the scalar loop does. len(scale) must be d, len(x) a
// multiple of d and len(dst) = len(x); dst may be x itself but must not
// otherwise overlap it, mean or scale.
func Standardize(dst, x, mean, scale []float32) {
	d := len(mean)
	checkRows("Standardize", len(x), d)
	if len(scale) != d || len(dst) != len(x) {
		panic("vec: Standardize: " + strconv.Itoa(len(dst)) + " outputs, " + strconv.Itoa(len(x)) + " inputs, " +
			strconv.Itoa(d) + " means, " + strconv.Itoa(len(scale)) + " scales")
	}
	if len(x) == 0 {
		return
	}
	if !useAVX2 || d < 8 {
		standardizeGeneric(dst, x, mean, scale, 0)
		return
	}
	d8 := d &^ 7
	standardizeAVX2(unsafe.SliceData(dst), unsafe.SliceData(x), unsafe.SliceData(mean), unsafe.SliceData(scale), len(x)/d, d, d8)
	if d8 < d {
		standardizeGeneric(dst, x, mean, scale, d8)
	}
}

// ColumnStats folds one row x of d = len(sum) features into running
// column statistics: for each j, sum[j] += float64(x[j]), and x[j]
// replaces lo[j] if it is smaller and hi[j] if it is larger (so a NaN
// never replaces them, and a tie keeps the old value, whatever its sign).
// lo, hi and x must have d elements and must not overlap.
func ColumnStats(sum []float64, lo, hi, x []float32) {
	d := len(sum)
	checkLen("ColumnStats", "lo", len(lo), "sum", d)
	checkLen("ColumnStats", "hi", len(hi), "sum", d)
	checkLen("ColumnStats", "x", len(x), "sum", d)
	d8 := 0
	if useAVX2 && d >= 8 {
		d8 = d &^ 7
		columnStatsAVX2(unsafe.SliceData(sum), unsafe.SliceData(lo), unsafe.SliceData(hi), unsafe.SliceData(x), d8)
	}
	if d8 < d {
		columnStatsGeneric(sum[d8:], lo[d8:], hi[d8:], x[d8:])
	}
}

// ColumnSquares adds one row's squared deviations from mean into sq: for
// each j, dv := float64(x[j]) - mean[j], then sq[j] += dv*dv, the product
// rounded to float64 before the sum. mean and x must have len(sq)
// elements.
func ColumnSquares(sq, mean []float64, x []float32) {
	d := len(sq)
	checkLen("ColumnSquares", "mean", len(mean), "sq", d)
	checkLen("ColumnSquares", "x", len(x), "sq", d)
	d8 := 0
	if useAVX2 && d >= 8 {
		d8 = d &^ 7
		columnSquaresAVX2(unsafe.SliceData(sq), unsafe.SliceData(mean), unsafe.SliceData(x), d8)
	}
	if d8 < d {
		columnSquaresGeneric(sq[d8:], mean[d8:], x[d8:])
	}
}
