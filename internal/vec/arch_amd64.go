//go:build !purego

package vec

import "golang.org/x/sys/cpu"

// haveAVX2 reports whether the CPU runs the AVX2 kernels.
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX2 selects the AVX2 kernels. Only tests change it.
var useAVX2 = haveAVX2

// The AVX2 kernels process whole 8-element vectors: n (or the row width,
// for the row kernels) is at least 8, and the flat kernels' n a multiple
// of 8, the Go wrappers handling the rest. Pointers must be valid for
// their documented extents.

//go:noescape
func adamAVX2(w, grad, m, v, mask *float32, n int, l2, step, rbc2, b1, c1, b2, c2, eps float32)

//go:noescape
func sgdAVX2(w, grad, vel, mask *float32, n int, l2, lr, mu float32)

//go:noescape
func biasReLUAVX2(z, b *float32, rows, n int)

//go:noescape
func biasAddAVX2(z, b *float32, rows, n int)

// standardizeAVX2 is standardizeGeneric over the first d8 (a positive
// multiple of 8) of the d features of each of rows rows, eight at a time.
//
//go:noescape
func standardizeAVX2(dst, x, mean, scale *float32, rows, d, d8 int)

//go:noescape
func reluGradAVX2(grad, a *float32, n int)

//go:noescape
func sumRowsAVX2(dst, z *float32, rows, n int)

//go:noescape
func biasTanhAVX2(z, b *float32, rows, n int, c *[tanhConsts][4]uint64)

//go:noescape
func tanhGradAVX2(grad, a *float32, n int)

//go:noescape
func columnStatsAVX2(sum *float64, lo, hi, x *float32, n8 int)

//go:noescape
func columnSquaresAVX2(sq, mean *float64, x *float32, n8 int)

// expShiftedAVX2 sets dst[i] = math.Exp(float64(src[i]-sub)) for i <
// 4*n4, four at a time, and reports true; it stops and reports false at
// the first group of four with an argument outside [−700, 700] (or a
// NaN), whose dst entries it leaves unset (softmax.go).
//
//go:noescape
func expShiftedAVX2(dst *float64, src *float32, n4 int, sub float32) bool
