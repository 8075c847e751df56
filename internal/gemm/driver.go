package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// kernels is one path: register-blocked micro-kernels, the packing
// routines that feed them, and the cache-blocking sizes tuned for them.
type kernels struct {
	path      Path
	supported func() bool

	// nr is the width of every micro-kernel tile and of packed B panels;
	// mr is the height of the tallest micro-kernel.
	mr, nr int
	// kcMax, mcMax and ncMax bound the depth of a packed block, the rows
	// of an A block and the columns of a packed B block. The driver
	// splits each dimension into equal blocks no larger than these.
	kcMax, mcMax, ncMax int
	// inPlaceMax is the largest m*k for which full A panels are read where
	// they lie instead of being packed; 0 means always pack. Only kernels
	// that take arbitrary A strides may set it.
	inPlaceMax int

	// height returns the kernel height for the next row panel when r > 0
	// rows of a block remain. Panels of a block are full except perhaps
	// the last.
	height func(r int) int

	// micro computes one full h×nr tile, h a height returned by height:
	//
	//	c[i*ldc+j] = alpha*Σ_p a[i*rsa+p*csa]*b[p*nr+j] + beta*c[i*ldc+j]
	//
	// for i < h, j < nr, p < kb, without reading c when beta is zero.
	// b is a packed panel.
	micro func(h, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32)

	// packA packs one A panel of height h (see packPanel with w = h).
	packA func(dst, a []float32, off, sx, sp, rows, kb, h int)
	// packB packs rows p0..p0+kb and columns j0..j0+nb of op(B) into
	// consecutive panels of nr columns (dst[q*nr*kb + p*nr + j]), padding
	// the last panel with zeros. scratch holds at least nr*kb floats it
	// may use as it likes.
	packB func(dst, scratch, b []float32, ldb int, trans bool, p0, kb, j0, nb int)

	// dots, if set, sets dst[i] = Σ_j a[i*lda+j]·x[j] for i < rows and
	// j < len(x), a positive multiple of 16 (Sgemv's kernel).
	dots func(dst, a []float32, lda int, x []float32, rows int)

	// narrow, if set, runs products no wider than its nr (n ≤ narrow.nr),
	// where this path's wider tiles would be mostly padding. It must give
	// the same results as this path.
	narrow *kernels

	// transpose, if set, sets c[i*ldc+j] = t[j*m+i] for i < m, j < n. With
	// it, C = A·Bᵀ for a short A is computed as Cᵀ = B·Aᵀ (see swapNT).
	transpose func(c []float32, ldc int, t []float32, n, m int)
}

// forWidth returns the kernels that run products n columns wide.
func (ks *kernels) forWidth(n int) *kernels {
	if ks.narrow != nil && n <= ks.narrow.nr {
		return ks.narrow
	}
	return ks
}

// swapNT reports whether C = A·Bᵀ (m×n, depth k; A not transposed, B
// transposed) is cheaper computed as Cᵀ = B·Aᵀ into a scratch matrix and
// then transposed into C. Packing op(B) = Bᵀ transposes all n×k of B on
// every call, which for few rows of A costs as much as the product (a
// network's forward pass at a small batch: 16×64 inputs times the 64×220
// weights), and more when n is not a multiple of the panel width (the
// short last panel is gathered through scratch). The swapped product
// reads B where it lies as its A and transposes only A's m×k and C's m×n.
// The rule is measured (BenchmarkSgemm's NT shapes): it swaps when B fits
// the in-place bound, A has 16 or 32 rows (full panels of the swapped
// product: with 14, every tile would go through the edge path, 20%
// slower than not swapping), and the transposes it trades are clearly
// fewer (not for 16×64·64ᵀ, whose 32-wide panels are all full). Each
// element of C is the same chain of FMAs over the same depth blocks
// either way (a product of two floats does not depend on their order),
// so the result is the same to the bit.
func (ks *kernels) swapNT(m, n, k int) bool {
	switch {
	case ks.transpose == nil || m > 32 || n*k > ks.inPlaceMax || m%ks.forWidth(m).nr != 0:
		return false
	case n < 16:
		return true // a full narrow panel for a short one
	}
	f := 0.5
	if n%ks.nr != 0 {
		f = 1.25
	}
	return float64(m*(n+k)) < f*float64(n*k)
}

// packSlack is the number of floats the packing buffers keep past the
// packed data, for kernels that store whole vectors over a panel's end.
const packSlack = 16

// workspace holds one call's packing buffers. It is owned by one Sgemm call
// at a time and reused by later calls.
type workspace struct {
	a, b []float32
	tile []float32
	// scratch is packB's: one panel's nr×kb floats.
	scratch []float32
	// t holds Cᵀ of a swapped product (swapNT).
	t []float32
}

// reserveT returns ws.t with n floats.
func (ws *workspace) reserveT(n int) []float32 {
	if cap(ws.t) < n {
		ws.t = make([]float32, n)
	}
	return ws.t[:n]
}

func (ws *workspace) reserve(na, nb, nt, ns int) {
	if cap(ws.a) < na+packSlack {
		ws.a = make([]float32, na+packSlack)
	}
	if cap(ws.b) < nb+packSlack {
		ws.b = make([]float32, nb+packSlack)
	}
	if cap(ws.tile) < nt {
		ws.tile = make([]float32, nt)
	}
	if cap(ws.scratch) < ns {
		ws.scratch = make([]float32, ns)
	}
	ws.a = ws.a[:cap(ws.a)]
	ws.b = ws.b[:cap(ws.b)]
	ws.tile = ws.tile[:nt]
	ws.scratch = ws.scratch[:ns]
}

