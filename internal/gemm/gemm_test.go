package gemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// problem is one Sgemm call's arguments.
type problem struct {
	tA, tB       blas.Transpose
	m, n, k      int
	alpha, beta  float32
	a, b, c      []float32
	lda, ldb     int
	ldc          int
	cNaNForBeta0 bool
}

// newProblem builds a random problem whose matrices are padded sub-matrices
// (leading dimension = columns + pad) inside slices with no spare tail.
func newProblem(rng *rand.Rand, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta float32) *problem {
	p := &problem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	p.a, p.lda = randMatrix(rng, ar, ac, pad)
	p.b, p.ldb = randMatrix(rng, br, bc, pad)
	p.c, p.ldc = randMatrix(rng, m, n, pad)
	if beta == 0 {
		// BLAS: C is not read when beta is zero, so NaNs must vanish.
		for i := range p.c {
			p.c[i] = float32(math.NaN())
		}
	}
	return p
}

// randMatrix returns an r×c matrix with leading dimension max(1, c+pad),
// stored in exactly the length BLAS requires.
func randMatrix(rng *rand.Rand, r, c, pad int) ([]float32, int) {
	ld := max(1, c+pad)
	n := max(0, (r-1)*ld+c)
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s, ld
}

func (p *problem) run(impl blas.Float32) []float32 {
	c := append([]float32(nil), p.c...)
	impl.Sgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
	return c
}

func (p *problem) opA(i, l int) float64 {
	if p.tA == blas.NoTrans {
		return float64(p.a[i*p.lda+l])
	}
	return float64(p.a[l*p.lda+i])
}

func (p *problem) opB(l, j int) float64 {
	if p.tB == blas.NoTrans {
		return float64(p.b[l*p.ldb+j])
	}
	return float64(p.b[j*p.ldb+l])
}

// reference returns, for every element of C, the exact-ish float64 value
// of alpha*op(A)*op(B) + beta*C and the bound on float32 rounding error
// for it: 2(k+4)u times the sum of the magnitudes of the terms.
func (p *problem) reference() (want, tol []float64) {
	const u = 1.0 / (1 << 24)
	// Copy op(A) and op(B)ᵀ into contiguous float64 rows.
	opA := make([]float64, p.m*p.k)
	opBt := make([]float64, p.n*p.k)
	for i := range p.m {
		for l := range p.k {
			opA[i*p.k+l] = p.opA(i, l)
		}
	}
	for j := range p.n {
		for l := range p.k {
			opBt[j*p.k+l] = p.opB(l, j)
		}
	}
	alpha, beta := float64(p.alpha), float64(p.beta)
	want = make([]float64, p.m*p.n)
	tol = make([]float64, p.m*p.n)
	for i := range p.m {
		ar := opA[i*p.k : i*p.k+p.k]
		for j := range p.n {
			var sum, mag float64
			if alpha != 0 {
				br := opBt[j*p.k : j*p.k+p.k]
				for l, x := range ar {
					sum += x * br[l]
					mag += math.Abs(x * br[l])
				}
			}
			w, g := alpha*sum, math.Abs(alpha)*mag
			if beta != 0 {
				c := float64(p.c[i*p.ldc+j])
				w += beta * c
				g += math.Abs(beta * c)
			}
			want[i*p.n+j] = w
			tol[i*p.n+j] = 2*float64(p.k+4)*u*g + 1e-30
		}
	}
	return want, tol
}

