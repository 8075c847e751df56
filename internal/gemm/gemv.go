package gemm

import "gonum.org/v1/gonum/blas"

// Sgemv performs one of the matrix-vector operations
//
//	y = alpha * A * x + beta * y   if tA == blas.NoTrans
//	y = alpha * Aᵀ * x + beta * y  if tA == blas.Trans or blas.ConjTrans
//
// where A is an m×n row-major matrix. The untransposed form with unit
// increments, at least 16 columns and a nonzero alpha — a dense layer
// classifying one sample — runs the path's dot kernel, and then, as in
// Sgemm, y is not read when beta is zero; everything else is gonum's
// Sgemv. The AVX2 and AVX512 dot kernels sum in the same order, so they
// give bit-identical results.
func (impl *Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	ks := impl.kernels()
	if ks.dots == nil || tA != blas.NoTrans || incX != 1 || incY != 1 || alpha == 0 || m <= 0 || n < 16 {
		impl.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	// gonum's checks, in gonum's order, for the cases that reach here.
	if lda < n {
		panic(badLdA)
	}
	if n > len(x) {
		panic(shortX)
	}
	if m > len(y) {
		panic(shortY)
	}
	if len(a) < lda*(m-1)+n {
		panic(shortA)
	}
	ws := impl.pool.get(y)
	ws.reserve(0, 0, m, 0)
	dot := ws.tile
	n16 := n &^ 15
	ks.dots(dot, a, lda, x[:n16], m)
	for i := range m {
		s := dot[i]
		row := a[i*lda+n16 : i*lda+n]
		for j, v := range row {
			s += float32(v * x[n16+j]) // the conversion forbids fusing
		}
		if beta == 0 {
			y[i] = alpha * s
		} else {
			y[i] = alpha*s + beta*y[i]
		}
	}
	impl.pool.put(y, ws)
}
