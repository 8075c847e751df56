//go:build !race

package dashboard_test

// raceEnabled relaxes timing bars: the race detector slows code 5-10×.
const raceEnabled = false
