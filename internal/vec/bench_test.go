package vec

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchImpl is one implementation under benchmark: the trainer's original
// scalar loop ("scalar") or one of this package's paths.
type benchImpl struct {
	name string
	p    *path // nil for the scalar loop
}

func benchImpls() []benchImpl {
	is := []benchImpl{{name: "scalar"}}
	for _, p := range paths() {
		is = append(is, benchImpl{name: p.name, p: &p})
	}
	return is
}

// run sets up the implementation's path (if any) and times f, reporting
// ns per element and GB/s for the given bytes moved per element, and ns
// per element of this thread's CPU time ("cpu-ns/elem"), which is
// steadier than wall time when other processes share the cores.
func (im benchImpl) run(b *testing.B, elems, bytesPerElem int, f func()) {
	if im.p != nil {
		use(b, *im.p)
	}
	b.SetBytes(int64(elems * bytesPerElem))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadSeconds()
	for b.Loop() {
		f()
	}
	cpu := threadSeconds() - t0
	per := float64(b.N) * float64(elems)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/elem")
	if cpu > 0 {
		b.ReportMetric(cpu*1e9/per, "cpu-ns/elem")
	}
}

// optSizes are the optimizer's calls per step: one per weight matrix and
// bias vector, in layer order, for the trainer's MLPs.
var optSizes = []struct {
	name  string
	sizes []int
}{
	{"fashion", []int{784 * 256, 256, 256 * 128, 128, 128 * 10, 10}}, // 235,146 parameters
	{"digits", []int{64 * 64, 64, 64 * 32, 32, 32 * 10, 10}},         // 6,570 parameters
}

// optState is one set of optimizer buffers per call.
type optState struct{ w, g, m, v, mask [][]float32 }

// newOptState makes optimizer buffers for calls of the given sizes, with
// half the weights pruned by mask: zero, as are their moments. (Left
// non-zero, unfed moments decay into subnormals over a benchmark's many
// steps, which slows every implementation.)
func newOptState(rng *rand.Rand, sizes []int) *optState {
	s := &optState{}
	for _, n := range sizes {
		w, g, m, v, mask := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		benchFill(rng, w, 0.05)
		benchFill(rng, g, 1e-3)
		benchFill(rng, m, 1e-4)
		benchFill(rng, v, 1e-6)
		for i, x := range v {
			v[i] = max(x, -x)
		}
		fillMask(rng, mask)
		for i, keep := range mask {
			if keep == 0 { // pruned, as the trainer leaves it
				w[i], m[i], v[i] = 0, 0, 0
			}
		}
		s.w, s.g, s.m, s.v, s.mask = append(s.w, w), append(s.g, g), append(s.m, m), append(s.v, v), append(s.mask, mask)
	}
	return s
}

// benchFill sets s to normal values of the given scale: benchmarks stay
// clear of subnormals, which slow some CPUs' scalar arithmetic, and of
// the extremes the tests use.
func benchFill(rng *rand.Rand, s []float32, scale float64) {
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
}

func total(sizes []int) int {
	n := 0
	for _, s := range sizes {
		n += s
	}
	return n
}

// BenchmarkAdam times one optimizer step over all of a network's weights
// and biases, without masks (dense training) and with (pruned). An
// element moves 28 bytes (w, g, m, v read; w, m, v written), 32 with a
// mask.
func BenchmarkAdam(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, net := range optSizes {
		n := total(net.sizes)
		for _, masked := range []bool{false, true} {
			s := newOptState(rng, net.sizes)
			for _, im := range benchImpls() {
				name := fmt.Sprintf("%s/%d/mask=%v/%s", net.name, n, masked, im.name)
				b.Run(name, func(b *testing.B) {
					fn, bpe := Adam, 28
					if im.p == nil {
						fn = scalarAdam
					}
					if masked {
						bpe = 32
					}
					im.run(b, n, bpe, func() {
						for i := range s.w {
							var mask []float32
							if masked {
								mask = s.mask[i]
							}
							// Near-zero step: w stays put over many runs.
							fn(s.w[i], s.g[i], s.m[i], s.v[i], mask, 1e-4, 1e-12, 1.01, 0.9, 0.999, 1e-8)
						}
					})
				})
			}
		}
	}
}

// BenchmarkSGD is BenchmarkAdam for SGD with momentum: 20 bytes an element
// (w, g, vel read; w, vel written).
func BenchmarkSGD(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, net := range optSizes {
		s := newOptState(rng, net.sizes)
		n := total(net.sizes)
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%d/%s", net.name, n, im.name), func(b *testing.B) {
				fn := SGD
				if im.p == nil {
					fn = scalarSGD
				}
				im.run(b, n, 20, func() {
					for i := range s.w {
						fn(s.w[i], s.g[i], s.m[i], nil, 1e-4, 1e-12, 0.9)
					}
				})
			})
		}
	}
}

