package gemm

import (
	"errors"
	"fmt"
	"os"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// Path names a family of kernels. The zero value, Auto, means the fastest
// path this CPU supports.
type Path string

// The kernel paths. Generic runs everywhere; AVX2 needs an amd64 CPU with
// AVX2 and FMA, AVX512 one with AVX-512F (and an OS that saves the zmm
// registers), both a build without the purego tag.
const (
	Auto    Path = ""
	Generic Path = "generic"
	AVX2    Path = "avx2-fma"
	AVX512  Path = "avx512"
)

// EnvPath is the environment variable Register consults when asked for
// Auto: set it to a Path name (for example "generic") to force that path
// without changing code, as benchmarks comparing paths do.
const EnvPath = "CONSORT_GEMM"

var (
	// ErrUnknownPath is returned for a Path name that is not one of the
	// constants above.
	ErrUnknownPath = errors.New("gemm: unknown path")
	// ErrUnsupported is returned for a Path this CPU or build cannot run.
	ErrUnsupported = errors.New("gemm: path not supported by this CPU or build")
)

// Implementation is a blas.Float32 whose Sgemm runs packed, cache-blocked,
// register-tiled kernels; every other routine is gonum's native one.
//
// It is safe for concurrent use: each Sgemm call borrows its own packing
// workspace from the Implementation and returns it, so steady-state calls
// allocate nothing. Results depend only on the arguments and the Path, so
// a call repeated with the same inputs gives bit-identical outputs. The zero
// value runs Best(); New chooses the path. An Implementation must not be
// copied after first use.
type Implementation struct {
	gonum.Implementation // every routine but Sgemm

	k    *kernels // nil: Best()
	pool pool
}

var _ blas.Float32 = (*Implementation)(nil)

// Paths lists the paths this CPU and build can run, fastest first; the
// last is always Generic.
func Paths() []Path {
	ps := make([]Path, 0, len(archKernels)+1)
	for _, k := range archKernels {
		if k.supported() {
			ps = append(ps, k.path)
		}
	}
	return append(ps, Generic)
}

// Best returns the fastest path this CPU and build can run.
func Best() Path { return Paths()[0] }

// New returns an Implementation running path p, or Best() when p is Auto.
// It returns an error wrapping ErrUnknownPath or ErrUnsupported when p
// cannot be used.
func New(p Path) (*Implementation, error) {
	if p == Auto {
		p = Best()
	}
	if p == Generic {
		return newImpl(&genericKernels), nil
	}
	for _, k := range archKernels {
		if k.path != p {
			continue
		}
		if !k.supported() {
			return nil, fmt.Errorf("gemm: path %q: %w", p, ErrUnsupported)
		}
		return newImpl(k), nil
	}
	if p == AVX2 || p == AVX512 {
		return nil, fmt.Errorf("gemm: path %q: %w", p, ErrUnsupported)
	}
	return nil, fmt.Errorf("gemm: path %q: %w", p, ErrUnknownPath)
}

func newImpl(k *kernels) *Implementation {
	return &Implementation{k: k}
}

// kernels returns the path impl runs.
func (impl *Implementation) kernels() *kernels {
	if impl.k != nil {
		return impl.k
	}
	for _, k := range archKernels {
		if k.supported() {
			return k
		}
	}
	return &genericKernels
}

// Path reports the kernel path impl runs.
func (impl *Implementation) Path() Path { return impl.kernels().path }

// Register makes an Implementation running path p the process-wide
// float32 BLAS (blas32.Use) and returns it. When p is Auto and the
// environment variable EnvPath is set, its value chooses the path. On
// error nothing is registered.
func Register(p Path) (*Implementation, error) {
	if p == Auto {
		p = Path(os.Getenv(EnvPath))
	}
	impl, err := New(p)
	if err != nil {
		return nil, err
	}
	blas32.Use(impl)
	return impl, nil
}

// Name describes the float32 BLAS currently registered with blas32: the
// Path of an Implementation from this package, otherwise "gonum" for
// gonum's native one and "other" for anything else.
func Name() string {
	switch b := blas32.Implementation().(type) {
	case *Implementation:
		return string(b.Path())
	case gonum.Implementation, *gonum.Implementation:
		return "gonum"
	default:
		return "other"
	}
}

// Panic messages, identical to gonum's so callers see the same failures
// whichever implementation is registered.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
	shortX       = "blas: insufficient length of x"
	shortY       = "blas: insufficient length of y"
)

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m row-major matrix, B is a k×n or n×k matrix, C is
// m×n, and tA, tB say whether A and B are transposed. When beta is zero C
// is not read, so NaNs in it are overwritten. Invalid arguments panic with
// the same messages as gonum's Sgemm.
func (impl *Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aTrans := tA != blas.NoTrans
	bTrans := tB != blas.NoTrans
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	// With k == 0 these checks hold trivially, as in gonum.
	if aTrans {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bTrans {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}

	if alpha == 0 || k == 0 {
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		return
	}

	ws := impl.pool.get(c)
	ks := impl.kernels()
	if !aTrans && bTrans && beta == 0 && ks.swapNT(m, n, k) {
		// Cᵀ = B·Aᵀ: B (n×k, as stored) is the product's A, read in
		// place; A (m×k) transposed is its B.
		t := ws.reserveT(n * m)
		ks.forWidth(m).gemm(ws, false, true, n, m, k, alpha, b, ldb, a, lda, 0, t, m)
		ks.transpose(c, ldc, t, n, m)
	} else {
		ks.forWidth(n).gemm(ws, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	impl.pool.put(c, ws)
}

// scale sets C = beta*C, writing zeros (not beta*NaN) when beta is zero.
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Setup registers the fastest float32 GEMM for this machine and returns
// Name(): a SIMD path when the CPU has one; otherwise gonum's native
// Sgemm stays registered, since it outruns the portable Generic path (it
// uses gonum's assembly dot products and its own goroutines). The
// environment variable CONSORT_GEMM overrides the choice with a Path
// ("generic", "avx2-fma") or "gonum".
func Setup() (string, error) {
	switch env := os.Getenv(EnvPath); {
	case env == "gonum":
		blas32.Use(gonum.Implementation{})
	case env != "":
		if _, err := Register(Path(env)); err != nil {
			return Name(), err
		}
	case Best() != Generic:
		if _, err := Register(Best()); err != nil {
			return Name(), err
		}
	}
	return Name(), nil
}
