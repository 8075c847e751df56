package search

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkCheck measures a worker's validation of one assignment.
func BenchmarkCheck(b *testing.B) {
	s := sweepSpace(b)
	p := validParams()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkASHANext measures one scheduling decision over histories of
// growing size.
func BenchmarkASHANext(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		a := &ASHA{MaxResource: 81, Direction: Maximize}
		rng := rand.New(rand.NewPCG(1, 1))
		var h []Trial
		for i := range n {
			rung := 0
			for rung < 4 && rng.IntN(3) == 0 {
				rung++
			}
			h = append(h, Trial{ID: strconv.Itoa(i), State: Complete, Values: []float64{rng.Float64()}, Rung: rung})
		}
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Next(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHypervolume measures the exact hypervolume of random fronts.
func BenchmarkHypervolume(b *testing.B) {
	for _, m := range []int{2, 3} {
		for _, n := range []int{100, 1000} {
			rng := rand.New(rand.NewPCG(2, 2))
			pts := make([][]float64, n)
			ref := make([]float64, m)
			dirs := make([]Direction, m)
			for j := range ref {
				ref[j] = 1
			}
			for i := range pts {
				pts[i] = make([]float64, m)
				for j := range pts[i] {
					pts[i][j] = rng.Float64()
				}
			}
			b.Run(fmt.Sprintf("objectives=%d/points=%d", m, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Hypervolume(pts, ref, dirs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSamplers compares one proposal of each sampler on the sweep
// space with 200 complete trials; read the TPE rows as ratios to Random.
func BenchmarkSamplers(b *testing.B) {
	s := sweepSpace(b)
	rng := rand.New(rand.NewPCG(1, 1))
	var h []Trial
	for i := range 200 {
		p, _ := Random{}.Sample(s, h, NewRand(1, i))
		h = append(h, Trial{ID: strconv.Itoa(i), Params: p, State: Complete, Values: []float64{rng.Float64()}})
	}
	for _, sc := range []struct {
		name string
		s    Sampler
	}{{"random", Random{}}, {"sobol", &Sobol{}}, {"grid", &Grid{Points: 2}}, {"tpe", &TPE{}}, {"tpe-multivariate", &TPE{Multivariate: true}}} {
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := sc.s.Sample(s, h, NewRand(3, i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