// check compares got with the float64 reference, element by element,
// within the float32 rounding bound, and checks that C's padding is
// untouched.
func (p *problem) check(t *testing.T, got []float32) {
	t.Helper()
	want, tol := p.reference()
	bad := 0
	for idx := range got {
		i, j := idx/p.ldc, idx%p.ldc
		if j >= p.n {
			if math.Float32bits(got[idx]) != math.Float32bits(p.c[idx]) {
				t.Errorf("padding C[%d] changed: %v -> %v", idx, p.c[idx], got[idx])
				bad++
			}
		} else if d := math.Abs(float64(got[idx]) - want[i*p.n+j]); !(d <= tol[i*p.n+j]) {
			t.Errorf("C[%d,%d] = %v, want %v (tolerance %.3g)", i, j, got[idx], want[i*p.n+j], tol[i*p.n+j])
			bad++
		}
		if bad > 5 {
			t.Fatal("too many errors")
		}
	}
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

func transName(t blas.Transpose) string {
	if t == blas.NoTrans {
		return "N"
	}
	return "T"
}

// variant is an Implementation under test with a name for subtests.
type variant struct {
	name string
	impl *Implementation
}

// variants returns, for every path this CPU runs, the Implementation New
// builds and copies whose tuning forces the other code paths: A always
// packed, A always read in place, narrow products on the wide tiles, and
// tiny cache blocks so that small problems cross every block boundary.
func variants(t testing.TB) []variant {
	t.Helper()
	var vs []variant
	for _, p := range Paths() {
		impl, err := New(p)
		if err != nil {
			t.Fatalf("New(%q): %v", p, err)
		}
		vs = append(vs, variant{string(p), impl})
		tune := func(name string, edit func(k *kernels)) {
			k := *impl.k
			edit(&k)
			vs = append(vs, variant{string(p) + "/" + name, newImpl(&k)})
		}
		if impl.k.inPlaceMax > 0 {
			tune("packed", func(k *kernels) { k.inPlaceMax = 0 })
			tune("inplace", func(k *kernels) { k.inPlaceMax = math.MaxInt })
		}
		if impl.k.narrow != nil {
			tune("wide", func(k *kernels) { k.narrow = nil })
		}
		if impl.k.transpose != nil {
			tune("noswap", func(k *kernels) { k.transpose = nil })
		}
		tune("tinyblocks", func(k *kernels) { k.kcMax, k.mcMax, k.ncMax = 7, 2*k.mr, 2*k.nr })
	}
	return vs
}

// implementations returns one Implementation per path this CPU runs.
func implementations(t testing.TB) []*Implementation {
	t.Helper()
	var impls []*Implementation
	for _, p := range Paths() {
		impl, err := New(p)
		if err != nil {
			t.Fatalf("New(%q): %v", p, err)
		}
		impls = append(impls, impl)
	}
	return impls
}

func TestSgemm(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{0, 0, 0}, {0, 5, 3}, {4, 0, 3}, {3, 4, 0},
		{1, 1, 1}, {1, 1, 9}, {2, 3, 1}, {1, 17, 5}, {7, 1, 5},
		{5, 15, 7}, {6, 16, 8}, {6, 16, 16}, {7, 17, 9}, {12, 32, 33},
		{13, 31, 47}, {31, 33, 65}, {32, 64, 64}, {64, 10, 32}, {25, 49, 300},
		{150, 40, 20}, {301, 20, 10}, {9, 2100, 9}, {40, 45, 530},
		{300, 7, 500}, {20, 33, 1100}, {70, 37, 1030},
	}
	if testing.Short() {
		shapes = shapes[:16]
	}
	scalars := []struct{ alpha, beta float32 }{
		{1, 0}, {1, 1}, {-0.5, 2}, {2, -1}, {0, 0}, {0, 1}, {0, 3}, {1.5, 0},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range variants(t) {
		impl := v.impl
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, s := range shapes {
					name := fmt.Sprintf("%s/%s%s/%dx%dx%d", v.name, transName(tA), transName(tB), s.m, s.n, s.k)
					t.Run(name, func(t *testing.T) {
						for i, sc := range scalars {
							if i > 2 && s.m*s.n*s.k > 200_000 {
								break // big shapes: the first, general cases suffice
							}
							pad := i % 3 * 5 // strided sub-matrices for most cases
							p := newProblem(rng, tA, tB, s.m, s.n, s.k, pad, sc.alpha, sc.beta)
							p.check(t, p.run(impl))
						}
					})
				}
			}
		}
	}
}

// TestConjTrans checks that ConjTrans means Trans for real matrices.
func TestConjTrans(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, impl := range implementations(t) {
		p := newProblem(rng, blas.Trans, blas.Trans, 9, 20, 11, 1, 1, 0)
		want := p.run(impl)
		p.tA, p.tB = blas.ConjTrans, blas.ConjTrans
		got := p.run(impl)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: ConjTrans differs from Trans at %d: %v vs %v", impl.Path(), i, got[i], want[i])
			}
		}
	}
}

