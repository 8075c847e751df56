package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// path is one set of kernels under test.
type path struct {
	name string
	avx2 bool
}

// paths lists the kernel sets this CPU and build can run.
func paths() []path {
	ps := []path{{"generic", false}}
	if haveAVX2 {
		ps = append(ps, path{"avx2", true})
	}
	return ps
}

// use selects a path for the rest of the test. Tests that call it must
// not run in parallel.
func use(t testing.TB, p path) {
	t.Helper()
	old := useAVX2
	useAVX2 = p.avx2
	t.Cleanup(func() { useAVX2 = old })
}

// testLengths are the lengths every flat kernel is checked at: all tails
// and alignments up to 70, and a few large ones.
func testLengths() []int {
	var ls []int
	for n := 0; n <= 70; n++ {
		ls = append(ls, n)
	}
	return append(ls, 127, 128, 129, 1000, 4099, 235146)
}

// r rounds to float32: a float64 operation on float32 operands followed
// by r is the correctly rounded float32 operation (53 ≥ 2·24+2 bits, so
// the double rounding is innocuous for +, -, ×, ÷ and √).
func r(x float64) float64 { return float64(float32(x)) }

// z is r for the optimizers, which flush tiny results to a zero of their
// sign as x86 does with FTZ. x86 detects tininess after rounding: a result
// is tiny when its exact value x would round below 2⁻¹²⁶ with an unbounded
// exponent, that is when |x| < 2⁻¹²⁶·(1 − 2⁻²⁵).
func z(x float64) float64 {
	if math.Abs(x) < 0x1p-126*(1-0x1p-25) {
		return math.Copysign(0, x)
	}
	return r(x)
}

// d reads a float32 operand as the optimizers do (DAZ): a subnormal is a
// zero of its sign.
func d(x float32) float64 {
	if f := float64(x); f != 0 && math.Abs(f) < 0x1p-126 {
		return math.Copysign(0, f)
	}
	return float64(x)
}

// drop is the optimizers' last step on a weight: below 2⁻⁸⁰ in magnitude
// it becomes a zero of its sign.
func drop(x float64) float64 {
	if math.Abs(x) < 0x1p-80 {
		return math.Copysign(0, x)
	}
	return x
}

// refAdam is Adam's documented formula computed one float64 operation at
// a time, each rounded to float32 with subnormals flushed (z, d).
func refAdam(w, g, m, v, mask []float32, l2, step, rbc2, b1, b2, eps float32) {
	c1, c2 := d(1-b1), d(1-b2)
	for i := range w {
		wi := d(w[i])
		gi := z(d(g[i]) + z(d(l2)*wi))
		if mask != nil {
			gi = z(gi * d(mask[i]))
		}
		mi := z(z(d(b1)*d(m[i])) + z(c1*gi))
		vi := z(z(d(b2)*d(v[i])) + z(z(c2*gi)*gi))
		den := z(z(z(math.Sqrt(vi))*d(rbc2)) + d(eps))
		m[i], v[i] = float32(mi), float32(vi)
		w[i] = float32(drop(z(wi - z(z(d(step)*mi)/den))))
	}
}

func refSGD(w, g, vel, mask []float32, l2, lr, mu float32) {
	for i := range w {
		wi := d(w[i])
		gi := z(d(g[i]) + z(d(l2)*wi))
		if mask != nil {
			gi = z(gi * d(mask[i]))
		}
		vi := z(z(d(mu)*d(vel[i])) + gi)
		vel[i] = float32(vi)
		w[i] = float32(drop(z(wi - z(d(lr)*vi))))
	}
}

func refBiasAct(z, b []float32, relu bool) {
	for i := range z {
		s := float32(float64(z[i]) + float64(b[i%len(b)]))
		if relu && (s < 0 || math.Signbit(float64(s))) {
			s = 0
		}
		z[i] = s
	}
}

func refReLUGrad(g, a []float32) {
	for i, v := range a {
		u := math.Float32bits(v)
		if u == 0 || (u > 1<<31) { // +0, or negative but not -0
			g[i] = 0
		}
	}
}

func refSumRows(dst, z []float32) {
	for j := range dst {
		s := 0.0
		for k := j; k < len(z); k += len(dst) {
			s = r(s + float64(z[k]))
		}
		dst[j] = float32(s)
	}
}

