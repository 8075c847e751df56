// Package search answers a sweep coordinator's two questions: "which trial
// next?" and "stop or promote this one?". It holds the typed search space,
// the samplers (grid, random, scrambled Sobol', TPE and multi-objective
// TPE), the ASHA scheduler (and asynchronous Hyperband over its rungs) and
// Pareto utilities. It is a plain library: no I/O, no goroutines, no global
// state.
//
// # Search space
//
// A Space is declared under "space:" in the sweep YAML, one entry per
// parameter, and decoded with ParseSpace (from the generic maps yaml.v3,
// viper or encoding/json produce) or directly, since *Space implements
// yaml.Unmarshaler and json.Unmarshaler:
//
//	space:
//	  lr:          {type: float, low: 1.0e-4, high: 0.3, log: true}
//	  l2:          {type: float, low: 0, high: 1.0e-2}
//	  batch:       [32, 64, 128]                      # list: categorical
//	  epochs:      {type: int, low: 5, high: 45, step: 10}
//	  optimizer:   {type: categorical, values: [sgd, adam]}
//	  activation:  relu                               # scalar: fixed value
//	  layers:      {type: int, low: 1, high: 3}
//	  width:       {type: int, low: 16, high: 256, log: true, per: layers}
//	  sparsity:    {type: float, low: 0, high: 0.9}
//	  prune:       {type: categorical, values: [unstructured, structured],
//	                when: {param: sparsity, op: gt, value: 0}}
//	  schedule:    [oneshot, agp]
//	  bits:        [4, 8, 32]
//	  qat:         {type: bool, when: {param: bits, op: lt, value: 32}}
//	  per_channel: {type: bool, when: [{param: bits, op: in, value: [4, 8]},
//	                                   {param: qat, value: true}]}
//
// Kinds are float (uniform or log), int (uniform or log, optional step),
// categorical (strings, numbers or bools) and bool. A "when" condition (or
// a list of them, all required) makes a parameter active only when another
// parameter compares true with op eq (the default), ne, lt, le, gt, ge or
// in; a condition on an inactive parameter does not hold.
//
// Architecture is a list of hidden widths. Declare the depth as an int and
// the width once with "per: layers": it expands into width_1 … width_H (H
// the depth's high), width_i active when layers >= i, so each layer's width
// is searched on its own. Params.IntList("width") reads the list back. A
// categorical of strings such as ["64", "64,32"] works too and IntList
// parses it the same way.
//
// The trainer's knobs are validated against their domains: sparsity in
// [0, 0.99], bits in {2, 3, 4, 5, 6, 8, 16, 32}, prune in {unstructured,
// structured}, schedule in {oneshot, agp}, qat and per_channel bool, lr in
// (0, 10], l2 in [0, 1], batch, epochs, layers and width positive integers,
// optimizer in {sgd, adam}, activation in {relu, tanh} (see Knobs). Other
// names are free parameters. Every problem is reported at once, joined, as
// *FieldError values naming the field path and the allowed range:
//
//	search: space.sparsity.high: 1.5 outside [0, 0.99]
//
// # Assignments
//
// Params maps each active parameter to a float64, int, string or bool. It
// survives JSON: an integral float64 is accepted wherever an int is
// expected. Space.Check rejects anything outside the space (unknown keys,
// values out of range or of the wrong type, inactive parameters present,
// active ones missing); workers call it on every trial they receive. It
// never panics.
//
// # Samplers and determinism
//
// A Sampler proposes the next Params from the space, the sweep's ordered
// history of trials and a random source. Every sampler and ASHA are pure
// functions of their inputs, so the coordinator's state is the history:
// proposal i draws from NewRand(seed, i), with i = len(history), and a
// coordinator restarted from the stored history proposes exactly what the
// crashed one would have. A coordinator's loop:
//
//	asha := &search.ASHA{MaxResource: 27, Direction: search.Maximize}
//	tpe := &search.TPE{Directions: []search.Direction{search.Maximize}}
//	for {
//		d, err := asha.Next(history)
//		// handle err (ErrInvalidConfig)
//		switch d.Action {
//		case search.Start:
//			p, err := tpe.Sample(space, history, search.NewRand(seed, len(history)))
//			// record Trial{ID: …, Params: p, Rung: d.Rung}, run it for d.Resource epochs
//		case search.Promote:
//			// record Trial{ID: …, Params: d.Params, Rung: d.Rung, Parent: d.Parent},
//			// run it for d.Resource epochs
//		case search.Wait:
//			// wait for a result
//		case search.Done:
//			return
//		}
//	}
//
// TPE treats pending and running trials as the worst value (a constant
// liar), so parallel workers receive different proposals, and ranks each
// configuration by the highest ASHA rung it reached, then by its value
// there (as Optuna ranks pruned trials). With several Directions it is
// MOTPE, for objectives such as (accuracy ↑, size ↓, latency ↓); objective
// values are arbitrary floats, so an objective may also be a marginal gain
// computed elsewhere.
//
// Enqueued puts given configurations ahead of any sampler's (Optuna's
// enqueue_trial): its n-th proposal of a new configuration is its n-th
// point, completed at random where the point leaves parameters out
// (Space.Complete), so it too is a function of the history.
//
// # Errors
//
// Callers branch with errors.Is on ErrInvalidSpace (bad declaration),
// ErrInvalidParams (assignment outside the space), ErrExhausted (a Grid has
// proposed every point) and ErrInvalidConfig (unusable sampler, scheduler or
// Pareto arguments). errors.As with *FieldError gives the path of each
// validation failure.
package search
