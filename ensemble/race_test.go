//go:build race

package ensemble

const raceEnabled = true