// sameBits reports whether a and b are identical, any two NaNs counting
// as identical.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// checkSame fails t at the first element where got and want differ.
func checkSame(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s[%d] = %v (%#08x), want %v (%#08x)", what, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// guard is a buffer with canaries around a slice of n elements starting
// at an offset of 0–7 floats, so kernels see every alignment and any
// write outside the slice is caught.
type guard struct {
	buf  []float32
	off  int
	n    int
	name string
}

const canary = float32(-12345.5)

func newGuard(name string, n, off int) *guard {
	g := &guard{buf: make([]float32, n+off+16), off: off + 8, n: n, name: name}
	for i := range g.buf {
		g.buf[i] = canary
	}
	return g
}

func (g *guard) s() []float32 { return g.buf[g.off : g.off+g.n : g.off+g.n] }

func (g *guard) check(t testing.TB) {
	t.Helper()
	for i, v := range g.buf {
		if (i < g.off || i >= g.off+g.n) && v != canary {
			t.Fatalf("%s: element %d outside the slice overwritten with %v", g.name, i-g.off, v)
		}
	}
}

// fill sets s to values drawn from rng: mostly normal, with a share of
// zeros of both signs, tiny and subnormal values, and large ones.
func fill(rng *rand.Rand, s []float32) {
	for i := range s {
		switch rng.IntN(16) {
		case 0:
			s[i] = 0
		case 1:
			s[i] = float32(math.Copysign(0, -1))
		case 2:
			s[i] = float32(rng.NormFloat64() * 1e-40) // subnormal
		case 3:
			s[i] = float32(rng.NormFloat64() * 1e30)
		default:
			s[i] = float32(rng.NormFloat64())
		}
	}
}

func fillAbs(rng *rand.Rand, s []float32) {
	fill(rng, s)
	for i, v := range s {
		s[i] = float32(math.Abs(float64(v)))
	}
}

func fillMask(rng *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(rng.IntN(2))
	}
}

func clone(s []float32) []float32 {
	if s == nil {
		return nil
	}
	return append([]float32(nil), s...)
}

func TestAdam(t *testing.T) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range paths() {
		use(t, p)
		for _, n := range testLengths() {
			for _, tc := range []struct {
				name   string
				masked bool
				l2     float32
			}{{"plain", false, 0}, {"l2", false, 1e-3}, {"mask", true, 0}, {"maskL2", true, 5e-4}} {
				t.Run(fmt.Sprintf("%s/%d/%s", p.name, n, tc.name), func(t *testing.T) {
					off := rng.IntN(8)
					w, g, m, v := newGuard("w", n, off), newGuard("g", n, off+1), newGuard("m", n, 7-off), newGuard("v", n, off/2)
					fill(rng, w.s())
					fill(rng, g.s())
					fill(rng, m.s())
					fillAbs(rng, v.s())
					var mask []float32
					mg := newGuard("mask", n, 3)
					if tc.masked {
						mask = mg.s()
						fillMask(rng, mask)
					}
					ww, wm, wv := clone(w.s()), clone(m.s()), clone(v.s())
					gIn, maskIn := clone(g.s()), clone(mask)
					for step := 1; step <= 3; step++ {
						bc1 := 1 - math.Pow(b1, float64(step))
						bc2 := 1 - math.Pow(b2, float64(step))
						st, rbc2 := float32(1e-3/bc1), float32(1/math.Sqrt(bc2))
						Adam(w.s(), g.s(), m.s(), v.s(), mask, tc.l2, st, rbc2, b1, b2, eps)
						refAdam(ww, gIn, wm, wv, maskIn, tc.l2, st, rbc2, b1, b2, eps)
					}
					checkSame(t, "w", w.s(), ww)
					checkSame(t, "m", m.s(), wm)
					checkSame(t, "v", v.s(), wv)
					checkSame(t, "g", g.s(), gIn)
					if tc.masked {
						checkSame(t, "mask", mask, maskIn)
					}
					for _, gd := range []*guard{w, g, m, v, mg} {
						gd.check(t)
					}
				})
			}
		}
	}
}

