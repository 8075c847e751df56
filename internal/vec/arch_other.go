//go:build !amd64 || purego

package vec

// haveAVX2 and useAVX2 are false without the assembly kernels; the stubs
// below are never called.
const haveAVX2 = false

var useAVX2 = false

func adamAVX2(w, grad, m, v, mask *float32, n int, l2, step, rbc2, b1, c1, b2, c2, eps float32) {
	panic("vec: no AVX2 kernels in this build")
}

func sgdAVX2(w, grad, vel, mask *float32, n int, l2, lr, mu float32) {
	panic("vec: no AVX2 kernels in this build")
}

func biasReLUAVX2(z, b *float32, rows, n int) { panic("vec: no AVX2 kernels in this build") }

func biasAddAVX2(z, b *float32, rows, n int) { panic("vec: no AVX2 kernels in this build") }

func reluGradAVX2(grad, a *float32, n int) { panic("vec: no AVX2 kernels in this build") }

func standardizeAVX2(dst, x, mean, scale *float32, rows, d, d8 int) {
	panic("vec: no AVX2 kernels in this build")
}

func sumRowsAVX2(dst, z *float32, rows, n int) { panic("vec: no AVX2 kernels in this build") }

func biasTanhAVX2(z, b *float32, rows, n int, c *[tanhConsts][4]uint64) {
	panic("vec: no AVX2 kernels in this build")
}

func tanhGradAVX2(grad, a *float32, n int) { panic("vec: no AVX2 kernels in this build") }

func columnStatsAVX2(sum *float64, lo, hi, x *float32, n8 int) {
	panic("vec: no AVX2 kernels in this build")
}

func columnSquaresAVX2(sq, mean *float64, x *float32, n8 int) {
	panic("vec: no AVX2 kernels in this build")
}

func expShiftedAVX2(dst *float64, src *float32, n4 int, sub float32) bool {
	panic("vec: no AVX2 kernels in this build")
}