// TestPathsAgree compares every fast path with the generic one on the MLP
// shapes the trainer uses.
func TestPathsAgree(t *testing.T) {
	generic, err := New(Generic)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{blas.NoTrans, blas.Trans, 128, 256, 784}, // Z = X·Wᵀ
		{blas.Trans, blas.NoTrans, 256, 784, 128}, // dW = dZᵀ·X
		{blas.NoTrans, blas.NoTrans, 128, 784, 256},
		{blas.NoTrans, blas.Trans, 32, 64, 64},
		{blas.Trans, blas.NoTrans, 64, 64, 32},
		{blas.NoTrans, blas.Trans, 128, 10, 128},
	}
	for _, impl := range implementations(t) {
		if impl.Path() == Generic {
			continue
		}
		for _, tc := range cases {
			name := fmt.Sprintf("%s/%s%s/%dx%dx%d", impl.Path(), transName(tc.tA), transName(tc.tB), tc.m, tc.n, tc.k)
			t.Run(name, func(t *testing.T) {
				p := newProblem(rng, tc.tA, tc.tB, tc.m, tc.n, tc.k, 0, 1, 0)
				fast, slow := p.run(impl), p.run(generic)
				// Both are within the rounding bound of the exact product,
				// so they differ by at most twice that bound.
				const u = 1.0 / (1 << 24)
				for idx := range fast {
					i, j := idx/p.ldc, idx%p.ldc
					var mag float64
					for l := range p.k {
						mag += math.Abs(p.opA(i, l) * p.opB(l, j))
					}
					tol := 4 * float64(p.k+4) * u * mag
					if d := math.Abs(float64(fast[idx]) - float64(slow[idx])); d > tol {
						t.Fatalf("C[%d,%d]: %s %v, generic %v (tolerance %.3g)", i, j, impl.Path(), fast[idx], slow[idx], tol)
					}
				}
			})
		}
	}
}

// TestWideMatchesAVX2 checks the AVX-512 path against the AVX2 path bit for
// bit: the same blocking and the same chain of FMAs for every element of C,
// so a model trained on either CPU is the same model.
func TestWideMatchesAVX2(t *testing.T) {
	wide, err1 := New(AVX512)
	narrow, err2 := New(AVX2)
	if err1 != nil || err2 != nil {
		t.Skipf("needs both paths: %v, %v", err1, err2)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {6, 32, 8}, {7, 33, 9}, {13, 31, 47}, {31, 65, 300}, {128, 256, 784},
		{256, 784, 128}, {128, 784, 256}, {16, 220, 64}, {64, 220, 16}, {16, 10, 220}, {300, 7, 1030},
		// 16 wide or narrower: the AVX-512 path's 12-row tiles and the
		// AVX2 kernels for a block's last rows.
		{12, 16, 5}, {13, 16, 300}, {24, 9, 64}, {100, 16, 33}, {220, 16, 64}, {37, 3, 7}, {1200, 16, 20},
	}
	for _, tA := range transposes {
		for _, tB := range transposes {
			for i, s := range shapes {
				p := newProblem(rng, tA, tB, s.m, s.n, s.k, i%3*5, []float32{1, -0.5, 2}[i%3], []float32{0, 1, -1}[i%3])
				got, want := p.run(wide), p.run(narrow)
				for j := range want {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%s%s %dx%dx%d: C[%d] = %v with %s, %v with %s", transName(tA), transName(tB), s.m, s.n, s.k, j, got[j], AVX512, want[j], AVX2)
					}
				}
			}
		}
	}
}

