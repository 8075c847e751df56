package vec

import "golang.org/x/sys/unix"

// threadSeconds reads the calling thread's CPU time, in seconds, or 0.
// On a shared machine it excludes time the thread spent descheduled,
// which wall-clock benchmark timings include.
func threadSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