// pool lends workspaces to calls. Its fast path is a set of shards, one
// workspace slot each on a cache line of its own, chosen by the address
// of the call's output: a caller reuses its output buffers, so its calls
// find the workspace they left, in a line no other core has touched, and
// concurrent callers on different cores share nothing. (A single
// mutex-guarded free list made a 16×32×16 product take 712 ns a call on
// each of two cores against 218 on one; the shards bring it to 108 ns a
// call for the pair. sync.Pool is per-P as well, but under the race
// detector it drops items at random, so calls would allocate.) A call
// whose slot is taken uses a mutex-guarded free list, and a workspace is
// never emptied by a collection, so warm calls allocate nothing. The zero
// value is ready to use.
type pool struct {
	shards [poolShards]struct {
		ws atomic.Pointer[workspace]
		_  [56]byte
	}
	mu   sync.Mutex
	free []*workspace
}

const poolShards = 64

// shard returns the shard for calls writing to out: the top bits of a
// Fibonacci hash of its address.
func shard(out []float32) int {
	x := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))
	return int(x * 0x9e3779b97f4a7c15 >> 58)
}

func (p *pool) get(out []float32) *workspace {
	if ws := p.shards[shard(out)].ws.Swap(nil); ws != nil {
		return ws
	}
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		ws := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return ws
	}
	p.mu.Unlock()
	return new(workspace)
}

func (p *pool) put(out []float32, ws *workspace) {
	if p.shards[shard(out)].ws.CompareAndSwap(nil, ws) {
		return
	}
	p.mu.Lock()
	if p.free == nil {
		p.free = make([]*workspace, 0, max(4, 2*runtime.NumCPU()))
	}
	if len(p.free) < cap(p.free) {
		p.free = append(p.free, ws)
	}
	p.mu.Unlock()
}

// blockSize splits total into the fewest blocks of at most limit and
// returns their common size, rounded up to a multiple of mult.
func blockSize(total, limit, mult int) int {
	nblk := (total + limit - 1) / limit
	size := (total + nblk - 1) / nblk
	return (size + mult - 1) / mult * mult
}

// gemm computes C = alpha*op(A)*op(B) + beta*C for validated arguments
// with m, n, k > 0 and alpha != 0. The loop order and block sizes depend
// only on the arguments' shapes, so the summation order, and hence the
// result, is fixed.
func (ks *kernels) gemm(ws *workspace, aTrans, bTrans bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := ks.mr, ks.nr
	kc := blockSize(k, ks.kcMax, 1)
	mc := blockSize(m, ks.mcMax, mr)
	nc := blockSize(n, ks.ncMax, nr)
	inPlace := m*k <= ks.inPlaceMax
	na := min(mc, (m+mr-1)/mr*mr) * kc
	if inPlace {
		na = mr * kc
	}
	ws.reserve(na, min(nc, (n+nr-1)/nr*nr)*kc, mr*nr, nr*kc)

	sx, sp := stridesA(lda, aTrans)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			ks.packB(ws.b, ws.scratch, b, ldb, bTrans, pc, kb, jc, nb)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				// Pack the block's panels, or only a short last one when
				// full panels are read in place.
				for ir := 0; ir < mb; {
					h := ks.height(mb - ir)
					rows := min(h, mb-ir)
					if !inPlace {
						ks.packA(ws.a[ir*kb:], a, (ic+ir)*sx+pc*sp, sx, sp, rows, kb, h)
					} else if rows < h {
						ks.packA(ws.a, a, (ic+ir)*sx+pc*sp, sx, sp, rows, kb, h)
					}
					ir += rows
				}
				ks.macro(ws, a, sx, sp, inPlace, ic, mb, pc, kb, nb, alpha, bet, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// macro runs the micro-kernels over one mb×kb block of op(A), starting at
// row ic and column pc, and the packed kb×nb block of B, updating the
// mb×nb block of C that starts at c[0]. Tiles cut by the block's edge go
// through ws.tile.
func (ks *kernels) macro(ws *workspace, a []float32, sx, sp int, inPlace bool, ic, mb, pc, kb, nb int, alpha, beta float32, c []float32, ldc int) {
	nr := ks.nr
	for jr := 0; jr < nb; jr += nr {
		nn := min(nr, nb-jr)
		bp := ws.b[jr*kb : (jr+nr)*kb]
		for ir := 0; ir < mb; {
			h := ks.height(mb - ir)
			rows := min(h, mb-ir)
			var ap []float32
			rsa, csa := 1, h
			switch {
			case !inPlace:
				ap = ws.a[ir*kb:]
			case rows == h:
				ap, rsa, csa = a[(ic+ir)*sx+pc*sp:], sx, sp
			default:
				ap = ws.a
			}
			ct := c[ir*ldc+jr:]
			if rows == h && nn == nr {
				ks.micro(h, kb, ap, rsa, csa, bp, ct, ldc, alpha, beta)
				ir += rows
				continue
			}
			t := ws.tile
			ks.micro(h, kb, ap, rsa, csa, bp, t, nr, alpha, 0)
			for i := range rows {
				dst := ct[i*ldc : i*ldc+nn]
				src := t[i*nr : i*nr+nn]
				if beta == 0 {
					copy(dst, src)
					continue
				}
				for j, v := range src {
					dst[j] = beta*dst[j] + v
				}
			}
			ir += rows
		}
	}
}
