package ensemble

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCaruana is the bar: selection over 100 members × 10,000
// samples × 10 classes (50 rounds from 5 sorted members) in ≤ 1 s.
func BenchmarkCaruana(b *testing.B) {
	p := makeProblem(b, synth{n: 10000, c: 10, k: 5, m: 100, seed: 1})
	for _, metric := range []Metric{MetricLogLoss, MetricAccuracy} {
		b.Run(metric.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Caruana{Metric: metric}).Fit(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFit sweeps every method over pool sizes. Stacking is capped at
// DefaultStackingMembers members, as DefaultSpecs caps it.
func BenchmarkFit(b *testing.B) {
	for _, size := range []struct{ m, n int }{{20, 2000}, {100, 10000}} {
		p := makeProblem(b, synth{n: size.n, c: 10, k: 5, m: size.m, seed: 2})
		fitters := []struct {
			name string
			f    Fitter
		}{
			{"average", Average{}},
			{"vote", Vote{}},
			{"inverse-error", InverseError{}},
			{"optimized", Optimized{}},
			{"caruana", Caruana{}},
			{"caruana-bagged", Caruana{Bags: 10, Seed: 1}},
			{"stacking", Stacking{Limits: Limits{MaxMembers: DefaultStackingMembers}}},
		}
		for _, f := range fitters {
			b.Run(fmt.Sprintf("%s/m=%d,n=%d", f.name, size.m, size.n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.f.Fit(context.Background(), p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNestedCV measures a whole nested CV (5 folds) of Caruana.
func BenchmarkNestedCV(b *testing.B) {
	p := makeProblem(b, synth{n: 10000, c: 10, k: 5, m: 100, seed: 3})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NestedCV(context.Background(), p, Caruana{}); err != nil {
			b.Fatal(err)
		}
	}
}
