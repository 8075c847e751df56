//go:build !race

package cli

// raceEnabled relaxes timing bars: the race detector slows code 5-10×.
const raceEnabled = false
