//go:build unix

package ensemble

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time this process has used, user plus system.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCaruanaSpeed is the bar: Caruana selection (50 rounds from 5
// sorted members) over 100 members × 10,000 samples × 10 classes within
// 1 s. BenchmarkCaruana measures it. The machine is shared, so wall time
// swings with other people's load; this asserts the CPU time of the best of
// three runs (selection is single-threaded), which is about a tenth of the
// bar for log loss and a third for accuracy, and logs the wall time.
func TestCaruanaSpeed(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: skipped with -short and under -race")
	}
	p := makeProblem(t, synth{n: 10000, c: 10, k: 5, m: 100, seed: 1})
	for _, metric := range []Metric{MetricLogLoss, MetricAccuracy} {
		bestCPU, bestWall := time.Duration(1<<62), time.Duration(1<<62)
		for range 3 {
			cpu, wall := cpuTime(t), time.Now()
			if _, err := (Caruana{Metric: metric}).Fit(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			bestCPU = min(bestCPU, cpuTime(t)-cpu)
			bestWall = min(bestWall, time.Since(wall))
		}
		t.Logf("%v: best of 3: %v CPU, %v wall", metric, bestCPU, bestWall)
		if bestCPU > time.Second {
			t.Errorf("%v: Caruana over 100×10000×10 took %v of CPU, want ≤ 1s", metric, bestCPU)
		}
	}
}