// TestOptimizersFlushAfterRounding pins where the optimizers flush: x86
// with FTZ detects tininess after rounding, so a product whose exact value
// is 2⁻¹²⁶·(1 − 2⁻⁴⁶) rounds to 2⁻¹²⁶ and stays, while one of exactly
// 2⁻¹²⁶·(1 − 2⁻²⁴) — which would round to 2⁻¹²⁶ in float32 too, a tie to
// even — is tiny and becomes 0. SGD with g = l2 = 0 computes
// vel = mu·vel + 0 and w = 0 − 1·vel, which is below 2⁻⁸⁰ and so a zero
// of its sign (see TestOptimizersDropTinyWeights); the vectors are 9
// long, so the AVX2 path runs one vector and one element through the Go
// loop.
func TestOptimizersFlushAfterRounding(t *testing.T) {
	fmin := float32(0x1p-126)
	cases := []struct {
		name    string
		mu, vel float32
		want    float32
	}{
		{"rounds up to the smallest normal", 1 - 0x1p-23, fmin * (1 + 0x1p-23), fmin},
		{"tiny before rounding and after", 1 - 0x1p-24, fmin, 0},
		{"subnormal operand", 1, fmin / 2, 0},
	}
	for _, p := range paths() {
		use(t, p)
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				const n = 9
				w, g, vel := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range vel {
					vel[i] = tc.vel
				}
				SGD(w, g, vel, nil, 0, 1, tc.mu)
				for i := range vel {
					if vel[i] != tc.want || math.Signbit(float64(vel[i])) || w[i] != 0 || math.Signbit(float64(w[i])) != (tc.want != 0) {
						t.Fatalf("element %d: vel = %g, w = %g, want %g and a zero of the sign of %g", i, vel[i], w[i], tc.want, -tc.want)
					}
				}
			})
		}
	}
}

// TestOptimizersDropTinyWeights pins the optimizers' last step: a weight
// whose magnitude is below 2⁻⁸⁰ becomes a zero of its sign, one of 2⁻⁸⁰
// or more (or a NaN) stays. SGD with lr = 0 leaves w as it was before
// that step; with Adam, a zero gradient and zero moments do the same.
func TestOptimizersDropTinyWeights(t *testing.T) {
	below := math.Nextafter32(0x1p-80, 0)
	nan := float32(math.NaN())
	in := []float32{0x1p-80, below, -below, -0x1p-80, 1e-30, -1e-38, 1, nan, below}
	want := []float32{0x1p-80, 0, float32(math.Copysign(0, -1)), -0x1p-80, 0, float32(math.Copysign(0, -1)), 1, nan, 0}
	for _, p := range paths() {
		use(t, p)
		for _, opt := range []string{"sgd", "adam"} {
			t.Run(p.name+"/"+opt, func(t *testing.T) {
				n := len(in)
				w, g, m, v := slices.Clone(in), make([]float32, n), make([]float32, n), make([]float32, n)
				if opt == "sgd" {
					SGD(w, g, m, nil, 0, 0, 0.9)
				} else {
					Adam(w, g, m, v, nil, 0, 1e-3, 1, 0.9, 0.999, 1e-8)
				}
				for i := range w {
					if !sameBits(w[i], want[i]) {
						t.Errorf("w[%d] = %g (%#08x) from %g, want %g (%#08x)", i, w[i], math.Float32bits(w[i]), in[i], want[i], math.Float32bits(want[i]))
					}
				}
			})
		}
	}
}

// TestAdamDeadUnitStaysNormal runs Adam on weights whose gradient is
// exactly zero (a dead unit) beside live ones for 3,000 steps, long after
// the first moment would decay through the subnormals (about 800 steps),
// and checks that no state ever holds a subnormal: they cost x86 cores a
// microcode assist per operation (measured: Adam 5× slower in training).
func TestAdamDeadUnitStaysNormal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range paths() {
		use(t, p)
		t.Run(p.name, func(t *testing.T) {
			const n = 40
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			fill(rng, w)
			for step := 1; step <= 3000; step++ {
				for i := range g {
					g[i] = 0
					if i%2 == 0 {
						g[i] = float32(rng.NormFloat64() * 1e-3)
					}
				}
				bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
				Adam(w, g, m, v, nil, 1e-6, float32(1e-3/bc1), float32(1/math.Sqrt(bc2)), 0.9, 0.999, 1e-8)
				for _, s := range [][]float32{w, m, v} {
					for i, x := range s {
						if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
							t.Fatalf("step %d: element %d is subnormal (%g)", step, i, x)
						}
					}
				}
			}
		})
	}
}

