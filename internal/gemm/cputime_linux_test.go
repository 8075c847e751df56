package gemm

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// threadClock reads the calling thread's CPU time, in seconds. On a
// shared machine it excludes time the thread spent descheduled, which
// wall-clock benchmark timings include.
type threadClock struct{}

func (threadClock) start() func() float64 {
	runtime.LockOSThread()
	t0 := threadSeconds()
	return func() float64 {
		d := threadSeconds() - t0
		runtime.UnlockOSThread()
		return d
	}
}

func threadSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
