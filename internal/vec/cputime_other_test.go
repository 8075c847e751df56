//go:build !linux

package vec

// threadSeconds is unavailable here: benchmarks report wall time only.
func threadSeconds() float64 { return 0 }