// TestAdamPruned checks that a weight pruned to zero, with its moments
// cleared and its mask entry zero, stays exactly +0.
func TestAdamPruned(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range paths() {
		use(t, p)
		t.Run(p.name, func(t *testing.T) {
			const n = 37
			w, g, m, v, mask := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			fill(rng, g)
			for i := range w {
				if i%3 != 0 {
					w[i], mask[i] = float32(rng.NormFloat64()), 1
				}
			}
			for range 5 {
				Adam(w, g, m, v, mask, 1e-4, 1e-3, 1, 0.9, 0.999, 1e-8)
			}
			for i := 0; i < n; i += 3 {
				if math.Float32bits(w[i]) != 0 || m[i] != 0 || v[i] != 0 {
					t.Errorf("pruned w[%d] = %v, m = %v, v = %v; want +0, 0, 0", i, w[i], m[i], v[i])
				}
			}
		})
	}
}

func TestSGD(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range paths() {
		use(t, p)
		for _, n := range testLengths() {
			for _, tc := range []struct {
				name   string
				masked bool
				l2, mu float32
			}{{"plain", false, 0, 0}, {"momentum", false, 0, 0.9}, {"maskL2", true, 1e-3, 0.9}} {
				t.Run(fmt.Sprintf("%s/%d/%s", p.name, n, tc.name), func(t *testing.T) {
					off := rng.IntN(8)
					w, g, vel := newGuard("w", n, off), newGuard("g", n, 7-off), newGuard("vel", n, off/3)
					fill(rng, w.s())
					fill(rng, g.s())
					fill(rng, vel.s())
					var mask []float32
					mg := newGuard("mask", n, 5)
					if tc.masked {
						mask = mg.s()
						fillMask(rng, mask)
					}
					ww, wvel, gIn := clone(w.s()), clone(vel.s()), clone(g.s())
					for range 3 {
						SGD(w.s(), g.s(), vel.s(), mask, tc.l2, 0.01, tc.mu)
						refSGD(ww, gIn, wvel, mask, tc.l2, 0.01, tc.mu)
					}
					checkSame(t, "w", w.s(), ww)
					checkSame(t, "vel", vel.s(), wvel)
					checkSame(t, "g", g.s(), gIn)
					for _, gd := range []*guard{w, g, vel, mg} {
						gd.check(t)
					}
				})
			}
		}
	}
}

// rowShapes are the (rows, width) blocks the row kernels are checked on:
// every width up to 70 at a few row counts, and the trainer's layers.
func rowShapes() [][2]int {
	var s [][2]int
	for n := 1; n <= 70; n++ {
		for _, rows := range []int{0, 1, 2, 3, 7} {
			s = append(s, [2]int{rows, n})
		}
	}
	return append(s, [2]int{128, 256}, [2]int{128, 128}, [2]int{128, 10},
		[2]int{32, 64}, [2]int{32, 32}, [2]int{32, 10}, [2]int{5, 1000})
}

func TestBiasAct(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range paths() {
		use(t, p)
		for _, relu := range []bool{true, false} {
			name, fn := "BiasAdd", BiasAdd
			if relu {
				name, fn = "BiasReLU", BiasReLU
			}
			for _, sh := range rowShapes() {
				rows, n := sh[0], sh[1]
				t.Run(fmt.Sprintf("%s/%s/%dx%d", p.name, name, rows, n), func(t *testing.T) {
					z, b := newGuard("z", rows*n, rng.IntN(8)), newGuard("b", n, rng.IntN(8))
					fill(rng, z.s())
					fill(rng, b.s())
					// Sums of exactly zero with both signs: x + -x = +0,
					// -0 + -0 = -0.
					if rows > 0 {
						z.s()[0] = -b.s()[0]
						if n > 1 {
							z.s()[n-1], b.s()[n-1] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
						}
					}
					want, bIn := clone(z.s()), clone(b.s())
					refBiasAct(want, bIn, relu)
					fn(z.s(), b.s())
					checkSame(t, "z", z.s(), want)
					checkSame(t, "b", b.s(), bIn)
					z.check(t)
					b.check(t)
					if relu {
						for i, v := range z.s() {
							if math.Signbit(float64(v)) {
								t.Fatalf("z[%d] = %v has the sign bit set", i, v)
							}
						}
					}
				})
			}
		}
	}
}

func TestReLUGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-45, -1e-45,
		float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000)}
	for _, p := range paths() {
		use(t, p)
		for _, n := range testLengths() {
			t.Run(fmt.Sprintf("%s/%d", p.name, n), func(t *testing.T) {
				g, a := newGuard("g", n, rng.IntN(8)), newGuard("a", n, rng.IntN(8))
				fill(rng, g.s())
				for i := range a.s() {
					if rng.IntN(2) == 0 {
						a.s()[i] = specials[rng.IntN(len(specials))]
					} else {
						a.s()[i] = float32(math.Abs(rng.NormFloat64()))
					}
				}
				want, aIn := clone(g.s()), clone(a.s())
				refReLUGrad(want, aIn)
				ReLUGrad(g.s(), a.s())
				for i := range want { // kept values keep their exact bits
					if math.Float32bits(g.s()[i]) != math.Float32bits(want[i]) {
						t.Fatalf("g[%d] = %#08x for a = %#08x, want %#08x", i,
							math.Float32bits(g.s()[i]), math.Float32bits(aIn[i]), math.Float32bits(want[i]))
					}
				}
				checkSame(t, "a", a.s(), aIn)
				g.check(t)
				a.check(t)
			})
		}
	}
}

// TestAliased checks the aliasing the functions allow: an input that is
// the same slice as an output (Adam's and SGD's g as w; ReLUGrad's and
// TanhGrad's a as g) is read before each element is written.
func TestAliased(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range paths() {
		use(t, p)
		for _, n := range []int{1, 8, 13, 64, 203} {
			t.Run(fmt.Sprintf("%s/%d", p.name, n), func(t *testing.T) {
				w, m, v, mask := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				fill(rng, w)
				fill(rng, m)
				fillAbs(rng, v)
				fillMask(rng, mask)
				ww, wm, wv := clone(w), clone(m), clone(v)
				refAdam(ww, clone(w), wm, wv, mask, 1e-3, 1e-3, 1.1, 0.9, 0.999, 1e-8)
				Adam(w, w, m, v, mask, 1e-3, 1e-3, 1.1, 0.9, 0.999, 1e-8)
				checkSame(t, "Adam w", w, ww)
				checkSame(t, "Adam m", m, wm)
				checkSame(t, "Adam v", v, wv)

				ww, wm = clone(w), clone(m)
				refSGD(ww, clone(w), wm, mask, 1e-3, 0.1, 0.9)
				SGD(w, w, m, mask, 1e-3, 0.1, 0.9)
				checkSame(t, "SGD w", w, ww)
				checkSame(t, "SGD vel", m, wm)

				a := clone(v)
				for i := range a {
					if rng.IntN(2) == 0 {
						a[i] = 0
					}
				}
				want := clone(a) // kept where non-zero, already +0 elsewhere
				ReLUGrad(a, a)
				checkSame(t, "ReLUGrad", a, want)

				want = clone(w)
				for i, x := range want {
					want[i] = float32(float64(x) * r(1-r(float64(x)*float64(x))))
				}
				TanhGrad(w, w)
				checkSame(t, "TanhGrad", w, want)
			})
		}
	}
}

func TestSumRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range paths() {
		use(t, p)
		for _, sh := range rowShapes() {
			rows, n := sh[0], sh[1]
			t.Run(fmt.Sprintf("%s/%dx%d", p.name, rows, n), func(t *testing.T) {
				dst, z := newGuard("dst", n, rng.IntN(8)), newGuard("z", rows*n, rng.IntN(8))
				fill(rng, z.s())
				fill(rng, dst.s()) // overwritten, not accumulated into
				if rows > 0 {
					z.s()[0] = float32(math.Copysign(0, -1)) // +0 + -0 = +0
				}
				want, zIn := make([]float32, n), clone(z.s())
				refSumRows(want, zIn)
				SumRows(dst.s(), z.s())
				checkSame(t, "dst", dst.s(), want)
				checkSame(t, "z", z.s(), zIn)
				dst.check(t)
				z.check(t)
			})
		}
	}
}

// TestSumRowsOrder checks that rows are summed in order, which float32
// rounding makes observable: 1e8 + 1 + 1 + … stays 1e8 one row at a time.
func TestSumRowsOrder(t *testing.T) {
	for _, p := range paths() {
		use(t, p)
		t.Run(p.name, func(t *testing.T) {
			const rows, n = 16, 9
			z := make([]float32, rows*n)
			for i := range z {
				z[i] = 1
			}
			for j := range n {
				z[j] = 1e8
			}
			dst := make([]float32, n)
			SumRows(dst, z)
			for j, v := range dst {
				if v != 1e8 {
					t.Errorf("dst[%d] = %v, want 1e8 (rows summed in order)", j, v)
				}
			}
		})
	}
}

// kernelCase is the input of every kernel: flat vectors of n elements
// for Adam, SGD and ReLUGrad, a block of rows of width len(b) for the
// row kernels, and the optimizers' scalars.
type kernelCase struct {
	w, g, m, v, mask, a []float32
	z, b                []float32
	l2, lr, mu          float32
}

