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
// With Brackets > 1 it is asynchronous Hyperband (Li et al. 2018, 2020):
// bracket b starts its configurations at rung b and promotes among its own
// results only, so bracket 0 is the ASHA above and, with one bracket per
// rung, the last trains configurations at the top rung directly. Fresh
// configurations go to the brackets in Hyperband's proportions
// (BracketShares), which give every bracket about the same budget. It
// hedges against short rungs that rank configurations poorly: they then
// waste only the budget of the brackets that use them. (On the digits
// search of bench/search_vs_optuna.py, where the 5-epoch rung screens out
// poor learning rates and batch sizes, three brackets made more full
// evaluations but fewer good ones than plain ASHA.)
//
// A promotion is a new Trial with the parent's Params, Rung k+1 and Parent
// set to the promoted trial's ID, trained for the larger epoch budget (a
// worker that still holds the parent's training state continues from it
// when that gives the same result as training from scratch; package
// worker). ASHA reads only the history, so it is recovered after a restart
// by passing the same history, and it works with any Sampler for the fresh
// configurations.
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
	// Brackets is the number of Hyperband brackets, at most the number of
	// rungs. Zero means 1: plain ASHA.
	Brackets int
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
	// Rung is the rung of the trial to create (Start: the bracket's first
	// rung, 0 without brackets; Promote: k+1).
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
	case a.Brackets < 0:
		return 0, 0, fmt.Errorf("%w: ASHA Brackets = %d, want >= 0", ErrInvalidConfig, a.Brackets)
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

// BracketShares returns how many fresh configurations each bracket gets
// per Hyperband cycle: bracket b, which starts at rung b of rungs 0..s,
// gets ⌈(s+1)/(s−b+1)·Eta^(s−b)⌉.
func (a *ASHA) BracketShares() ([]int, error) {
	rungs, err := a.Rungs()
	if err != nil {
		return nil, err
	}
	return a.shares(len(rungs))
}

// shares is BracketShares for a checked number of rungs.
func (a *ASHA) shares(rungs int) ([]int, error) {
	nb := cmp.Or(a.Brackets, 1)
	if nb > rungs {
		return nil, fmt.Errorf("%w: ASHA Brackets = %d, want at most the %d rungs", ErrInvalidConfig, a.Brackets, rungs)
	}
	eta, s := cmp.Or(a.Eta, 3), rungs-1
	out := make([]int, nb)
	for b := range out {
		pow := 1
		for range s - b {
			pow *= eta
		}
		out[b] = ((s+1)*pow + s - b) / (s - b + 1) // ⌈(s+1)·pow/(s−b+1)⌉
	}
	return out, nil
}

// Next decides what the next free worker should run, from the ordered
// history alone. Only Complete trials with at least one value count as
// results; a trial counts as promoted once any trial names it as Parent,
// whatever that trial's state. Trials at rungs beyond the top are ignored.
// A configuration's bracket is the rung its first trial started at.
func (a *ASHA) Next(history []Trial) (Decision, error) {
	rungs, err := a.Rungs()
	if err != nil {
		return Decision{}, err
	}
	shares, err := a.shares(len(rungs))
	if err != nil {
		return Decision{}, err
	}
	eta := cmp.Or(a.Eta, 3)
	top := len(rungs) - 1
	promoted := make(map[string]bool)
	bracketOf := make(map[string]int)
	results := make([][][]int, len(shares)) // per bracket, per rung: history indices
	for b := range results {
		results[b] = make([][]int, len(rungs))
	}
	started := make([]int, len(shares)) // fresh configurations per bracket
	configs, unfinished := 0, false
	for i := range history {
		t := &history[i]
		b := t.Rung
		if t.Parent != "" {
			promoted[t.Parent] = true
			b = bracketOf[t.Parent] // 0 for an unknown parent
		} else {
			configs++
			if b >= 0 && b < len(started) {
				started[b]++
			}
		}
		if t.ID != "" {
			bracketOf[t.ID] = b
		}
		if !t.State.finished() {
			unfinished = true
		}
		if t.State == Complete && len(t.Values) > 0 && b >= 0 && b < len(results) && t.Rung >= b && t.Rung <= top {
			results[b][t.Rung] = append(results[b][t.Rung], i)
		}
	}
	type result struct {
		loss float64
		at   int // history index, the tie-breaker
	}
	var ranked []result
	for k := top - 1; k >= 0; k-- {
		for b := 0; b <= k && b < len(results); b++ {
			n := len(results[b][k]) / eta
			if n == 0 {
				continue
			}
			ranked = ranked[:0]
			for _, i := range results[b][k] {
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
	}
	if a.MaxConfigs > 0 && configs >= a.MaxConfigs {
		if unfinished {
			return Decision{Action: Wait}, nil
		}
		return Decision{Action: Done}, nil
	}
	// Smooth weighted round robin: the bracket furthest behind its share.
	b := 0
	for c := 1; c < len(shares); c++ {
		if (started[c]+1)*shares[b] < (started[b]+1)*shares[c] {
			b = c
		}
	}
	return Decision{Action: Start, Rung: b, Resource: rungs[b]}, nil
}
