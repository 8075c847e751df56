//go:build !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// archKernels lists the assembly paths of this architecture, fastest
// first; New and Paths keep those the CPU supports.
var archKernels = []*kernels{&avx512Kernels, &avx2Kernels}

// avx512Kernels is the AVX-512 path: the AVX2 path's 6×16 and 4×16 tiles
// widened to 6×32 and 4×32 (twelve and eight zmm accumulators) over
// 32-wide packed B panels. Its blocking matches the AVX2 path's (kcMax in
// particular), and each element of C is the same chain of FMAs, so both
// paths give bit-identical results; products at most 16 wide (a network's
// output layer) run avx512NarrowKernels' 16-wide tiles.
var avx512Kernels = kernels{
	path:       AVX512,
	supported:  func() bool { return cpu.X86.HasAVX512F },
	mr:         6,
	nr:         32,
	kcMax:      256,
	mcMax:      576,
	ncMax:      2048,
	inPlaceMax: 1 << 17,
	height:     height6or4,
	micro:      microAVX512,
	packA:      packA6,
	packB:      packB32,
	dots:       dotsAVX512,
	narrow:     &avx512NarrowKernels,
	transpose:  transposeAsm,
}

// avx512NarrowKernels runs the AVX-512 path's products at most 16 wide (an
// output layer, or the few rows of a swapped product; see swapNT), for
// which a 32-wide tile would be mostly padding: 16-wide panels as on the
// AVX2 path, one zmm a row, twelve rows a tile (kern12x16: twelve
// independent FMA chains, which a 6×16 zmm tile would not have enough of
// to cover the FMA latency), and the AVX2 kernels for the last rows of a
// block. It shares the AVX2 path's blocking and each element's chain of
// FMAs, so the two agree bit for bit.
var avx512NarrowKernels = kernels{
	path:       AVX512,
	supported:  func() bool { return cpu.X86.HasAVX512F },
	mr:         12,
	nr:         16,
	kcMax:      256,
	mcMax:      576,
	ncMax:      2048,
	inPlaceMax: 1 << 17,
	height:     height12,
	micro:      microAVX512N,
	packA:      packA6,
	packB:      packB16,
}

// avx2Kernels is the AVX2+FMA path: 6×16 and 4×16 tiles (twelve and eight
// ymm accumulators) over 16-wide packed B panels.
var avx2Kernels = kernels{
	path:      AVX2,
	supported: func() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA },
	mr:        6,
	nr:        16,
	kcMax:     256,
	mcMax:     576,
	ncMax:     2048,
	// Read A in place when all of op(A) fits comfortably in L2
	// (≤ 512 KiB): packing it would cost more than it saves. Larger A is
	// packed, which also avoids L1 set conflicts from power-of-two strides.
	inPlaceMax: 1 << 17,
	height:     height6or4,
	micro:      microAVX2,
	packA:      packA6,
	packB:      packB16,
	dots:       dotsAVX2,
	transpose:  transposeAsm,
}

// height6or4 covers r rows with 6-row panels and at most two 4-row ones,
// so a block wastes at most one row: 8 = 4+4, 7 = 4+4(3), 5 = 6(5).
func height6or4(r int) int {
	if r <= 4 || r == 7 || r == 8 {
		return 4
	}
	return 6
}

// height12 covers r rows with 12-row panels, then with height6or4's.
func height12(r int) int {
	if r >= 12 {
		return 12
	}
	return height6or4(r)
}

