package local

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/worker"
)

// noop is a trainer that does nothing: it measures dispatch alone.
type noop struct{ d time.Duration }

func (n noop) Execute(ctx context.Context, j *worker.Job) (*worker.Outcome, error) {
	if n.d > 0 {
		time.Sleep(n.d)
	}
	return &worker.Outcome{Metrics: &wire.Metrics{CVAccuracy: 0.5, Folds: []float64{0.5, 0.5, 0.5}, SizeBytes: 1000, Bits: 32}}, nil
}

// dispatch runs a member-only sweep of n trials on a local cluster with
// the given executor and returns the trials per second from submission to
// the end.
func dispatch(b *testing.B, workers, conc, parallel, n int, x worker.Executor) float64 {
	ctx := context.Background()
	c, err := Start(ctx, Options{Dir: b.TempDir(), Workers: workers, Concurrency: conc, Executor: x})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sw := smallSweepB(b, "bench")
	sw.Budget.Trials, sw.Parallelism = n, parallel
	sw.Ensemble.Enabled, sw.Ensemble.Distill = false, false
	start := time.Now()
	if err := coordinator.Submit(ctx, c.Client, sw); err != nil {
		b.Fatal(err)
	}
	st, err := coordinator.Wait(ctx, c.Client, sw.Name, nil)
	if err != nil || st.State != wire.SweepDone {
		b.Fatalf("sweep: %v %+v", err, st)
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkDispatch measures trials per second through NATS and etcd with
// a trainer that does nothing.
func BenchmarkDispatch(b *testing.B) {
	for _, w := range []int{4, 16} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			var rate float64
			for b.Loop() {
				rate = dispatch(b, w, 4, 256, 5000, noop{})
			}
			b.ReportMetric(rate, "trials/s")
		})
	}
}

// BenchmarkScaling measures throughput against the number of workers with
// a trainer that takes a fixed time, as a share of linear scaling.
func BenchmarkScaling(b *testing.B) {
	const d = 100 * time.Millisecond
	for _, w := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			var rate float64
			// The sweep keeps twice as many trials in flight as there are
			// workers, as a sweep should, so that a worker finishing a
			// trial finds the next one queued.
			n := 30 * w
			for b.Loop() {
				rate = dispatch(b, w, 1, 2*w, n, noop{d: d})
			}
			ideal := float64(w) / d.Seconds()
			b.ReportMetric(rate, "trials/s")
			b.ReportMetric(100*rate/ideal, "%linear")
		})
	}
}