// rowBenchShapes are the trainer's activation blocks (batch × width).
var rowBenchShapes = []struct {
	name       string
	rows, cols int
}{
	{"fashion/h1", 128, 256},
	{"fashion/h2", 128, 128},
	{"fashion/out", 128, 10},
	{"digits/h1", 32, 64},
	{"digits/h2", 32, 32},
	{"digits/out", 32, 10},
}

func newBlock(rng *rand.Rand, rows, cols int) (z, b []float32) {
	z, b = make([]float32, rows*cols), make([]float32, cols)
	benchFill(rng, z, 1)
	benchFill(rng, b, 1e-3)
	return z, b
}

// BenchmarkBiasReLU times the hidden layers' bias and ReLU: 8 bytes an
// element (z read and written). Calls repeat on the same block, whose
// values drift by the small biases (and stop at zero where they are
// negative); the kernels' speed does not depend on the values.
func BenchmarkBiasReLU(b *testing.B) {
	benchBias(b, true)
}

// BenchmarkBiasAdd times the output layer's bias, as BenchmarkBiasReLU.
func BenchmarkBiasAdd(b *testing.B) {
	benchBias(b, false)
}

// BenchmarkBiasTanh times the hidden layers' bias and tanh on standard
// normal pre-activations (math.Tanh's cost depends on |x|: it is cheapest
// below 0.625), copied in before each call; the copy costs a few
// hundredths of a nanosecond an element.
func BenchmarkBiasTanh(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range rowBenchShapes {
		if sh.cols == 10 {
			continue
		}
		z0, bias := newBlock(rng, sh.rows, sh.cols)
		z := make([]float32, len(z0))
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", sh.name, sh.rows, sh.cols, im.name), func(b *testing.B) {
				fn := BiasTanh
				if im.p == nil {
					fn = func(z, b []float32) { scalarBiasAct(z, b, false, false) }
				}
				im.run(b, len(z), 8, func() {
					copy(z, z0)
					fn(z, bias)
				})
			})
		}
	}
}

func benchBias(b *testing.B, relu bool) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range rowBenchShapes {
		if relu == (sh.cols == 10) {
			continue
		}
		z, bias := newBlock(rng, sh.rows, sh.cols)
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", sh.name, sh.rows, sh.cols, im.name), func(b *testing.B) {
				fn := BiasAdd
				switch {
				case im.p == nil:
					fn = func(z, b []float32) { scalarBiasAct(z, b, relu, !relu) }
				case relu:
					fn = BiasReLU
				}
				im.run(b, len(z), 8, func() { fn(z, bias) })
			})
		}
	}
}

// BenchmarkReLUGrad times the hidden layers' ReLU gradient: 12 bytes an
// element (g, a read; g written). The gradient is zeroed where a is zero
// and kept elsewhere, so repeated calls do the same work.
func BenchmarkReLUGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, sh := range rowBenchShapes {
		if sh.cols == 10 {
			continue
		}
		g, _ := newBlock(rng, sh.rows, sh.cols)
		a, zero := newBlock(rng, sh.rows, sh.cols)
		clear(zero)
		scalarBiasAct(a, zero, true, false) // a ReLU output
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", sh.name, sh.rows, sh.cols, im.name), func(b *testing.B) {
				fn := ReLUGrad
				if im.p == nil {
					fn = scalarReLUGrad
				}
				im.run(b, len(g), 12, func() { fn(g, a) })
			})
		}
	}
}

// BenchmarkTanhGrad times the hidden layers' tanh gradient: 12 bytes an
// element. The gradient shrinks by 1-a² each call; a stays within ±0.76,
// so it takes thousands of calls to reach subnormals.
func BenchmarkTanhGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, sh := range rowBenchShapes {
		if sh.cols == 10 {
			continue
		}
		g0, _ := newBlock(rng, sh.rows, sh.cols)
		a, zero := newBlock(rng, sh.rows, sh.cols)
		clear(zero)
		BiasTanh(a, zero)
		g := make([]float32, len(g0))
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", sh.name, sh.rows, sh.cols, im.name), func(b *testing.B) {
				fn := TanhGrad
				if im.p == nil {
					fn = scalarTanhGrad
				}
				im.run(b, len(g), 12, func() { fn(g, a) })
			})
		}
	}
}

// BenchmarkSumRows times the bias gradients (column sums of every
// layer's deltas): 4 bytes an element of z.
func BenchmarkSumRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, sh := range rowBenchShapes {
		z, dst := newBlock(rng, sh.rows, sh.cols)
		for _, im := range benchImpls() {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", sh.name, sh.rows, sh.cols, im.name), func(b *testing.B) {
				fn := SumRows
				if im.p == nil {
					fn = scalarSumRows
				}
				im.run(b, len(z), 4, func() { fn(dst, z) })
			})
		}
	}
}
