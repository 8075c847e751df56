// The compiler fuses x*y+z into an FMA on GOAMD64=v3 and on most other
// architectures, which changes the rounding of the trainer's original
// loops (not of this package's kernels, which forbid fusion); compare
// bit for bit only where it does not.

//go:build amd64 && !amd64.v3

package vec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTrainerLoops checks that every path gives exactly the results of
// the trainer's original scalar loops, on ordinary training values and on
// IEEE corner cases.
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
					scalarAdam(want.adamW, c.g, want.adamM, want.adamV, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
					scalarSGD(want.sgdW, c.g, want.sgdVel, c.mask, c.l2, c.lr, c.mu)
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