// kernelOut holds every kernel's outputs.
type kernelOut struct {
	adamW, adamM, adamV, sgdW, sgdVel, grad, relu, add, sum, tanh, tgrad []float32
}

// runAll runs every kernel on copies of c's inputs with the kernels of p,
// checking that inputs stay unchanged.
func runAll(t testing.TB, p path, c *kernelCase) kernelOut {
	t.Helper()
	use(t, p)
	o := kernelOut{adamW: clone(c.w), adamM: clone(c.m), adamV: clone(c.v),
		sgdW: clone(c.w), sgdVel: clone(c.m), grad: clone(c.g),
		relu: clone(c.z), add: clone(c.z), sum: make([]float32, len(c.b)),
		tanh: clone(c.z), tgrad: clone(c.g)}
	ins := [][]float32{clone(c.g), clone(c.mask), clone(c.a), clone(c.b)}
	Adam(o.adamW, c.g, o.adamM, o.adamV, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
	SGD(o.sgdW, c.g, o.sgdVel, c.mask, c.l2, c.lr, c.mu)
	ReLUGrad(o.grad, c.a)
	BiasReLU(o.relu, c.b)
	BiasAdd(o.add, c.b)
	SumRows(o.sum, c.z)
	BiasTanh(o.tanh, c.b)
	TanhGrad(o.tgrad, c.a)
	for i, s := range [][]float32{c.g, c.mask, c.a, c.b} {
		checkSame(t, fmt.Sprintf("input %d", i), s, ins[i])
	}
	return o
}

// compareOut requires identical bits from two paths, with one documented
// latitude: where an operation meets two NaNs, which one propagates is
// up to the Go compiler's operand order, so NaNs compare equal whatever
// their payload and sign, and a BiasReLU sum of two NaNs may come out as
// NaN on one path and +0 on the other.
func compareOut(t testing.TB, c *kernelCase, got, want kernelOut) {
	t.Helper()
	checkSame(t, "Adam w", got.adamW, want.adamW)
	checkSame(t, "Adam m", got.adamM, want.adamM)
	checkSame(t, "Adam v", got.adamV, want.adamV)
	checkSame(t, "SGD w", got.sgdW, want.sgdW)
	checkSame(t, "SGD vel", got.sgdVel, want.sgdVel)
	for i := range got.grad { // the bit test: no latitude at all
		if math.Float32bits(got.grad[i]) != math.Float32bits(want.grad[i]) {
			t.Fatalf("ReLUGrad g[%d] = %#08x, want %#08x", i, math.Float32bits(got.grad[i]), math.Float32bits(want.grad[i]))
		}
	}
	checkSame(t, "BiasAdd z", got.add, want.add)
	checkSame(t, "SumRows dst", got.sum, want.sum)
	if want.tanh != nil {
		checkSame(t, "BiasTanh z", got.tanh, want.tanh)
		checkSame(t, "TanhGrad g", got.tgrad, want.tgrad)
	}
	for i := range got.relu {
		x, y := got.relu[i], want.relu[i]
		if isNaN(c.z[i]) && isNaN(c.b[i%len(c.b)]) && (isNaN(x) || x == 0) && (isNaN(y) || y == 0) {
			continue
		}
		if !sameBits(x, y) {
			t.Fatalf("BiasReLU z[%d] = %#08x, want %#08x", i, math.Float32bits(x), math.Float32bits(y))
		}
	}
}

func isNaN(x float32) bool { return x != x }

// agree runs c on both paths, when the CPU has both, and on the generic
// path alone otherwise (which still checks for crashes and that inputs
// stay unchanged).
func agree(t testing.TB, c *kernelCase) {
	t.Helper()
	ps := paths()
	want := runAll(t, ps[0], c)
	for _, p := range ps[1:] {
		compareOut(t, c, runAll(t, p, c), want)
	}
}

// special returns a float32 from a pool of values that stress IEEE
// corner cases, or a random bit pattern.
func special(rng *rand.Rand) float32 {
	pool := []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
		0x7fa00001, 0xffa00001, 0x00000001, 0x80000001, 0x007fffff, 0x7f7fffff, 0xff7fffff, 0x3f800000}
	if rng.IntN(3) == 0 {
		return math.Float32frombits(rng.Uint32())
	}
	return math.Float32frombits(pool[rng.IntN(len(pool))])
}

