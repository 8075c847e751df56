//go:build !linux

package gemm

// threadClock is unavailable here: its measurement reports zero and the
// thread-time metric is left out.
type threadClock struct{}

func (threadClock) start() func() float64 { return func() float64 { return 0 } }
