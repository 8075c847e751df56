package search

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// State is the lifecycle state of a trial.
type State uint8

// Trial states. The zero State is Pending.
const (
	// Pending: proposed, not yet started.
	Pending State = iota
	// Running: a worker is training it.
	Running
	// Complete: finished with objective Values.
	Complete
	// Failed: finished without a usable result; samplers ignore it.
	Failed
)

var stateNames = [...]string{"pending", "running", "complete", "failed"}

// String returns the lower-case name of the state.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("%w: state %d", ErrInvalidConfig, uint8(s))
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if string(b) == n {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown trial state %q", ErrInvalidConfig, b)
}

// finished reports whether the trial will not run any more.
func (s State) finished() bool { return s == Complete || s == Failed }

// Direction says whether an objective is minimized or maximized.
type Direction uint8

// The directions. The zero Direction is Minimize.
const (
	Minimize Direction = iota
	Maximize
)

// String returns "minimize" or "maximize".
func (d Direction) String() string {
	if d == Maximize {
		return "maximize"
	}
	return "minimize"
}

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("minimize", "min",
// "maximize", "max").
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "minimize", "min":
		*d = Minimize
	case "maximize", "max":
		*d = Maximize
	default:
		return fmt.Errorf("%w: direction %q (want minimize or maximize)", ErrInvalidConfig, b)
	}
	return nil
}

// loss maps an objective value to "smaller is better", non-finite values to
// +Inf (the worst).
func (d Direction) loss(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.Inf(1)
	}
	if d == Maximize {
		return -v
	}
	return v
}

// Trial is one entry of a sweep's ordered history: a configuration run at
// one rung. A promotion by ASHA is a new Trial with the same Params, a
// higher Rung and Parent set to the promoted trial's ID.
type Trial struct {
	// ID identifies the trial; ASHA needs it non-empty and unique.
	ID string `json:"id"`
	// Params is the configuration.
	Params Params `json:"params"`
	// State is the lifecycle state; the zero value is Pending.
	State State `json:"state"`
	// Values are the objective values, in the order of the sampler's
	// Directions, when State is Complete. NaN and ±Inf count as the worst
	// value.
	Values []float64 `json:"values,omitempty"`
	// Rung is the ASHA rung (0 for a fresh configuration, or when ASHA is
	// not used).
	Rung int `json:"rung,omitempty"`
	// Parent is the ID of the trial this one was promoted from; empty for a
	// fresh configuration.
	Parent string `json:"parent,omitempty"`
}

// fresh reports whether the trial is a new configuration (not a promotion).
func (t *Trial) fresh() bool { return t.Parent == "" }

// NewRand returns the random source of proposal number proposal in a sweep
// with the given seed. Use proposal = len(history) so that every proposal
// is a function of (seed, history) and a restarted coordinator proposes
// exactly what the crashed one would have.
func NewRand(seed uint64, proposal int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, splitmix64(uint64(proposal)^0x9e3779b97f4a7c15)))
}

// splitmix64 is the SplitMix64 finalizer, a bijective bit mixer.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
