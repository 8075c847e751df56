package local

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
)

// moSweep searches architecture and compression for (accuracy ↑, size ↓).
func moSweep(tb testing.TB, name, sampler string, seed uint64, n int) *configs.Sweep {
	sw := &configs.Sweep{
		Name: name, Seed: seed, Objective: "accuracy,size", Parallelism: 4,
		Data: configs.SweepData{Source: "digits", Header: "auto", Folds: 3, TestFraction: 0.2, SplitSeed: 1},
		Base: trainer.DefaultConfig(),
		Space: map[string]any{
			"layers":   map[string]any{"type": "int", "low": 1, "high": 2},
			"width":    map[string]any{"type": "int", "low": 8, "high": 256, "log": true, "per": "layers"},
			"sparsity": map[string]any{"type": "float", "low": 0, "high": 0.95},
			"bits":     []any{2, 4, 8, 32},
			"qat":      map[string]any{"type": "bool", "when": map[string]any{"param": "bits", "op": "lt", "value": 32}},
		},
		Sampler: configs.SamplerConfig{Name: sampler, Startup: 20},
		Budget:  configs.Budget{Trials: n},
	}
	sw.Base.Epochs, sw.Base.FineTune, sw.Base.Schedule = 15, 5, "agp"
	sw.Ensemble.Enabled = false
	if err := sw.Validate(); err != nil {
		tb.Fatal(err)
	}
	return sw
}

// hypervolume of the (accuracy, size) front of a finished sweep, with
// reference point accuracy 0.5, size 128 KiB (log2 bytes for size, so
// that a halving counts the same at every scale).
func hypervolume(tb testing.TB, s *coordinator.Sweep) float64 {
	var pts [][]float64
	for _, r := range s.Records {
		if r.Metrics != nil {
			pts = append(pts, []float64{r.Metrics.CVAccuracy, math.Log2(float64(r.Metrics.SizeBytes))})
		}
	}
	hv, err := search.Hypervolume(pts, []float64{0.5, 17}, []search.Direction{search.Maximize, search.Minimize})
	if err != nil {
		tb.Fatal(err)
	}
	return hv
}

// BenchmarkMultiObjective compares the (accuracy, size) front's
// hypervolume after 100 real trials: MOTPE against random search.
func BenchmarkMultiObjective(b *testing.B) {
	const n = 100
	var mo, rnd []float64
	for b.Loop() {
		for seed := uint64(1); seed <= 3; seed++ {
			for _, sampler := range []string{"motpe", "random"} {
				c, err := Start(context.Background(), Options{Dir: b.TempDir(), Workers: 2})
				if err != nil {
					b.Fatal(err)
				}
				sw := moSweep(b, fmt.Sprintf("mo-%s-%d", sampler, seed), sampler, seed, n)
				if err := coordinator.Submit(context.Background(), c.Client, sw); err != nil {
					b.Fatal(err)
				}
				s := waitDoneB(b, c, sw.Name)
				hv := hypervolume(b, s)
				b.Logf("seed %d %-6s hypervolume %.4f", seed, sampler, hv)
				if sampler == "motpe" {
					mo = append(mo, hv)
				} else {
					rnd = append(rnd, hv)
				}
				c.Close()
			}
		}
	}
	med := func(x []float64) float64 { y := slices.Clone(x); slices.Sort(y); return y[len(y)/2] }
	b.ReportMetric(med(mo), "hv-motpe")
	b.ReportMetric(med(rnd), "hv-random")
}

func waitDoneB(tb testing.TB, c *Cluster, name string) *coordinator.Sweep {
	ctx := context.Background()
	if _, err := coordinator.Wait(ctx, c.Client, name, nil); err != nil {
		tb.Fatal(err)
	}
	s, err := coordinator.Read(ctx, c.Client, name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
