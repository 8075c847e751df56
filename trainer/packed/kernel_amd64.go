//go:build !purego

package packed

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 kernels, and with useAVX512 the AVX-512 forms
// of the integer gemv. Tests turn them off to compare the kernels.
var (
	useAVX2   = cpu.X86.HasAVX2
	useAVX512 = cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
)

// gemvAVX2 sets dst[j] = Σ_k w[j·cols+k]·x[k] for j < rows, 16 columns at
// a time with VPMADDWD; cols must be a positive multiple of 16.
//
//go:noescape
func gemvAVX2(dst *int32, w, x *int16, rows, cols int)

// gemv8AVX2 is gemvAVX2 with int8 weights, sign-extended on load.
//
//go:noescape
func gemv8AVX2(dst *int32, w *int8, x *int16, rows, cols int)

// gemvAVX512 is gemvAVX2 with 32 columns a step (VPDPWSSD); cols must be
// a positive multiple of 16.
//
//go:noescape
func gemvAVX512(dst *int32, w, x *int16, rows, cols int)

// gemv8AVX512 is gemvAVX512 with int8 weights, sign-extended on load.
//
//go:noescape
func gemv8AVX512(dst *int32, w *int8, x *int16, rows, cols int)

// gemv8x4AVX512 is gemv8AVX512 four rows at a time, sharing each load of
// x; rows must be a multiple of 4.
//
//go:noescape
func gemv8x4AVX512(dst *int32, w *int8, x *int16, rows, cols int)

// gemv8x8AVX512 is gemv8x4AVX512 eight rows at a time; rows must be a
// multiple of 8.
//
//go:noescape
func gemv8x8AVX512(dst *int32, w *int8, x *int16, rows, cols int)

// gemv8x4AVX2 is gemv8AVX2 four rows at a time; rows must be a multiple
// of 4.
//
//go:noescape
func gemv8x4AVX2(dst *int32, w *int8, x *int16, rows, cols int)

// dequantRowsAVX2 is dequantRowsGeneric over n values, n a positive multiple of 8.
//
//go:noescape
func dequantRowsAVX2(out *float32, acc *int32, sw, bias *float32, n int, sa float32)

// maxAbsAVX2 is maxAbsBitsGeneric over n values, n a positive multiple of 8.
//
//go:noescape
func maxAbsAVX2(a *float32, n int) uint32

// quantAVX2 is quantizeGeneric over n values, n a positive multiple of 8:
// VMULPS, clamp, VCVTPS2DQ (round half to even) and a saturating pack.
//
//go:noescape
func quantAVX2(q *int16, a *float32, n int, inv, lo, hi float32)

// fakeQuantAVX2 is fakeQuantGeneric over n values, n a positive multiple
// of 8, four lanes of float64 at a time (VROUNDPD rounds half to even).
//
//go:noescape
func fakeQuantAVX2(dst, w *float32, n int, inv, lo, hi float64, sc float32)

// minMaxAVX2 is minMaxGeneric over n finite values, n a positive multiple
// of 8.
//
//go:noescape
func minMaxAVX2(w *float32, n int) (lo, hi float32)

// gemv is gemvGeneric, on AVX-512 or AVX2 when the CPU has it; cols must
// be a multiple of 16 for the assembly forms to apply.
func gemv[W int8 | int16](dst []int32, w []W, x []int16, cols int) {
	if !useAVX2 || cols%16 != 0 || len(dst) == 0 || cols == 0 {
		gemvGeneric(dst, w, x, cols)
		return
	}
	_ = w[len(dst)*cols-1]
	_ = x[cols-1]
	switch w := any(w).(type) {
	case []int8:
		// Blocks of rows share each load of x: eight rows at a time with
		// AVX-512, then four, then the last len(dst) mod 4 one at a time.
		one, four := gemv8AVX2, gemv8x4AVX2
		r8 := 0
		if useAVX512 {
			one, four = gemv8AVX512, gemv8x4AVX512
			if r8 = len(dst) &^ 7; r8 > 0 {
				gemv8x8AVX512(&dst[0], &w[0], &x[0], r8, cols)
			}
		}
		r4 := len(dst) &^ 3
		if r4 > r8 {
			four(&dst[r8], &w[r8*cols], &x[0], r4-r8, cols)
		}
		if r4 < len(dst) {
			one(&dst[r4], &w[r4*cols], &x[0], len(dst)-r4, cols)
		}
	case []int16:
		if useAVX512 {
			gemvAVX512(&dst[0], &w[0], &x[0], len(dst), cols)
		} else {
			gemvAVX2(&dst[0], &w[0], &x[0], len(dst), cols)
		}
	}
}

// maxAbsBits is maxAbsBitsGeneric, on AVX2 when the CPU has it.
func maxAbsBits(a []float32) uint32 {
	n := len(a) &^ 7
	if !useAVX2 || n == 0 {
		return maxAbsBitsGeneric(a)
	}
	return max(maxAbsAVX2(&a[0], n), maxAbsBitsGeneric(a[n:]))
}

// quantize is quantizeGeneric, on AVX2 when the CPU has it.
func quantize(q []int16, a []float32, inv, lo, hi float32) {
	n := len(a) &^ 7
	if !useAVX2 || n == 0 {
		quantizeGeneric(q, a, inv, lo, hi)
		return
	}
	_ = q[len(a)-1]
	quantAVX2(&q[0], &a[0], n, inv, lo, hi)
	quantizeGeneric(q[n:], a[n:], inv, lo, hi)
}

// dequantRows is dequantRowsGeneric, on AVX2 when the CPU has it.
func dequantRows(out []float32, acc []int32, sw, bias []float32, sa float32) {
	n := len(acc) &^ 7
	if !useAVX2 || n == 0 {
		dequantRowsGeneric(out, acc, sw, bias, sa)
		return
	}
	_ = out[len(acc)-1]
	_ = sw[len(acc)-1]
	_ = bias[len(acc)-1]
	dequantRowsAVX2(&out[0], &acc[0], &sw[0], &bias[0], n, sa)
	dequantRowsGeneric(out[n:], acc[n:], sw[n:], bias[n:], sa)
}

// fakeQuant is fakeQuantGeneric, on AVX2 when the CPU has it.
func fakeQuant(dst, w []float32, inv, lo, hi float64, sc float32) {
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		fakeQuantGeneric(dst, w, inv, lo, hi, sc)
		return
	}
	_ = dst[len(w)-1]
	fakeQuantAVX2(&dst[0], &w[0], n, inv, lo, hi, sc)
	fakeQuantGeneric(dst[n:], w[n:], inv, lo, hi, sc)
}

// minMax is minMaxGeneric, on AVX2 when the CPU has it; the values must be
// finite for the two to agree.
func minMax(w []float32) (lo, hi float32) {
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return minMaxGeneric(w)
	}
	lo, hi = minMaxAVX2(&w[0], n)
	lo2, hi2 := minMaxGeneric(w[n:])
	return min(lo, lo2), max(hi, hi2)
}
