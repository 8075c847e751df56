package gemm

// genericKernels is the portable path: plain Go, a 4×4 register tile,
// A always packed.
var genericKernels = kernels{
	path:      Generic,
	supported: func() bool { return true },
	mr:        4,
	nr:        4,
	kcMax:     256,
	mcMax:     128,
	ncMax:     1024,
	height:    func(int) int { return 4 },
	micro: func(h, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
		if rsa != 1 || csa != 4 {
			panic("gemm: internal error: generic kernel needs packed A")
		}
		micro4x4(kb, a, b, c, ldc, alpha, beta)
	},
	packA: packPanel,
	packB: func(dst, _, b []float32, ldb int, trans bool, p0, kb, j0, nb int) {
		packBGeneric(dst, b, ldb, trans, p0, kb, j0, nb, 4)
	},
}

// micro4x4 computes a 4×4 tile from packed panels a and b (kb steps of 4):
// c[i*ldc+j] = alpha*Σ_p a[p*4+i]*b[p*4+j] + beta*c[i*ldc+j], not reading c
// when beta is zero. It runs as two 2×4 passes: sixteen accumulators
// would not fit amd64's fifteen allocatable float registers.
func micro4x4(kb int, a, b, c []float32, ldc int, alpha, beta float32) {
	micro2x4(kb, a[:4*kb], b[:4*kb], c, ldc, alpha, beta)
	micro2x4(kb, a[2:4*kb], b[:4*kb], c[2*ldc:], ldc, alpha, beta)
}

// micro2x4 computes rows a[p*4], a[p*4+1] of a 4×4 tile (see micro4x4).
func micro2x4(kb int, a, b, c []float32, ldc int, alpha, beta float32) {
	var (
		c00, c01, c02, c03 float32
		c10, c11, c12, c13 float32
	)
	for p := range kb {
		av := a[4*p : 4*p+2 : 4*p+2]
		bv := b[4*p : 4*p+4 : 4*p+4]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		a0, a1 := av[0], av[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	store4(c[0:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4], c10, c11, c12, c13, alpha, beta)
}

// store4 writes one row of a 4-wide tile: c = alpha*acc + beta*c, not
// reading c when beta is zero.
func store4(c []float32, x0, x1, x2, x3, alpha, beta float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*x0, alpha*x1, alpha*x2, alpha*x3
		return
	}
	c[0] = alpha*x0 + beta*c[0]
	c[1] = alpha*x1 + beta*c[1]
	c[2] = alpha*x2 + beta*c[2]
	c[3] = alpha*x3 + beta*c[3]
}
