//go:build !purego

package gemm

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkPeak measures the core's float32 FMA throughput with a loop of
// independent AVX2 FMAs: the ceiling the Sgemm benchmarks are a fraction
// of. Compare the two from the same run.
func BenchmarkPeak(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("no AVX2+FMA")
	}
	benchPeak(b, fmaPeak, 192)
}

// BenchmarkPeak512 is BenchmarkPeak with zmm registers: on cores with two
// 512-bit FMA pipes it doubles, on cores that split a zmm FMA in two
// (Zen 4) it does not.
func BenchmarkPeak512(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512F")
	}
	benchPeak(b, fmaPeak512, 768)
}

// benchPeak times loop, which runs n rounds of flops float32 flops.
func benchPeak(b *testing.B, loop func(n int), flops float64) {
	const rounds = 1 << 16
	stop := threadClock{}.start()
	for b.Loop() {
		loop(rounds)
	}
	cpuTime := stop()
	total := flops * float64(rounds) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpuTime > 0 {
		b.ReportMetric(total/cpuTime/1e9, "cpu-GFLOP/s")
	}
}