//go:noescape
func kern12x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern6x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern4x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern6x32(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern4x32(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// dotRowsAVX2 and dotRowsAVX512 set dst[i] = Σ_j a[i*lda+j]·x[j] for
// i < rows, j < 16*n16, in the same order: sixteen lanes (two ymm or one
// zmm) in four groups over 64 columns a step, a last 16 at a time into
// the first group, then the groups added pairwise and the lanes halved
// down to one.
//
//go:noescape
func dotRowsAVX2(dst, a *float32, lda int, x *float32, rows, n16 int)

//go:noescape
func dotRowsAVX512(dst, a *float32, lda int, x *float32, rows, n16 int)

func dotsAVX2(dst, a []float32, lda int, x []float32, rows int) {
	_ = a[(rows-1)*lda+len(x)-1]
	_ = dst[rows-1]
	dotRowsAVX2(unsafe.SliceData(dst), unsafe.SliceData(a), lda, unsafe.SliceData(x), rows, len(x)/16)
}

func dotsAVX512(dst, a []float32, lda int, x []float32, rows int) {
	_ = a[(rows-1)*lda+len(x)-1]
	_ = dst[rows-1]
	dotRowsAVX512(unsafe.SliceData(dst), unsafe.SliceData(a), lda, unsafe.SliceData(x), rows, len(x)/16)
}

//go:noescape
func packT16(dst, src *float32, ld int, n8 int, w int)

//go:noescape
func packT6(dst, src *float32, ld int, n8 int)

//go:noescape
func copy16(dst, src *float32, ld int, k int)

//go:noescape
func copyMask16(dst, src *float32, ld int, k int, mask *int32)

//go:noescape
func copyMask32(dst, src *float32, ld int, k int, mask int)

//go:noescape
func copy6(dst, src *float32, ld int, k int)

func microAVX2(h, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[(h-1)*rsa+(kb-1)*csa]
	_ = b[16*kb-1]
	_ = c[(h-1)*ldc+15]
	if h == 6 {
		kern6x16(kb, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
	} else {
		kern4x16(kb, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
	}
}

func microAVX512N(h, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	if h != 12 {
		microAVX2(h, kb, a, rsa, csa, b, c, ldc, alpha, beta)
		return
	}
	_ = a[11*rsa+(kb-1)*csa]
	_ = b[16*kb-1]
	_ = c[11*ldc+15]
	kern12x16(kb, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
}

func microAVX512(h, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[(h-1)*rsa+(kb-1)*csa]
	_ = b[32*kb-1]
	_ = c[(h-1)*ldc+31]
	if h == 6 {
		kern6x32(kb, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
	} else {
		kern4x32(kb, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
	}
}

// packA6 is kernels.packA: full six-row panels go through assembly,
// anything else through packPanel.
func packA6(dst, a []float32, off, sx, sp, rows, kb, h int) {
	if h != 6 || rows != 6 {
		packPanel(dst, a, off, sx, sp, rows, kb, h)
		return
	}
	if sx == 1 { // Aᵀ stored: six contiguous floats per step
		_ = a[off+(kb-1)*sp+5]
		_ = dst[6*kb-1]
		copy6(unsafe.SliceData(dst), &a[off], sp, kb)
		return
	}
	k8 := kb &^ 7
	if k8 > 0 {
		_ = a[off+5*sx+k8-1]
		_ = dst[6*k8+1] // two floats of overrun from the last 8-wide store
		packT6(unsafe.SliceData(dst), &a[off], sx, k8/8)
	}
	if k8 < kb {
		packPanel(dst[6*k8:], a, off+k8, sx, sp, 6, kb-k8, 6)
	}
}

// packB16 is kernels.packB for sixteen-column panels.
func packB16(dst, scratch, b []float32, ldb int, trans bool, p0, kb, j0, nb int) {
	packBAsm(dst, scratch, b, ldb, trans, p0, kb, j0, nb, 16)
}

// packB32 is kernels.packB for thirty-two-column panels.
func packB32(dst, scratch, b []float32, ldb int, trans bool, p0, kb, j0, nb int) {
	packBAsm(dst, scratch, b, ldb, trans, p0, kb, j0, nb, 32)
}

// lanes16 holds sixteen all-ones lanes then sixteen zero lanes:
// lanes16[16-n:] is copyMask16's mask for the first n columns.
var lanes16 = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// packBAsm packs op(B) into nr-wide panels, nr 16 or 32: panels are
// copied in one pass (copy16; copyMask16 for a short last one; copyMask32
// for all 32-wide ones, under a lane mask that zeroes a short panel's
// padding) or transposed sixteen rows at a time (packT16); a short
// transposed panel is first gathered row by row into scratch and padded
// with zero rows, then transposed like a full one.
func packBAsm(dst, scratch, b []float32, ldb int, trans bool, p0, kb, j0, nb, nr int) {
	sx, sp := stridesB(ldb, trans)
	for jr := 0; jr < nb; jr += nr {
		off := (j0+jr)*sx + p0*sp
		d := dst[jr*kb:]
		cols := min(nr, nb-jr)
		if !trans {
			_ = b[off+(kb-1)*ldb+cols-1]
			_ = d[nr*kb-1]
			switch {
			case nr == 32:
				copyMask32(unsafe.SliceData(d), &b[off], ldb, kb, 1<<cols-1)
			case cols < nr:
				copyMask16(unsafe.SliceData(d), &b[off], ldb, kb, &lanes16[16-cols])
			default:
				copy16(unsafe.SliceData(d), &b[off], ldb, kb)
			}
			continue
		}
		src, ld := b, ldb
		if cols < nr {
			s := scratch[:nr*kb]
			for x := range cols {
				copy(s[x*kb:(x+1)*kb], b[off+x*ldb:])
			}
			clear(s[cols*kb:])
			src, ld, off = s, kb, 0
		}
		k8 := kb &^ 7
		if k8 > 0 {
			_ = src[off+(nr-1)*ld+k8-1]
			_ = d[nr*k8-1]
			for h := 0; h < nr; h += 16 {
				packT16(&d[h], &src[off+h*ld], ld, k8/8, nr)
			}
		}
		if k8 < kb {
			packPanel(d[nr*k8:], src, off+k8, ld, 1, nr, kb-k8, nr)
		}
	}
}

// transposeAsm is kernels.transpose: blocks of sixteen columns of C and
// eight rows go through packT16 (which writes its panel rows ldc apart,
// straight into C), with the last rows, when m is not a multiple of 8,
// as one more block of eight that overlaps the one before it (writing
// some elements twice, with the same values); the last columns, and
// every column when m < 8, go through Go.
func transposeAsm(c []float32, ldc int, t []float32, n, m int) {
	_ = t[n*m-1]
	_ = c[(m-1)*ldc+n-1]
	j := 0
	if m >= 8 {
		for ; j+16 <= n; j += 16 {
			packT16(&c[j], &t[j*m], m, m/8, ldc)
			if m%8 != 0 {
				packT16(&c[(m-8)*ldc+j], &t[j*m+m-8], m, 1, ldc)
			}
		}
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for x := j; x < n; x++ {
			row[x] = t[x*m+i]
		}
	}
}

// fmaPeak runs n rounds of 192 float32 flops of independent FMAs; the
// benchmarks time it to measure the core's peak.
//
//go:noescape
func fmaPeak(n int)

// fmaPeak512 runs n rounds of 768 float32 flops of independent zmm FMAs.
//
//go:noescape
func fmaPeak512(n int)
