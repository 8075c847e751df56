package vec

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var exhaustive = flag.Bool("vec.exhaustive", false, "check tanh on every float32 (minutes)")

// ulps is the distance between a and b in units in the last place, NaNs
// of any kind being equal to each other and far from everything else.
func ulps(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	key := func(x float32) int64 { // monotonic in x, -0 and +0 adjacent
		u := int64(math.Float32bits(x))
		if u >= 1<<31 {
			return -(u - 1<<31) - 1
		}
		return u
	}
	d := key(a) - key(b)
	if (a == 0 && b == 0) || d == 0 {
		return 0
	}
	return max(d, -d)
}

func refTanh(x float32) float32 { return float32(math.Tanh(float64(x))) }

// tanhStats compares BiasTanh with a -0 bias, on the current path,
// against math.Tanh over the float32s with bit patterns lo, lo+step, …
// below hi: how many were compared, how many differ in any bit (NaNs
// aside), and the worst distance in ulps.
func tanhStats(t *testing.T, lo, hi, step uint64) (n, differ int64, worst float32, worstUlps int64) {
	t.Helper()
	const chunk = 1 << 16
	z, want := make([]float32, chunk), make([]float32, chunk)
	zero := make([]float32, chunk) // -0: x + -0 is x, signed zeros included
	for i := range zero {
		zero[i] = float32(math.Copysign(0, -1))
	}
	for u := lo; u < hi; {
		k := 0
		for ; k < chunk && u < hi; k, u = k+1, u+step {
			z[k] = math.Float32frombits(uint32(u))
			want[k] = refTanh(z[k])
		}
		in := append([]float32(nil), z[:k]...)
		BiasTanh(z[:k], zero[:k])
		for i := range k {
			d := ulps(z[i], want[i])
			n++
			if math.Float32bits(z[i]) != math.Float32bits(want[i]) && !(isNaN(z[i]) && isNaN(want[i])) {
				differ++
			}
			if d > worstUlps {
				worst, worstUlps = in[i], d
			}
		}
	}
	return n, differ, worst, worstUlps
}

// TestTanhAccuracy checks BiasTanh's tanh against math.Tanh on 2²¹
// float32s spread evenly over all bit patterns, plus the neighbourhoods
// of the points where k changes or the result reaches 1: the documented
// bound is 1 ulp, and with Go 1.26's math.Tanh every float32 gives
// exactly float32(math.Tanh(x)) (TestTanhExhaustive), so any difference
// is reported.
func TestTanhAccuracy(t *testing.T) {
	for _, p := range paths() {
		use(t, p)
		t.Run(p.name, func(t *testing.T) {
			n, differ, worst, worstUlps := tanhStats(t, 0, 1<<32, 1<<11+1)
			for _, x := range []float32{ln2Hi / 4, 3 * ln2Hi / 4, tanhClamp / 2, 9.01, 1e-4, 1.2e-38} {
				u := uint64(math.Float32bits(x))
				for _, sign := range []uint64{0, 1 << 31} {
					n2, d2, w2, wu2 := tanhStats(t, sign|(u-1000), sign|(u+1000), 1)
					n, differ = n+n2, differ+d2
					if wu2 > worstUlps {
						worst, worstUlps = w2, wu2
					}
				}
			}
			t.Logf("%d of %d differ from math.Tanh; worst %d ulp at %v", differ, n, worstUlps, worst)
			if worstUlps > 1 {
				t.Errorf("tanh(%v) is %d ulp from math.Tanh, want ≤ 1", worst, worstUlps)
			}
			if differ > 0 {
				t.Errorf("%d of %d values differ from float32(math.Tanh(x)), want none", differ, n)
			}
		})
	}
}