// TestSwapExact checks that C = A·Bᵀ computed as Cᵀ = B·Aᵀ and transposed
// (swapNT) is bit for bit the product computed directly, over shapes it
// swaps with ragged columns, several depth blocks and padded leading
// dimensions.
func TestSwapExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := []struct{ m, n, k int }{
		{16, 220, 64}, {16, 10, 220}, {32, 220, 64}, {16, 37, 40}, {32, 45, 90}, {16, 100, 300},
		{16, 15, 9}, {16, 200, 513}, {32, 33, 200}, {16, 65, 20}, {16, 128, 256}, {32, 90, 300},
	}
	for _, impl := range implementations(t) {
		ks := impl.kernels()
		if ks.transpose == nil {
			continue
		}
		for i, s := range shapes {
			if !ks.swapNT(s.m, s.n, s.k) {
				t.Fatalf("%dx%d: swapNT is false; pick shapes it swaps", s.m, s.n)
			}
			alpha := []float32{1, -0.5, 2}[i%3]
			p := newProblem(rng, blas.NoTrans, blas.Trans, s.m, s.n, s.k, i%3*5, alpha, 0)
			got := p.run(impl)
			want := append([]float32(nil), p.c...)
			ks.forWidth(s.n).gemm(new(workspace), false, true, s.m, s.n, s.k, alpha, p.a, p.lda, p.b, p.ldb, 0, want, p.ldc)
			for j := range want {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("%s %dx%dx%d: C[%d,%d] = %v swapped, %v direct", impl.Path(), s.m, s.n, s.k, j/p.ldc, j%p.ldc, got[j], want[j])
				}
			}
		}
	}
}

// TestTranspose checks kernels.transpose over every row count up to 40
// (the blocks of eight and the overlapping last block) and column counts
// on both sides of multiples of 16, into a C with padded rows.
func TestTranspose(t *testing.T) {
	for _, impl := range implementations(t) {
		tr := impl.kernels().transpose
		if tr == nil {
			continue
		}
		for m := 1; m <= 40; m++ {
			for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 33, 50} {
				src := make([]float32, n*m)
				for i := range src {
					src[i] = float32(i + 1)
				}
				ldc := n + 3
				c := make([]float32, (m-1)*ldc+n)
				tr(c, ldc, src, n, m)
				for i := range m {
					for j := range n {
						if got, want := c[i*ldc+j], src[j*m+i]; got != want {
							t.Fatalf("%s m=%d n=%d: C[%d,%d] = %v, want %v", impl.Path(), m, n, i, j, got, want)
						}
					}
					for j := n; j < ldc && i*ldc+j < len(c); j++ {
						if c[i*ldc+j] != 0 {
							t.Fatalf("%s m=%d n=%d: wrote padding C[%d,%d]", impl.Path(), m, n, i, j)
						}
					}
				}
			}
		}
	}
}

// TestPoolLends checks that a workspace is lent to one call at a time: a
// second call writing to the same output while the first holds its shard's
// workspace gets another, and both come back in turn.
func TestPoolLends(t *testing.T) {
	var p pool
	c := make([]float32, 8)
	w1 := p.get(c)
	w2 := p.get(c)
	if w1 == w2 {
		t.Fatal("two calls got the same workspace")
	}
	p.put(c, w1)
	p.put(c, w2) // the shard is full: to the free list
	if got := p.get(c); got != w1 {
		t.Fatal("the shard did not return the workspace left in it")
	}
	if got := p.get(c); got != w2 {
		t.Fatal("the free list did not return the workspace left in it")
	}
}