// TestPathsAgree runs both paths on IEEE corner cases (NaNs with payloads
// and either sign, infinities, signed zeros, subnormals, the largest
// floats) and random bit patterns.
func TestPathsAgree(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 path on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	gen := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = special(rng)
		}
		return s
	}
	for _, sh := range [][2]int{{1, 8}, {2, 19}, {8, 8}, {3, 64}, {7, 29}, {2, 203}} {
		rows, width := sh[0], sh[1]
		for k := range 20 {
			t.Run(fmt.Sprintf("%dx%d/%d", rows, width, k), func(t *testing.T) {
				n := rows * width
				c := &kernelCase{w: gen(n), g: gen(n), m: gen(n), v: gen(n), mask: gen(n), a: gen(n),
					z: gen(n), b: gen(width), l2: special(rng), lr: special(rng), mu: special(rng)}
				if k%2 == 0 {
					c.mask = nil
				}
				agree(t, c)
			})
		}
	}
}

func TestPanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	cases := []struct {
		name string
		call func()
		want string // "" for no panic
	}{
		{"AdamEmpty", func() { Adam(nil, nil, nil, nil, nil, 0, 1, 1, 0.9, 0.999, 1e-8) }, ""},
		{"AdamEmptyMask", func() { Adam(s(0), s(0), s(0), s(0), s(0), 0, 1, 1, 0.9, 0.999, 1e-8) }, ""},
		{"AdamG", func() { Adam(s(9), s(8), s(9), s(9), nil, 0, 1, 1, 0.9, 0.999, 1e-8) }, "vec: Adam: len(g) = 8, want len(w) = 9"},
		{"AdamM", func() { Adam(s(9), s(9), s(10), s(9), nil, 0, 1, 1, 0.9, 0.999, 1e-8) }, "vec: Adam: len(m) = 10"},
		{"AdamV", func() { Adam(s(9), s(9), s(9), s(0), nil, 0, 1, 1, 0.9, 0.999, 1e-8) }, "vec: Adam: len(v) = 0"},
		{"AdamMask", func() { Adam(s(9), s(9), s(9), s(9), s(0), 0, 1, 1, 0.9, 0.999, 1e-8) }, "vec: Adam: len(mask) = 0"},
		{"SGDEmpty", func() { SGD(nil, nil, nil, nil, 0, 1, 0) }, ""},
		{"SGDG", func() { SGD(s(3), s(4), s(3), nil, 0, 1, 0) }, "vec: SGD: len(g) = 4, want len(w) = 3"},
		{"SGDVel", func() { SGD(s(3), s(3), s(2), nil, 0, 1, 0) }, "vec: SGD: len(vel) = 2"},
		{"SGDMask", func() { SGD(s(3), s(3), s(3), s(30), 0, 1, 0) }, "vec: SGD: len(mask) = 30"},
		{"BiasReLUEmpty", func() { BiasReLU(nil, nil) }, ""},
		{"BiasReLUNoRows", func() { BiasReLU(nil, s(5)) }, ""},
		{"BiasReLURagged", func() { BiasReLU(s(17), s(8)) }, "vec: BiasReLU: block of 17 elements is not a whole number of rows of 8"},
		{"BiasReLUNoBias", func() { BiasReLU(s(3), nil) }, "vec: BiasReLU: block of 3 elements"},
		{"BiasAddRagged", func() { BiasAdd(s(10), s(3)) }, "vec: BiasAdd: block of 10 elements"},
		{"BiasAddNoRows", func() { BiasAdd(nil, s(3)) }, ""},
		{"BiasTanhRagged", func() { BiasTanh(s(10), s(4)) }, "vec: BiasTanh: block of 10 elements is not a whole number of rows of 4"},
		{"BiasTanhEmpty", func() { BiasTanh(nil, nil) }, ""},
		{"TanhGradA", func() { TanhGrad(s(8), s(7)) }, "vec: TanhGrad: len(a) = 7, want len(g) = 8"},
		{"TanhGradEmpty", func() { TanhGrad(nil, nil) }, ""},
		{"ReLUGradEmpty", func() { ReLUGrad(nil, nil) }, ""},
		{"ReLUGradA", func() { ReLUGrad(s(8), s(16)) }, "vec: ReLUGrad: len(a) = 16, want len(g) = 8"},
		{"SumRowsEmpty", func() { SumRows(nil, nil) }, ""},
		{"SumRowsNoRows", func() { SumRows(s(12), nil) }, ""},
		{"SumRowsRagged", func() { SumRows(s(12), s(25)) }, "vec: SumRows: block of 25 elements is not a whole number of rows of 12"},
		{"SumRowsNoDst", func() { SumRows(nil, s(1)) }, "vec: SumRows: block of 1 elements"},
	}
	for _, p := range paths() {
		use(t, p)
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				got := func() (msg string) {
					defer func() {
						if e := recover(); e != nil {
							msg = fmt.Sprint(e)
							if msg == "" {
								msg = "(empty panic)"
							}
						}
					}()
					tc.call()
					return ""
				}()
				switch {
				case tc.want == "" && got != "":
					t.Errorf("panic %q, want none", got)
				case tc.want != "" && !strings.HasPrefix(got, tc.want):
					t.Errorf("panic %q, want %q…", got, tc.want)
				}
			})
		}
	}
}

