package search

import (
	"cmp"
	"fmt"
	"slices"
)

// ASHA is asynchronous successive halving (Li et al. 2020) with the
// resource in epochs. Rung k trains for MinResource·Eta^k epochs, for
// every k with MinResource·Eta^k <= MaxResource. Whenever a worker is free
// the coordinator asks Next: from the top rung down, the best trial among
// the top 1/Eta of the completed results of a rung that has not been
// promoted yet is promoted to the next rung; otherwise a fresh
// configuration starts at rung 0. Promotions never wait for stragglers.
//
// A promotion is a new Trial with the parent's Params, Rung k+1 and Parent
// set to the promoted trial's ID; it trains from scratch with the larger
// epoch budget, so schedules that depend on the total epoch count (cosine
// learning rate) stay correct. ASHA reads only the history, so it is
// recovered after a restart by passing the same history, and it works with
// any Sampler for the fresh configurations.
//
// The zero ASHA is not usable: MaxResource must be set.
type ASHA struct {
	// Eta is the reduction factor: a rung keeps the top 1/Eta. Zero means 3.
	Eta int
	// MinResource is the number of epochs at rung 0. Zero means 1.
	MinResource int
	// MaxResource caps the epochs of the top rung; it must be at least
	// MinResource.
	MaxResource int
	// Direction orders Trial.Values[0], the objective ASHA ranks by.
	// The zero value is Minimize.
	Direction Direction
	// MaxConfigs bounds the number of fresh configurations; once reached,
	// Next only promotes, waits or reports done. Zero means unlimited.
	MaxConfigs int
}

// Action says what a Decision asks the coordinator to do.
type Action uint8

// The actions.
const (
	// Start a fresh configuration (from a Sampler) at rung 0.
	Start Action = iota
	// Promote trial Parent to Rung: a new trial with the parent's Params.
	Promote
	// Wait: the configuration budget is spent and nothing can be promoted
	// yet, but trials are still pending or running.
	Wait
	// Done: the budget is spent, nothing runs and nothing can be promoted.
	Done
)

var actionNames = [...]string{"start", "promote", "wait", "done"}

// String returns the lower-case name of the action.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Decision is ASHA's answer to "what should the next free worker do?".
type Decision struct {
	// Action is what to do.
	Action Action
	// Rung is the rung of the trial to create (Start: 0; Promote: k+1).
	Rung int
	// Resource is the number of epochs of that rung.
	Resource int
	// Parent is the ID of the trial to promote (Promote only).
	Parent string
	// Params is a copy of the parent's configuration (Promote only).
	Params Params
}

// settings returns the effective Eta and MinResource after checking the
// configuration.
func (a *ASHA) settings() (eta, minR int, err error) {
	eta, minR = cmp.Or(a.Eta, 3), cmp.Or(a.MinResource, 1)
	switch {
	case eta < 2:
		return 0, 0, fmt.Errorf("%w: ASHA Eta = %d, want >= 2", ErrInvalidConfig, a.Eta)
	case minR < 1:
		return 0, 0, fmt.Errorf("%w: ASHA MinResource = %d, want >= 1", ErrInvalidConfig, a.MinResource)
	case a.MaxResource < minR:
		return 0, 0, fmt.Errorf("%w: ASHA MaxResource = %d, want >= MinResource = %d", ErrInvalidConfig, a.MaxResource, minR)
	case a.MaxConfigs < 0:
		return 0, 0, fmt.Errorf("%w: ASHA MaxConfigs = %d, want >= 0", ErrInvalidConfig, a.MaxConfigs)
	}
	return eta, minR, nil
}

// Rungs returns the epoch budget of each rung, r_k = MinResource·Eta^k <=
// MaxResource.
func (a *ASHA) Rungs() ([]int, error) {
	eta, r, err := a.settings()
	if err != nil {
		return nil, err
	}
	var out []int
	for r <= a.MaxResource {
		out = append(out, r)
		if r > a.MaxResource/eta {
			break
		}
		r *= eta
	}
	return out, nil
}

// Next decides what the next free worker should run, from the ordered
// history alone. Only Complete trials with at least one value count as
// results; a trial counts as promoted once any trial names it as Parent,
// whatever that trial's state. Trials at rungs beyond the top are ignored.
func (a *ASHA) Next(history []Trial) (Decision, error) {
	rungs, err := a.Rungs()
	if err != nil {
		return Decision{}, err
	}
	eta := cmp.Or(a.Eta, 3)
	top := len(rungs) - 1
	promoted := make(map[string]bool)
	results := make([][]int, len(rungs)) // per rung: history indices
	configs, unfinished := 0, false
	for i := range history {
		t := &history[i]
		if t.Parent != "" {
			promoted[t.Parent] = true
		} else {
			configs++
		}
		if !t.State.finished() {
			unfinished = true
		}
		if t.State == Complete && len(t.Values) > 0 && t.Rung >= 0 && t.Rung <= top {
			results[t.Rung] = append(results[t.Rung], i)
		}
	}
	type result struct {
		loss float64
		at   int // history index, the tie-breaker
	}
	var ranked []result
	for k := top - 1; k >= 0; k-- {
		n := len(results[k]) / eta
		if n == 0 {
			continue
		}
		ranked = ranked[:0]
		for _, i := range results[k] {
			ranked = append(ranked, result{a.Direction.loss(history[i].Values[0]), i})
		}
		slices.SortFunc(ranked, func(x, y result) int {
			return cmp.Or(cmp.Compare(x.loss, y.loss), cmp.Compare(x.at, y.at))
		})
		for _, r := range ranked[:n] {
			t := &history[r.at]
			if t.ID != "" && !promoted[t.ID] {
				return Decision{Action: Promote, Rung: k + 1, Resource: rungs[k+1], Parent: t.ID, Params: t.Params.Clone()}, nil
			}
		}
	}
	if a.MaxConfigs > 0 && configs >= a.MaxConfigs {
		if unfinished {
			return Decision{Action: Wait}, nil
		}
		return Decision{Action: Done}, nil
	}
	return Decision{Action: Start, Rung: 0, Resource: rungs[0]}, nil
}
