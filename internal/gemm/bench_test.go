package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the products of the trainer's MLPs (Fashion-MNIST
// 784-256-128-10 at batch 128, digits 64-64-32-10 at batch 32,
// 64-90-45-10 at batch 32, with the odd widths a sweep draws, whose last
// B panels are short, and 64-220-10 at batch 16, where the digits search
// settles) and square
// reference sizes. Run with -cpu 1 to hold gonum's Sgemm, which spreads
// over GOMAXPROCS goroutines, to one core like this package's paths, and
// compare with BenchmarkPeak from the same run.
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"fashion/fwd1/XWt", blas.NoTrans, blas.Trans, 128, 256, 784},
	{"fashion/dW1/dZtX", blas.Trans, blas.NoTrans, 256, 784, 128},
	{"fashion/dX1/dZW", blas.NoTrans, blas.NoTrans, 128, 784, 256},
	{"fashion/fwd2/XWt", blas.NoTrans, blas.Trans, 128, 128, 256},
	{"fashion/dW2/dZtX", blas.Trans, blas.NoTrans, 128, 256, 128},
	{"fashion/fwd3/XWt", blas.NoTrans, blas.Trans, 128, 10, 128},
	{"digits/fwd1/XWt", blas.NoTrans, blas.Trans, 32, 64, 64},
	{"digits/dW1/dZtX", blas.Trans, blas.NoTrans, 64, 64, 32},
	{"digits/dX2/dZW", blas.NoTrans, blas.NoTrans, 32, 64, 32},
	{"digits/fwd3/XWt", blas.NoTrans, blas.Trans, 32, 10, 32},
	{"sweep/fwd1/XWt", blas.NoTrans, blas.Trans, 32, 90, 64},
	{"sweep/fwd2/XWt", blas.NoTrans, blas.Trans, 32, 45, 90},
	{"sweep/dW2/dZtX", blas.Trans, blas.NoTrans, 45, 90, 32},
	{"sweep/dX2/dZW", blas.NoTrans, blas.NoTrans, 32, 90, 45},
	{"sweep16/fwd1/XWt", blas.NoTrans, blas.Trans, 16, 220, 64},
	{"sweep16/fwd2/XWt", blas.NoTrans, blas.Trans, 16, 10, 220},
	{"sweep16/dW1/dZtX", blas.Trans, blas.NoTrans, 220, 64, 16},
	{"square/1024", blas.NoTrans, blas.NoTrans, 1024, 1024, 1024},
	{"square/1000T", blas.Trans, blas.NoTrans, 1000, 1000, 1000},
	{"square/1024T", blas.Trans, blas.NoTrans, 1024, 1024, 1024},
}

func BenchmarkSgemm(b *testing.B) {
	impls := []blas.Float32{gonum.Implementation{}}
	for _, impl := range implementations(b) {
		impls = append(impls, impl)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		p := newProblem(rng, s.tA, s.tB, s.m, s.n, s.k, 0, 1, 0)
		for _, impl := range impls {
			name, ours := "gonum", false
			if g, ok := impl.(*Implementation); ok {
				name, ours = string(g.Path()), true
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", s.name, s.m, s.n, s.k, name), func(b *testing.B) {
				c := make([]float32, len(p.c))
				b.ReportAllocs()
				stop := threadClock{}.start()
				for b.Loop() {
					impl.Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, 0, c, p.ldc)
				}
				cpu := stop()
				flops := 2 * float64(p.m) * float64(p.n) * float64(p.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 && ours {
					// Rate per second of this thread's CPU time: steadier
					// than wall time when other processes share the cores.
					// Only for this package's single-threaded paths; gonum
					// spreads its Sgemm over goroutines.
					b.ReportMetric(flops/cpu/1e9, "cpu-GFLOP/s")
				}
			})
		}
	}
}
