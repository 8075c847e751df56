//go:build !amd64 || purego

package packed

// useAVX2 and useAVX512 are false where no assembly kernel exists.
var useAVX2, useAVX512 = false, false

// gemv is gemvGeneric where no assembly kernel exists.
func gemv[W int8 | int16](dst []int32, w []W, x []int16, cols int) { gemvGeneric(dst, w, x, cols) }

// maxAbsBits is maxAbsBitsGeneric where no assembly kernel exists.
func maxAbsBits(a []float32) uint32 { return maxAbsBitsGeneric(a) }

// quantize is quantizeGeneric where no assembly kernel exists.
func quantize(q []int16, a []float32, inv, lo, hi float32) { quantizeGeneric(q, a, inv, lo, hi) }

// fakeQuant is fakeQuantGeneric where no assembly kernel exists.
func fakeQuant(dst, w []float32, inv, lo, hi float64, sc float32) {
	fakeQuantGeneric(dst, w, inv, lo, hi, sc)
}

// minMax is minMaxGeneric where no assembly kernel exists.
func minMax(w []float32) (lo, hi float32) { return minMaxGeneric(w) }

// dequantRows is dequantRowsGeneric where no assembly kernel exists.
func dequantRows(out []float32, acc []int32, sw, bias []float32, sa float32) {
	dequantRowsGeneric(out, acc, sw, bias, sa)
}