// TestDeterministic checks that repeated and concurrent calls give
// bit-identical results.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, impl := range implementations(t) {
		t.Run(string(impl.Path()), func(t *testing.T) {
			p := newProblem(rng, blas.NoTrans, blas.Trans, 67, 90, 600, 3, 0.7, 0.3)
			want := p.run(impl)
			var wg sync.WaitGroup
			results := make([][]float32, 8)
			for g := range results {
				wg.Go(func() {
					for range 3 {
						results[g] = p.run(impl)
					}
				})
			}
			wg.Wait()
			for g, got := range results {
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("goroutine %d: C[%d] = %v, first run %v", g, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestConcurrent runs different shapes on one Implementation from several
// goroutines at once; with -race it checks workspaces are not shared.
func TestConcurrent(t *testing.T) {
	for _, impl := range implementations(t) {
		t.Run(string(impl.Path()), func(t *testing.T) {
			var wg sync.WaitGroup
			for g := range 6 {
				rng := rand.New(rand.NewPCG(9, uint64(g)))
				wg.Go(func() {
					for i := range 4 {
						m, n, k := 5+7*g+i, 30-3*g+i, 20+11*i
						p := newProblem(rng, transposes[g%2], transposes[i%2], m, n, k, g%3, 1, float32(i%2))
						p.check(t, p.run(impl))
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestPanics checks that bad arguments panic with gonum's messages.
func TestPanics(t *testing.T) {
	s := make([]float32, 100)
	type args struct {
		tA, tB        blas.Transpose
		m, n, k       int
		a, b, c       []float32
		lda, ldb, ldc int
	}
	ok := args{blas.NoTrans, blas.NoTrans, 3, 4, 5, s, s, s, 5, 4, 4}
	cases := []struct {
		name string
		edit func(*args)
	}{
		{"transA", func(a *args) { a.tA = 'x' }},
		{"transB", func(a *args) { a.tB = 'x' }},
		{"m", func(a *args) { a.m = -1 }},
		{"n", func(a *args) { a.n = -1 }},
		{"k", func(a *args) { a.k = -1 }},
		{"lda", func(a *args) { a.lda = 4 }},
		{"ldaTrans", func(a *args) { a.tA, a.lda = blas.Trans, 2 }},
		{"ldb", func(a *args) { a.ldb = 3 }},
		{"ldbTrans", func(a *args) { a.tB, a.ldb = blas.Trans, 4 }},
		{"ldc", func(a *args) { a.ldc = 3 }},
		{"shortA", func(a *args) { a.a = s[:14] }},
		{"shortB", func(a *args) { a.b = s[:19] }},
		{"shortC", func(a *args) { a.c = s[:11] }},
		{"shortATrans", func(a *args) { a.tA, a.a = blas.Trans, s[:12*3+2] }},
		{"shortBTrans", func(a *args) { a.tB, a.ldb, a.b = blas.Trans, 5, s[:3*5+4] }},
		{"zeroLdA", func(a *args) { a.m, a.k, a.lda = 0, 0, 0 }},
		{"valid", func(*args) {}},
		{"validEmpty", func(a *args) { a.m, a.a, a.c = 0, nil, nil }},
	}
	catch := func(impl blas.Float32, a args) (msg any) {
		defer func() { msg = recover() }()
		impl.Sgemm(a.tA, a.tB, a.m, a.n, a.k, 1, a.a, a.lda, a.b, a.ldb, 0, append([]float32(nil), a.c...), a.ldc)
		return nil
	}
	for _, impl := range implementations(t) {
		for _, tc := range cases {
			t.Run(string(impl.Path())+"/"+tc.name, func(t *testing.T) {
				a := ok
				tc.edit(&a)
				want := catch(gonum.Implementation{}, a)
				got := catch(impl, a)
				if got != want {
					t.Errorf("panic %v, gonum panics %v", got, want)
				}
			})
		}
	}
}

// TestNaNPropagation checks that NaNs in A and B reach C (no shortcut
// skips them) while alpha == 0 ignores A and B, as in gonum.
func TestNaNPropagation(t *testing.T) {
	nan := float32(math.NaN())
	for _, impl := range implementations(t) {
		a := []float32{1, nan, 3, 4}
		b := []float32{1, 2, 3, 4}
		c := make([]float32, 4)
		impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
		if !isNaN(c[0]) || !isNaN(c[1]) || isNaN(c[2]) || isNaN(c[3]) {
			t.Errorf("%s: C = %v, want NaN in row 0 only", impl.Path(), c)
		}
		c = []float32{1, 2, 3, 4}
		impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 0, a, 2, b, 2, 2, c, 2)
		if c[0] != 2 || c[1] != 4 || c[2] != 6 || c[3] != 8 {
			t.Errorf("%s: alpha = 0: C = %v, want [2 4 6 8]", impl.Path(), c)
		}
	}
}

func isNaN(x float32) bool { return x != x }

func TestAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, impl := range implementations(t) {
		for _, tc := range []struct{ m, n, k int }{{32, 64, 64}, {128, 256, 784}, {7, 9, 300}} {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", impl.Path(), tc.m, tc.n, tc.k), func(t *testing.T) {
				p := newProblem(rng, blas.NoTrans, blas.Trans, tc.m, tc.n, tc.k, 0, 1, 0)
				c := append([]float32(nil), p.c...)
				allocs := testing.AllocsPerRun(10, func() {
					impl.Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, 0, c, p.ldc)
				})
				if allocs != 0 {
					t.Errorf("%v allocations per call, want 0", allocs)
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		path Path
		err  error
	}{
		{Auto, nil},
		{Generic, nil},
		{"sse9", ErrUnknownPath},
	} {
		t.Run(string(tc.path), func(t *testing.T) {
			impl, err := New(tc.path)
			if !errors.Is(err, tc.err) {
				t.Fatalf("New(%q) error %v, want %v", tc.path, err, tc.err)
			}
			if err == nil && tc.path == Auto && impl.Path() != Best() {
				t.Errorf("New(Auto) runs %q, want Best() = %q", impl.Path(), Best())
			}
		})
	}
	var zero Implementation
	if zero.Path() != Best() {
		t.Errorf("zero Implementation runs %q, want Best() = %q", zero.Path(), Best())
	}
	a := []float32{1, 2, 3, 4}
	c := make([]float32, 4)
	zero.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2)
	if fmt.Sprint(c) != "[7 10 15 22]" {
		t.Errorf("zero Implementation: A·A = %v, want [7 10 15 22]", c)
	}
	paths := Paths()
	if paths[len(paths)-1] != Generic {
		t.Errorf("Paths() = %v, want Generic last", paths)
	}
	for _, p := range []Path{AVX2, AVX512} {
		supported := false
		for _, q := range paths {
			supported = supported || q == p
		}
		_, err := New(p)
		if supported != (err == nil) || (!supported && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("New(%q) error %v, supported %v", p, err, supported)
		}
	}
}

func TestRegister(t *testing.T) {
	old := blas32.Implementation()
	t.Cleanup(func() { blas32.Use(old) })

	t.Setenv(EnvPath, string(Generic))
	impl, err := Register(Auto)
	if err != nil {
		t.Fatal(err)
	}
	if impl.Path() != Generic || Name() != string(Generic) {
		t.Errorf("Register with %s=generic: path %q, Name() %q", EnvPath, impl.Path(), Name())
	}
	t.Setenv(EnvPath, "nonsense")
	if _, err := Register(Auto); !errors.Is(err, ErrUnknownPath) {
		t.Errorf("Register with bad %s: error %v, want ErrUnknownPath", EnvPath, err)
	}
	if Name() != string(Generic) {
		t.Errorf("failed Register changed the registered BLAS to %q", Name())
	}
	impl, err = Register(Best())
	if err != nil {
		t.Fatal(err)
	}
	// blas32.Gemm now runs through impl.
	a := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{1, 2, 3, 4}}
	c := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: make([]float32, 4)}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1, a, a, 0, c)
	if want := []float32{5, 11, 11, 25}; fmt.Sprint(c.Data) != fmt.Sprint(want) {
		t.Errorf("A·Aᵀ = %v, want %v", c.Data, want)
	}
	if Name() != string(impl.Path()) {
		t.Errorf("Name() = %q, want %q", Name(), impl.Path())
	}
	blas32.Use(gonum.Implementation{})
	if Name() != "gonum" {
		t.Errorf("Name() with gonum registered = %q", Name())
	}
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(5), uint8(17), uint16(9), uint8(0), uint8(2), int8(4), int8(0), uint64(1))
	f.Add(uint8(13), uint8(40), uint16(270), uint8(3), uint8(1), int8(-2), int8(3), uint64(2))
	f.Add(uint8(1), uint8(1), uint16(0), uint8(1), uint8(0), int8(0), int8(0), uint64(3))
	vs := variants(f)
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, trans, pad uint8, alpha, beta int8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 0))
		tA, tB := transposes[trans&1], transposes[trans>>1&1]
		p := newProblem(rng, tA, tB, int(m%70), int(n%70), int(k%300), int(pad%7), float32(alpha)/4, float32(beta)/4)
		for _, v := range vs {
			t.Run(v.name, func(t *testing.T) { p.check(t, p.run(v.impl)) })
		}
	})
}
