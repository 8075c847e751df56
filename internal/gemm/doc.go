// Package gemm is a fast single-threaded float32 matrix multiply for gonum's
// blas32, so code that calls blas32.Gemm (the trainer's dense layers) runs
// several times faster without changing.
//
// Register it once at start-up, before any training:
//
//	impl, err := gemm.Register(gemm.Auto) // blas32.Use(the fastest path)
//	if err != nil {
//		return err // a bad CONSORT_GEMM value
//	}
//	log.Printf("float32 BLAS: %s", impl.Path()) // or gemm.Name() later
//
// Sgemm is replaced, and so is Sgemv where a dense layer classifies one
// sample (no transpose, unit increments, at least 16 columns, alpha not
// zero): the AVX2 and AVX512 paths then run one dot-product kernel per row
// of A, 64 columns a step in four groups of sixteen lanes, the same order
// on both (2.4× gonum's Sgemv on a 256×784 layer). Every other case and
// every other blas.Float32 routine is gonum's, through the embedded
// gonum.Implementation. Both take the same arguments, panic with the same
// messages on programmer errors (bad transpose, negative size, short
// slice, small leading dimension) and, as BLAS requires, do not read C (y)
// when beta is zero, so NaNs there are overwritten.
//
// # Paths
//
// A Path names a family of kernels. New(Auto) and Register(Auto) pick the
// fastest one the CPU supports, as reported by golang.org/x/sys/cpu:
//
//   - AVX512 ("avx512"): amd64 with AVX-512F; hand-written Go assembly.
//   - AVX2 ("avx2-fma"): amd64 with AVX2 and FMA; hand-written Go assembly.
//   - Generic ("generic"): plain Go, everywhere; also the only path when
//     built with the purego tag.
//
// Register(Auto) honours the environment variable CONSORT_GEMM (EnvPath),
// so CONSORT_GEMM=generic forces the fallback without changing code; New
// and Register with an explicit Path ignore it. Errors wrap ErrUnknownPath
// or ErrUnsupported.
//
// AVX-512 pays where the core has two full 512-bit FMA pipes: on the Intel
// Xeon this project now runs on, a pure FMA loop measures 226 GFLOP/s with
// zmm registers against 124 with ymm (BenchmarkPeak512, BenchmarkPeak),
// and the trainer's Fashion-MNIST products run 1.4–1.6× faster on the
// AVX512 path. Zen 4 executes a 512-bit FMA as two 256-bit halves, so
// there both loops measure the same and the two paths run alike.
//
// # Design
//
// The AVX2 and AVX512 paths follow the BLIS/GotoBLAS scheme, C = alpha·op(A)·op(B) +
// beta·C split as
//
//	for jc over n in blocks of nc ≤ 2048:
//	  for pc over k in blocks of kc ≤ 256:
//	    pack B[pc:pc+kc, jc:jc+nc] into nr-wide panels (kc×nr each; nr = 16, 32 on AVX512)
//	    for ic over m in blocks of mc ≤ 576:
//	      pack A[ic:ic+mc, pc:pc+kc] into 6- or 4-row panels (or not, below)
//	      for each B panel (stays in L1):
//	        for each A panel (streams from L2):
//	          micro-kernel: a 6×nr or 4×nr tile of C
//
// Each dimension is cut into equal blocks no larger than the limit (k = 784
// becomes four blocks of 196, not 256+256+256+16). Transposes are handled
// entirely by packing: op(B) is copied or transposed (8×8 AVX2 transposes)
// into panels, so the kernel never sees a transpose. A short last panel
// (a layer of 90 units is two panels of 32 and one of 26) is copied under
// a lane mask, which fills the padding with zeros, or, transposed, copied
// row by row into a scratch panel padded with zero rows and transposed
// like a full one; packing it element by element made the trainer's odd
// widths 10% slower.
//
// A network's forward pass at a small batch, C = X·Wᵀ with 16 or 32 rows
// of X, would spend as long transposing W into panels as multiplying:
// there, when the rule in swapNT says the transposes it trades are clearly
// fewer, the driver computes Cᵀ = W·Xᵀ instead, reading W where it lies as
// the product's A, packing only X's few rows, and transposes the result
// into C with the same 8×8 transposes writing straight into C's rows
// (16×220×64: 6.1 → 5.5 µs; 16×10×220: 1.8 → 1.25 µs). Every element is
// the same chain of FMAs either way, so the result is the same to the bit
// (TestSwapExact).
//
// The micro-kernels keep a 6×16 tile of C in twelve ymm accumulators (4×16
// in eight): each k step loads two 8-wide vectors of B, broadcasts six (four)
// elements of A and issues twelve (eight) FMAs, unrolled four times. The
// AVX512 path is the same code with zmm registers: 6×32 and 4×32 tiles over
// 32-wide B panels (transposed B is packed as two 16-row halves), and
// products at most 16 columns wide (an output layer of ten classes, or
// the few rows of a swapped product, above) go to 16-wide panels with a
// 12×16 zmm tile, one register a row: twelve independent FMA chains, as
// many as the 6×32 tile has, where a 6×16 zmm tile would leave the FMA
// pipes waiting on latency. A block's rows past its last 12-row panel go
// to the AVX2 kernels. A row
// panel of the tile's height is read through a row stride and a step
// stride, so the same kernel runs on packed panels and on A where it lies:
// when all of op(A) is at most 128 Ki floats (512 KiB, L2-resident) it is
// not packed at all, which saves the packing pass on the trainer's shapes;
// larger A is packed, which also keeps power-of-two strides from thrashing
// L1 sets. A block's rows are covered by 6-row panels plus at most two
// 4-row ones (m = 128 is 20×6 + 2×4), so a block of three or more rows
// wastes at most one row of work; a short last panel, and columns past the
// last multiple of 16, are computed into a scratch tile and copied out.
//
// alpha and beta are applied as a tile is written: the first k block stores
// alpha·AB + beta·C (without reading C when beta = 0), later k blocks add
// their alpha·AB to it.
//
// The Generic path uses the same loops and packing with a 4×4 tile in plain
// Go (two 2×4 passes, to fit amd64's float registers) and always packs A.
//
// # Determinism and concurrency
//
// Block sizes and panel heights depend only on m, n and k, so the order of
// every sum is fixed: the same inputs give bit-identical outputs, run after
// run and from any goroutine. The AVX512 and AVX2 paths share block sizes
// and compute every element of C as the same chain of FMAs, so they agree
// bit for bit (TestWideMatchesAVX2): a model trained on either CPU is the
// same model. The Generic path rounds differently, within float32
// tolerance.
//
// An Implementation is safe for concurrent use and never starts goroutines
// (one trial per core is the worker's job). Each Sgemm call borrows a
// packing workspace from the Implementation and returns it: from one of 64
// slots chosen by the address of C, each on its own cache line, so a
// caller finds the workspace its last call into the same buffer left and
// two cores share nothing (a single mutex-guarded list made concurrent
// small products 3× slower a call and a two-trial worker 10% slower), or
// else from a free list. Buffers grow to the largest shape seen and are
// reused, so warm calls allocate nothing, also under the race detector.
package gemm