// TestTanhExhaustive checks every float32 (run with -vec.exhaustive).
func TestTanhExhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("run with -vec.exhaustive")
	}
	for _, p := range paths() {
		use(t, p)
		t.Run(p.name, func(t *testing.T) {
			n, differ, worst, worstUlps := tanhStats(t, 0, 1<<32, 1)
			t.Logf("%d of %d differ from math.Tanh; worst %d ulp at %v", differ, n, worstUlps, worst)
			if worstUlps > 1 {
				t.Errorf("tanh(%v) is %d ulp from math.Tanh, want ≤ 1", worst, worstUlps)
			}
			if differ > 0 {
				t.Errorf("%d of %d values differ from float32(math.Tanh(x)), want none", differ, n)
			}
		})
	}
}

// TestTanhSpecial checks the values tanh must get exactly.
func TestTanhSpecial(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	cases := []struct{ x, want float32 }{
		{0, 0}, {negZero, negZero}, {inf, 1}, {-inf, -1}, {1e-30, 1e-30}, {-1e-45, -1e-45},
		{9.1, 1}, {-20, -1}, {math.MaxFloat32, 1},
	}
	for _, p := range paths() {
		use(t, p)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%v", p.name, tc.x), func(t *testing.T) {
				z := make([]float32, 9)
				for i := range z {
					z[i] = tc.x
				}
				b := make([]float32, 9)
				for i := range b {
					b[i] = negZero // x + -0 is x, signed zeros included
				}
				BiasTanh(z, b)
				for i, v := range z {
					if math.Float32bits(v) != math.Float32bits(tc.want) {
						t.Fatalf("z[%d] = tanh(%v) = %v, want %v", i, tc.x, v, tc.want)
					}
				}
			})
		}
		t.Run(p.name+"/NaN", func(t *testing.T) {
			nan := math.Float32frombits(0x7fc01234)
			z := []float32{nan, 1, nan, 2, 3, 4, 5, 6, 7, nan}
			BiasTanh(z, make([]float32, len(z)))
			for i, v := range z {
				if isNaN(v) != (i == 0 || i == 2 || i == 9) {
					t.Errorf("z[%d] = %v", i, v)
				}
			}
			if math.Float32bits(z[0]) != 0x7fc01234 {
				t.Errorf("NaN payload %#08x, want 0x7fc01234", math.Float32bits(z[0]))
			}
		})
	}
}

// TestBiasTanh checks BiasTanh and TanhGrad over all widths and guards,
// against tanh32 and the documented TanhGrad formula.
func TestBiasTanh(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, p := range paths() {
		use(t, p)
		for _, sh := range rowShapes() {
			rows, n := sh[0], sh[1]
			t.Run(fmt.Sprintf("%s/%dx%d", p.name, rows, n), func(t *testing.T) {
				z, b := newGuard("z", rows*n, rng.IntN(8)), newGuard("b", n, rng.IntN(8))
				fill(rng, z.s())
				fill(rng, b.s())
				for i := range z.s() {
					if rng.IntN(2) == 0 {
						z.s()[i] = float32(rng.NormFloat64() * 3)
					}
				}
				want, bIn := clone(z.s()), clone(b.s())
				for i := range want {
					want[i] = tanh32(want[i] + bIn[i%n])
					if d := ulps(want[i], refTanh(float32(float64(z.s()[i])+float64(bIn[i%n])))); d > 1 {
						t.Fatalf("tanh32 is %d ulp off at %v", d, z.s()[i]+bIn[i%n])
					}
				}
				BiasTanh(z.s(), b.s())
				checkSame(t, "z", z.s(), want)
				checkSame(t, "b", b.s(), bIn)
				z.check(t)
				b.check(t)

				g := newGuard("g", rows*n, rng.IntN(8))
				fill(rng, g.s())
				wantG := clone(g.s())
				for i, a := range want {
					wantG[i] = float32(float64(wantG[i]) * r(1-r(float64(a)*float64(a))))
				}
				TanhGrad(g.s(), z.s())
				checkSame(t, "g", g.s(), wantG)
				checkSame(t, "a", z.s(), want)
				g.check(t)
			})
		}
	}
}
