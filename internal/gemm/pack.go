package gemm

// packPanel writes one panel of width w and depth kb:
//
//	dst[p*w+x] = src[off + x*sx + p*sp]  for x < cols, p < kb,
//	dst[p*w+x] = 0                       for cols ≤ x < w.
//
// One of sx, sp is 1: sx == 1 copies contiguous rows of the panel,
// sp == 1 gathers (transposes) contiguous source rows.
func packPanel(dst, src []float32, off, sx, sp, cols, kb, w int) {
	dst = dst[:kb*w]
	if sx == 1 {
		for p := range kb {
			d := dst[p*w : p*w+w]
			copy(d, src[off+p*sp:off+p*sp+cols])
			clear(d[cols:])
		}
		return
	}
	if cols < w {
		clear(dst)
	}
	for x := range cols {
		s := src[off+x*sx : off+x*sx+kb]
		d := dst[x:]
		for p, v := range s {
			d[p*w] = v
		}
	}
}

// stridesA returns the element strides of op(A) along its columns (x, the
// row index i) and rows (p) for A stored row-major with leading dimension
// lda: op(A)[i][p] = a[i*sx + p*sp].
func stridesA(lda int, trans bool) (sx, sp int) {
	if trans {
		return 1, lda
	}
	return lda, 1
}

// stridesB returns the strides of op(B): op(B)[p][j] = b[j*sx + p*sp].
func stridesB(ldb int, trans bool) (sx, sp int) {
	if trans {
		return ldb, 1
	}
	return 1, ldb
}

// packBGeneric is kernels.packB for any nr, in plain Go.
func packBGeneric(dst, b []float32, ldb int, trans bool, p0, kb, j0, nb, nr int) {
	sx, sp := stridesB(ldb, trans)
	for jr := 0; jr < nb; jr += nr {
		packPanel(dst[jr*kb:], b, (j0+jr)*sx+p0*sp, sx, sp, min(nr, nb-jr), kb, nr)
	}
}
