package packed

import "math"

// The integer kernels. Each has a pure-Go form here and, on amd64, an AVX2
// form (kernel_amd64.s) chosen at run time, the gemv also an AVX-512 one
// (VNNI); all give identical results.

// gemvGeneric sets dst[j] = Σ_k w[j·cols+k]·x[k] for j < len(dst), in
// int32. The caller guarantees that no partial sum overflows int32.
func gemvGeneric[W int8 | int16](dst []int32, w []W, x []int16, cols int) {
	x = x[:cols]
	for j := range dst {
		row := w[j*cols : j*cols+cols : j*cols+cols]
		row = row[:len(x)]
		var a0, a1, a2, a3 int32
		k := 0
		for ; k+4 <= len(row); k += 4 {
			a0 += int32(row[k]) * int32(x[k])
			a1 += int32(row[k+1]) * int32(x[k+1])
			a2 += int32(row[k+2]) * int32(x[k+2])
			a3 += int32(row[k+3]) * int32(x[k+3])
		}
		for ; k < len(row); k++ {
			a0 += int32(row[k]) * int32(x[k])
		}
		dst[j] = a0 + a1 + a2 + a3
	}
}

// dequantRowsGeneric sets out[j] = float32(acc[j])·(sa·sw[j]) + bias[j] for
// j < len(acc), each product and the sum rounded to float32 (the
// conversions forbid fusing them).
func dequantRowsGeneric(out []float32, acc []int32, sw, bias []float32, sa float32) {
	out, sw, bias = out[:len(acc)], sw[:len(acc)], bias[:len(acc)]
	for j, v := range acc {
		out[j] = float32(float32(v)*float32(sa*sw[j])) + bias[j]
	}
}

// maxAbsBitsGeneric returns the largest float32 bit pattern of |a[i]|: the
// bits of max|a|, or above 0x7f800000 when a holds a NaN.
func maxAbsBitsGeneric(a []float32) uint32 {
	var m0, m1, m2, m3 uint32
	k := 0
	for ; k+4 <= len(a); k += 4 {
		m0 = max(m0, math.Float32bits(a[k])&^(1<<31))
		m1 = max(m1, math.Float32bits(a[k+1])&^(1<<31))
		m2 = max(m2, math.Float32bits(a[k+2])&^(1<<31))
		m3 = max(m3, math.Float32bits(a[k+3])&^(1<<31))
	}
	for ; k < len(a); k++ {
		m0 = max(m0, math.Float32bits(a[k])&^(1<<31))
	}
	return max(m0, m1, m2, m3)
}

// quantizeGeneric writes gridCode(a[i], inv, lo, hi) into q.
func quantizeGeneric(q []int16, a []float32, inv, lo, hi float32) {
	q = q[:len(a)]
	for i, v := range a {
		q[i] = int16(gridCode(v, inv, lo, hi))
	}
}

// fakeQuantGeneric writes float32(roundClamp(w[i], inv, lo, hi))·sc into
// dst: dequant(code(w[i])) for a group of FakeQuantize.
func fakeQuantGeneric(dst, w []float32, inv, lo, hi float64, sc float32) {
	dst = dst[:len(w)]
	for i, v := range w {
		dst[i] = float32(roundClamp(v, inv, lo, hi)) * sc
	}
}

// minMaxGeneric returns min(0, min w) and max(0, max w), ignoring NaNs.
func minMaxGeneric(w []float32) (lo, hi float32) {
	var lo1, hi1 float32
	k := 0
	for ; k+2 <= len(w); k += 2 {
		a, b := w[k], w[k+1]
		if a < lo {
			lo = a
		}
		if a > hi {
			hi = a
		}
		if b < lo1 {
			lo1 = b
		}
		if b > hi1 {
			hi1 = b
		}
	}
	if k < len(w) {
		if v := w[k]; v < lo {
			lo = v
		} else if v > hi {
			hi = v
		}
	}
	return min(lo, lo1), max(hi, hi1)
}
