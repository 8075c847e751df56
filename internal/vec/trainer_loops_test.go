// The compiler fuses x*y+z into an FMA on GOAMD64=v3 and on most other
// architectures, which changes the rounding of the trainer's original
// loops (not of this package's kernels, which forbid fusion); compare
// bit for bit only where it does not.

//go:build amd64 && !amd64.v3

package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTrainerLoops checks that every path gives exactly the results of
// the trainer's original scalar loops, on ordinary training values and on
// IEEE corner cases. Adam and SGD are the exception: they flush
// subnormals, which the original loops did not, so they are checked
// against refAdam and refSGD, and against the original loops only on the
// ordinary values, with the subnormals among them replaced by zeros.
func TestTrainerLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, p := range paths() {
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {32, 10}, {32, 64}, {5, 203}, {128, 256}} {
			for _, specials := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%dx%d/special=%v", p.name, sh[0], sh[1], specials), func(t *testing.T) {
					rows, width := sh[0], sh[1]
					n := rows * width
					gen := func(n int, abs bool) []float32 {
						s := make([]float32, n)
						switch {
						case specials:
							for i := range s {
								s[i] = special(rng)
							}
						case abs:
							fillAbs(rng, s)
						default:
							fill(rng, s)
						}
						return s
					}
					mask := make([]float32, n)
					fillMask(rng, mask)
					c := &kernelCase{w: gen(n, false), g: gen(n, false), m: gen(n, false), v: gen(n, true),
						mask: mask, a: gen(n, true), z: gen(n, false), b: gen(width, false), l2: 1e-4, lr: 1e-3, mu: 0.9}
					got := runAll(t, p, c)
					want := kernelOut{adamW: clone(c.w), adamM: clone(c.m), adamV: clone(c.v),
						sgdW: clone(c.w), sgdVel: clone(c.m), grad: clone(c.g),
						relu: clone(c.z), add: clone(c.z), sum: make([]float32, width)}
					refAdam(want.adamW, c.g, want.adamM, want.adamV, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
					refSGD(want.sgdW, c.g, want.sgdVel, c.mask, c.l2, c.lr, c.mu)
					if !specials {
						checkOriginalOptimizers(t, p, c)
					}
					scalarReLUGrad(want.grad, c.a)
					scalarBiasAct(want.relu, c.b, true, false)
					scalarBiasAct(want.add, c.b, false, true)
					scalarSumRows(want.sum, c.z)
					want.tanh, want.tgrad = clone(c.z), clone(c.g)
					scalarBiasAct(want.tanh, c.b, false, false)
					scalarTanhGrad(want.tgrad, c.a)
					compareOut(t, c, got, want)
				})
			}
		}
	}
}

// checkOriginalOptimizers runs Adam and SGD on c's vectors with every
// subnormal replaced by a zero and compares them with the trainer's
// original loops, where no result is then near enough to 2⁻¹²⁶ to be
// flushed.
func checkOriginalOptimizers(t *testing.T, p path, c *kernelCase) {
	t.Helper()
	normal := func(s []float32) []float32 {
		s = clone(s)
		for i, x := range s {
			if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
				s[i] = 0
			}
		}
		return s
	}
	w, g, m, v := normal(c.w), normal(c.g), normal(c.m), normal(c.v)
	gotW, gotM, gotV := clone(w), clone(m), clone(v)
	wantW, wantM, wantV := clone(w), clone(m), clone(v)
	use(t, p)
	Adam(gotW, g, gotM, gotV, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
	scalarAdam(wantW, g, wantM, wantV, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
	checkSame(t, "Adam (original loop) w", gotW, wantW)
	checkSame(t, "Adam (original loop) m", gotM, wantM)
	checkSame(t, "Adam (original loop) v", gotV, wantV)
	gotW, gotVel := clone(w), clone(m)
	wantW, wantVel := clone(w), clone(m)
	SGD(gotW, g, gotVel, c.mask, c.l2, c.lr, c.mu)
	scalarSGD(wantW, g, wantVel, c.mask, c.l2, c.lr, c.mu)
	checkSame(t, "SGD (original loop) w", gotW, wantW)
	checkSame(t, "SGD (original loop) vel", gotVel, wantVel)
}
