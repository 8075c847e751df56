package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemv compares every path's Sgemv with gonum's, within the rounding
// bound, on shapes around the kernels' 16- and 64-column steps, strided A,
// both transposes, increments and scalars; beta = 0 must not read y.
func TestSgemv(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type shape struct{ m, n, pad int }
	shapes := []shape{{1, 1, 0}, {3, 15, 0}, {2, 16, 0}, {5, 17, 3}, {4, 63, 0}, {7, 64, 1}, {3, 65, 0},
		{9, 80, 5}, {6, 127, 0}, {10, 130, 2}, {256, 784, 0}, {128, 256, 7}, {10, 128, 0}}
	for _, impl := range implementations(t) {
		for _, s := range shapes {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for i, sc := range []struct{ alpha, beta float32 }{{1, 0}, {0.5, 2}, {-2, 1}, {0, 0.5}} {
					inc := 1
					if i == 3 {
						inc = 2
					}
					name := fmt.Sprintf("%s/%s/%dx%d+%d/%v,%v/inc%d", impl.Path(), transName(tA), s.m, s.n, s.pad, sc.alpha, sc.beta, inc)
					lda := s.n + s.pad
					a := randSlice(rng, (s.m-1)*lda+s.n)
					lx, ly := s.n, s.m
					if tA != blas.NoTrans {
						lx, ly = s.m, s.n
					}
					x := randSlice(rng, (lx-1)*inc+1)
					y0 := randSlice(rng, (ly-1)*inc+1)
					if sc.beta == 0 {
						for j := range y0 {
							y0[j] = float32(math.NaN())
						}
					}
					got := append([]float32(nil), y0...)
					want := append([]float32(nil), y0...)
					impl.Sgemv(tA, s.m, s.n, sc.alpha, a, lda, x, inc, sc.beta, got, inc)
					gonum.Implementation{}.Sgemv(tA, s.m, s.n, sc.alpha, a, lda, x, inc, sc.beta, want, inc)
					for j := 0; j < ly; j++ {
						var mag float64
						for l := range lx {
							mag += math.Abs(float64(opA(a, lda, tA, j, l)) * float64(x[l*inc]))
						}
						mag *= math.Abs(float64(sc.alpha))
						if sc.beta != 0 { // with beta = 0, y0 is NaN and must not matter
							mag += math.Abs(float64(sc.beta) * float64(y0[j*inc]))
						}
						tol := 4 * float64(lx+4) * mag / (1 << 24)
						g, w := float64(got[j*inc]), float64(want[j*inc])
						if sc.beta == 0 {
							w = float64(sc.alpha) * dotRef(a, lda, x, inc, tA, j, lx)
						}
						if math.IsNaN(g) || math.Abs(g-w) > tol {
							t.Fatalf("%s: y[%d] = %v, want %v (tolerance %.3g)", name, j, g, w, tol)
						}
					}
				}
			}
		}
	}
}

// dotRef is row (or column) j of op(A) times x, in float64.
func dotRef(a []float32, lda int, x []float32, inc int, tA blas.Transpose, j, n int) float64 {
	var s float64
	for l := range n {
		s += float64(opA(a, lda, tA, j, l)) * float64(x[l*inc])
	}
	return s
}

// opA is op(A)[j][l].
func opA(a []float32, lda int, tA blas.Transpose, j, l int) float32 {
	if tA != blas.NoTrans {
		return a[l*lda+j]
	}
	return a[j*lda+l]
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestSgemvPathsMatch checks the AVX-512 and AVX2 dot kernels bit for bit:
// a model's float layers give the same outputs on either CPU.
func TestSgemvPathsMatch(t *testing.T) {
	wide, err1 := New(AVX512)
	narrow, err2 := New(AVX2)
	if err1 != nil || err2 != nil {
		t.Skipf("needs both paths: %v, %v", err1, err2)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range [][2]int{{1, 16}, {3, 48}, {5, 64}, {7, 100}, {256, 784}, {128, 256}, {10, 128}, {33, 1000}} {
		m, n := s[0], s[1]
		a, x := randSlice(rng, m*n), randSlice(rng, n)
		got, want := make([]float32, m), make([]float32, m)
		wide.Sgemv(blas.NoTrans, m, n, 1, a, n, x, 1, 0, got, 1)
		narrow.Sgemv(blas.NoTrans, m, n, 1, a, n, x, 1, 0, want, 1)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%dx%d: y[%d] = %v with %s, %v with %s", m, n, i, got[i], AVX512, want[i], AVX2)
			}
		}
	}
}

// TestSgemvPanics checks the fast path panics as gonum does.
func TestSgemvPanics(t *testing.T) {
	a, x, y := make([]float32, 64), make([]float32, 32), make([]float32, 4)
	for _, impl := range implementations(t) {
		for _, tc := range []struct {
			name string
			call func(blas.Float32)
		}{
			{"lda", func(b blas.Float32) { b.Sgemv(blas.NoTrans, 2, 32, 1, a, 16, x, 1, 0, y, 1) }},
			{"short x", func(b blas.Float32) { b.Sgemv(blas.NoTrans, 2, 32, 1, a, 32, x[:31], 1, 0, y, 1) }},
			{"short y", func(b blas.Float32) { b.Sgemv(blas.NoTrans, 2, 32, 1, a, 32, x, 1, 0, y[:1], 1) }},
			{"short a", func(b blas.Float32) { b.Sgemv(blas.NoTrans, 3, 32, 1, a, 32, x, 1, 0, y, 1) }},
		} {
			want := recoverString(func() { tc.call(gonum.Implementation{}) })
			got := recoverString(func() { tc.call(impl) })
			if want == "" || got != want {
				t.Errorf("%s %s: panic %q, gonum %q", impl.Path(), tc.name, got, want)
			}
		}
	}
}

func recoverString(f func()) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestSgemvAllocs(t *testing.T) {
	a, x, y := make([]float32, 256*784), make([]float32, 784), make([]float32, 256)
	for _, impl := range implementations(t) {
		impl.Sgemv(blas.NoTrans, 256, 784, 1, a, 784, x, 1, 0, y, 1)
		if n := testing.AllocsPerRun(20, func() { impl.Sgemv(blas.NoTrans, 256, 784, 1, a, 784, x, 1, 0, y, 1) }); n != 0 {
			t.Errorf("%s: %v allocations per call", impl.Path(), n)
		}
	}
}

func BenchmarkSgemv(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	impls := []blas.Float32{gonum.Implementation{}}
	for _, impl := range implementations(b) {
		impls = append(impls, impl)
	}
	for _, s := range [][2]int{{256, 784}, {128, 256}, {10, 128}} {
		m, n := s[0], s[1]
		a, x, y := randSlice(rng, m*n), randSlice(rng, n), make([]float32, m)
		for _, impl := range impls {
			name := "gonum"
			if g, ok := impl.(*Implementation); ok {
				name = string(g.Path())
			}
			b.Run(fmt.Sprintf("%dx%d/%s", m, n, name), func(b *testing.B) {
				for b.Loop() {
					impl.Sgemv(blas.NoTrans, m, n, 1, a, n, x, 1, 0, y, 1)
				}
				b.ReportMetric(2*float64(m)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
