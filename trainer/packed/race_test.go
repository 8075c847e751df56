//go:build race

package packed

// raceEnabled reports a -race build, under which timings mean nothing.
const raceEnabled = true