func TestSumRowsZeroRows(t *testing.T) {
	for _, p := range paths() {
		use(t, p)
		dst := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
		SumRows(dst, nil)
		for j, v := range dst {
			if math.Float32bits(v) != 0 {
				t.Errorf("%s: dst[%d] = %v, want +0", p.name, j, v)
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	const n = 1003
	s := func() []float32 { return make([]float32, n) }
	w, g, m, v, mask := s(), s(), s(), s(), s()
	z := make([]float32, 17*59)
	b := make([]float32, 59)
	for _, p := range paths() {
		use(t, p)
		for _, tc := range []struct {
			name string
			f    func()
		}{
			{"Adam", func() { Adam(w, g, m, v, nil, 0, 1e-3, 1, 0.9, 0.999, 1e-8) }},
			{"AdamMask", func() { Adam(w, g, m, v, mask, 1e-4, 1e-3, 1, 0.9, 0.999, 1e-8) }},
			{"SGD", func() { SGD(w, g, m, mask, 1e-4, 1e-3, 0.9) }},
			{"BiasReLU", func() { BiasReLU(z, b) }},
			{"BiasAdd", func() { BiasAdd(z, b) }},
			{"ReLUGrad", func() { ReLUGrad(g, w) }},
			{"SumRows", func() { SumRows(b, z) }},
			{"BiasTanh", func() { BiasTanh(z, b) }},
			{"TanhGrad", func() { TanhGrad(g, w) }},
			{"Path", func() { _ = Path() }},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				if a := testing.AllocsPerRun(10, tc.f); a != 0 {
					t.Errorf("%v allocations per call, want 0", a)
				}
			})
		}
	}
}

func TestPath(t *testing.T) {
	for _, p := range paths() {
		use(t, p)
		if got := Path(); got != p.name {
			t.Errorf("Path() = %q with the %s kernels", got, p.name)
		}
	}
}

// TestConcurrent runs the kernels from several goroutines on their own
// data (for the race detector) and checks each result against a
// sequential run: same inputs, same bits.
func TestConcurrent(t *testing.T) {
	const workers, n, width = 4, 777, 37
	rng := rand.New(rand.NewPCG(15, 16))
	type job struct{ w, g, m, v, z, b, sum []float32 }
	newJob := func() job {
		j := job{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n),
			make([]float32, 21*width), make([]float32, width), make([]float32, width)}
		fill(rng, j.w)
		fill(rng, j.g)
		fill(rng, j.m)
		fillAbs(rng, j.v)
		fill(rng, j.z)
		fill(rng, j.b)
		return j
	}
	run := func(j job) {
		for range 3 {
			Adam(j.w, j.g, j.m, j.v, nil, 1e-4, 1e-3, 1.2, 0.9, 0.999, 1e-8)
			BiasReLU(j.z, j.b)
			SumRows(j.sum, j.z)
			ReLUGrad(j.z, j.z)
		}
	}
	jobs := make([]job, workers)
	want := make([]job, workers)
	for i := range jobs {
		jobs[i] = newJob()
		c := jobs[i]
		want[i] = job{clone(c.w), clone(c.g), clone(c.m), clone(c.v), clone(c.z), clone(c.b), clone(c.sum)}
		run(want[i])
	}
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() { run(jobs[i]) })
	}
	wg.Wait()
	for i := range jobs {
		checkSame(t, "w", jobs[i].w, want[i].w)
		checkSame(t, "m", jobs[i].m, want[i].m)
		checkSame(t, "v", jobs[i].v, want[i].v)
		checkSame(t, "z", jobs[i].z, want[i].z)
		checkSame(t, "sum", jobs[i].sum, want[i].sum)
	}
}
