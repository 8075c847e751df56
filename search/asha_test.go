package search

import (
	"cmp"
	"container/heap"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

func TestASHARungs(t *testing.T) {
	tests := []struct {
		name string
		a    ASHA
		want []int
	}{
		{"eta 3 to 27", ASHA{MaxResource: 27}, []int{1, 3, 9, 27}},
		{"max between rungs", ASHA{MaxResource: 30}, []int{1, 3, 9, 27}},
		{"eta 2", ASHA{Eta: 2, MinResource: 2, MaxResource: 10}, []int{2, 4, 8}},
		{"one rung", ASHA{MinResource: 5, MaxResource: 5}, []int{5}},
		{"large", ASHA{Eta: 4, MinResource: 1 << 40, MaxResource: math.MaxInt}, []int{1 << 40, 1 << 42, 1 << 44, 1 << 46, 1 << 48, 1 << 50, 1 << 52, 1 << 54, 1 << 56, 1 << 58, 1 << 60, 1 << 62}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.a.Rungs()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	bad := []struct {
		name string
		a    ASHA
	}{
		{"zero value", ASHA{}},
		{"eta 1", ASHA{Eta: 1, MaxResource: 9}},
		{"negative eta", ASHA{Eta: -3, MaxResource: 9}},
		{"max below min", ASHA{MinResource: 10, MaxResource: 9}},
		{"negative min", ASHA{MinResource: -1, MaxResource: 9}},
		{"negative configs", ASHA{MaxResource: 9, MaxConfigs: -1}},
		{"negative brackets", ASHA{MaxResource: 9, Brackets: -1}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.a.Rungs(); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Rungs: %v, want ErrInvalidConfig", err)
			}
			if _, err := tc.a.Next(nil); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Next: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// ashaScript drives ASHA through a hand-checked sequence. Each step applies
// events to the history and then checks the next decision.
type ashaStep struct {
	events []func(h []Trial) []Trial
	want   Decision
}

func running(id string) func([]Trial) []Trial {
	return func(h []Trial) []Trial { return append(h, Trial{ID: id, Params: Params{"id": id}, State: Running}) }
}

func promoted(id, parent string, rung int) func([]Trial) []Trial {
	return func(h []Trial) []Trial {
		return append(h, Trial{ID: id, Params: Params{"id": parent}, State: Running, Rung: rung, Parent: parent})
	}
}

func finish(id string, v float64) func([]Trial) []Trial {
	return func(h []Trial) []Trial {
		for i := range h {
			if h[i].ID == id {
				h[i].State, h[i].Values = Complete, []float64{v}
			}
		}
		return h
	}
}

func fail(id string) func([]Trial) []Trial {
	return func(h []Trial) []Trial {
		for i := range h {
			if h[i].ID == id {
				h[i].State = Failed
			}
		}
		return h
	}
}

func start() Decision { return Decision{Action: Start, Rung: 0, Resource: 1} }

// promote expects trial parent, a run of configuration config, promoted.
func promote(parent, config string, rung, resource int) Decision {
	return Decision{Action: Promote, Parent: parent, Rung: rung, Resource: resource, Params: Params{"id": config}}
}

func runScript(t *testing.T, a *ASHA, steps []ashaStep, sign float64) {
	t.Helper()
	var h []Trial
	for i, st := range steps {
		for _, ev := range st.events {
			h = ev(h)
		}
		if sign < 0 { // same script, minimized: negate every value
			for k := range h {
				for j := range h[k].Values {
					h[k].Values[j] = -math.Abs(h[k].Values[j])
				}
			}
		}
		got, err := a.Next(h)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("step %d: got %+v, want %+v", i, got, st.want)
		}
		if sign < 0 {
			for k := range h {
				for j := range h[k].Values {
					h[k].Values[j] = math.Abs(h[k].Values[j])
				}
			}
		}
	}
}

func TestASHAScripted(t *testing.T) {
	// η = 3, rungs 1, 3, 9 epochs. Values are accuracies (maximized).
	steps := []ashaStep{
		{nil, start()},
		{[]func([]Trial) []Trial{running("t1"), running("t2"), running("t3")}, start()},
		// One result at rung 0: ⌊1/3⌋ = 0 can be promoted.
		{[]func([]Trial) []Trial{finish("t1", 0.5)}, start()},
		// Three results: the best, t2, goes up without waiting for t4.
		{[]func([]Trial) []Trial{running("t4"), finish("t2", 0.7), finish("t3", 0.6)}, promote("t2", "t2", 1, 3)},
		{[]func([]Trial) []Trial{promoted("t2.1", "t2", 1)}, start()},
		// Four results: ⌊4/3⌋ = 1, the best is now t4.
		{[]func([]Trial) []Trial{running("t5"), finish("t4", 0.9)}, promote("t4", "t4", 1, 3)},
		{[]func([]Trial) []Trial{promoted("t4.1", "t4", 1), finish("t5", 0.1)}, start()},
		// Six results: top two are t4 (promoted) and t6.
		{[]func([]Trial) []Trial{running("t6"), finish("t6", 0.8)}, promote("t6", "t6", 1, 3)},
		// Rung 1 has two results (⌊2/3⌋ = 0); rung 0's top two are taken.
		{[]func([]Trial) []Trial{promoted("t6.1", "t6", 1), finish("t2.1", 0.75), finish("t4.1", 0.95)}, start()},
		// A failed trial is no result: still five at rung 0 plus t7 running.
		{[]func([]Trial) []Trial{running("t7"), fail("t7")}, start()},
		// Rung 1 reaches three results: t4.1 goes to the top rung (9 epochs),
		// checked before rung 0.
		{[]func([]Trial) []Trial{running("t8"), finish("t8", 0.99), finish("t6.1", 0.85)}, promote("t4.1", "t4", 2, 9)},
		// Then rung 0: seven results, top two t8 (0.99) and t4.
		{[]func([]Trial) []Trial{promoted("t4.2", "t4.1", 2)}, promote("t8", "t8", 1, 3)},
		// The top rung never promotes.
		{[]func([]Trial) []Trial{promoted("t8.1", "t8", 1), finish("t4.2", 0.97)}, start()},
	}
	t.Run("maximize", func(t *testing.T) {
		runScript(t, &ASHA{MaxResource: 9, Direction: Maximize}, steps, 1)
	})
	t.Run("minimize negated", func(t *testing.T) {
		runScript(t, &ASHA{MaxResource: 9, Direction: Minimize}, steps, -1)
	})
}

func TestASHAEdgeCases(t *testing.T) {
	a := &ASHA{MaxResource: 9, Direction: Maximize}
	done := func(id string, v float64) Trial {
		return Trial{ID: id, State: Complete, Values: []float64{v}}
	}
	tests := []struct {
		name string
		h    []Trial
		want Decision
	}{
		{"NaN ranks last", []Trial{done("a", math.NaN()), done("b", 0.1), done("c", 0.2)}, promote2("c")},
		{"no ID cannot be promoted", []Trial{done("", 0.9), done("b", 0.1), done("c", 0.2)}, start()},
		{"no values is no result", []Trial{{ID: "a", State: Complete}, done("b", 0.1), done("c", 0.2)}, start()},
		{"ties by history order", []Trial{done("a", 0.5), done("b", 0.5), done("c", 0.5)}, promote2("a")},
		{"promoted even if the promotion failed", []Trial{done("a", 0.9), done("b", 0.1), done("c", 0.2),
			{ID: "a1", Parent: "a", Rung: 1, State: Failed}}, start()},
		{"beyond the top rung ignored", []Trial{{ID: "x", Rung: 7, State: Complete, Values: []float64{1}}}, start()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := a.Next(tc.h)
			if err != nil {
				t.Fatal(err)
			}
			got.Params = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func promote2(parent string) Decision {
	return Decision{Action: Promote, Parent: parent, Rung: 1, Resource: 3}
}

func TestASHABudget(t *testing.T) {
	a := &ASHA{MaxResource: 9, Direction: Maximize, MaxConfigs: 3}
	h := []Trial{{ID: "a", State: Running}, {ID: "b", State: Running}, {ID: "c", State: Running}}
	want := func(act Action) {
		t.Helper()
		d, err := a.Next(h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != act {
			t.Fatalf("got %v, want %v", d.Action, act)
		}
	}
	want(Wait)
	h[0].State, h[0].Values = Complete, []float64{0.1}
	h[1].State, h[1].Values = Complete, []float64{0.3}
	want(Wait)
	h[2].State, h[2].Values = Complete, []float64{0.2}
	want(Promote) // b
	h = append(h, Trial{ID: "b1", Parent: "b", Rung: 1, State: Complete, Values: []float64{0.4}})
	want(Done)
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Start: "start", Promote: "promote", Wait: "wait", Done: "done", 9: "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("%d: %q, want %q", a, got, want)
		}
	}
}

// promotableOracle finds, by brute force, the trial ASHA must promote: top
// rung first and, within a rung, bracket by bracket (a configuration's
// bracket is the rung its first trial started at), the best
// not-yet-promoted trial among the top ⌊n/η⌋ of the bracket's results.
func promotableOracle(h []Trial, eta, top int, dir Direction) (string, int) {
	promotedIDs := map[string]bool{}
	byID := map[string]int{}
	for i, t := range h {
		promotedIDs[t.Parent] = true
		byID[t.ID] = i
	}
	bracket := func(i int) int {
		for h[i].Parent != "" {
			i = byID[h[i].Parent]
		}
		return h[i].Rung
	}
	for k := top - 1; k >= 0; k-- {
		for b := 0; b <= k; b++ {
			type result struct {
				loss float64
				at   int
			}
			var rung []result
			for i, t := range h {
				if t.Rung == k && t.State == Complete && len(t.Values) > 0 && bracket(i) == b {
					rung = append(rung, result{dir.loss(t.Values[0]), i})
				}
			}
			slices.SortFunc(rung, func(a, b result) int {
				return cmp.Or(cmp.Compare(a.loss, b.loss), cmp.Compare(a.at, b.at))
			})
			for _, r := range rung[:len(rung)/eta] {
				if !promotedIDs[h[r.at].ID] {
					return h[r.at].ID, k
				}
			}
		}
	}
	return "", -1
}

// event is a job finishing on a simulated worker.
type event struct {
	at     float64
	trial  int
	worker int
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	return e[i].at < e[j].at || e[i].at == e[j].at && e[i].trial < e[j].trial
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// simulateASHA runs ASHA with workers simulated workers: every free worker
// asks Next at once; jobs take resource × a random factor. It checks every
// decision against the oracle and returns the history and the idle
// worker-time while work existed.
func simulateASHA(t *testing.T, a *ASHA, workers, jobs int, seed uint64) ([]Trial, float64) {
	t.Helper()
	rungs, err := a.Rungs()
	if err != nil {
		t.Fatal(err)
	}
	eta := cmp.Or(a.Eta, 3)
	rng := rand.New(rand.NewPCG(seed, 1))
	space := unitBox(t, 2)
	var h []Trial
	var q events
	var waiting []int // idle workers
	now, idle, lastIdleMark := 0.0, 0.0, 0.0
	quality := func(p Params, r int) float64 {
		x := coords(p, 2)
		q := 1 - (x[0]-0.3)*(x[0]-0.3) - (x[1]-0.6)*(x[1]-0.6)
		return q*(1-math.Exp(-float64(r)/4)) + 0.01*rng.NormFloat64()
	}
	assign := func(w int) bool {
		d, err := a.Next(h)
		if err != nil {
			t.Fatal(err)
		}
		wantID, wantRung := promotableOracle(h, eta, len(rungs)-1, a.Direction)
		var tr Trial
		switch d.Action {
		case Promote:
			if d.Parent != wantID || d.Rung != wantRung+1 || d.Resource != rungs[d.Rung] {
				t.Fatalf("promoted %s to rung %d (%d epochs); oracle says %q from rung %d", d.Parent, d.Rung, d.Resource, wantID, wantRung)
			}
			tr = Trial{ID: strconv.Itoa(len(h)), Params: d.Params, Rung: d.Rung, Parent: d.Parent, State: Running}
		case Start:
			if wantID != "" {
				t.Fatalf("started a configuration while %s was promotable", wantID)
			}
			p, err := Random{}.Sample(space, h, NewRand(seed, len(h)))
			if err != nil {
				t.Fatal(err)
			}
			if d.Rung < 0 || d.Rung >= cmp.Or(a.Brackets, 1) || d.Resource != rungs[d.Rung] {
				t.Fatalf("started at rung %d (%d epochs) with %d brackets", d.Rung, d.Resource, cmp.Or(a.Brackets, 1))
			}
			tr = Trial{ID: strconv.Itoa(len(h)), Params: p, Rung: d.Rung, State: Running}
		case Wait, Done:
			if wantID != "" {
				t.Fatalf("%v while %s was promotable", d.Action, wantID)
			}
			if a.MaxConfigs == 0 {
				t.Fatalf("%v without a configuration budget", d.Action)
			}
			return false
		}
		h = append(h, tr)
		dur := float64(rungs[tr.Rung]) * (0.5 + rng.Float64())
		heap.Push(&q, event{at: now + dur, trial: len(h) - 1, worker: w})
		return true
	}
	for w := range workers {
		if !assign(w) {
			waiting = append(waiting, w)
		}
	}
	for completed := 0; completed < jobs && q.Len() > 0; completed++ {
		ev := heap.Pop(&q).(event)
		idle += float64(len(waiting)) * (ev.at - lastIdleMark)
		now, lastIdleMark = ev.at, ev.at
		tr := &h[ev.trial]
		tr.State, tr.Values = Complete, []float64{quality(tr.Params, rungs[tr.Rung])}
		// The freed worker and any waiting ones ask for work.
		free := append(waiting, ev.worker)
		waiting = nil
		for _, w := range free {
			if !assign(w) {
				waiting = append(waiting, w)
			}
		}
		if q.Len()+len(waiting) != workers {
			t.Fatalf("lost a worker: %d busy, %d waiting", q.Len(), len(waiting))
		}
	}
	return h, idle
}

// TestASHASimulation64Workers runs 64 simulated workers with random job
// durations: no worker is ever idle while work exists, every promotion is
// the one the definition demands, and each rung holds at most 1/η of the
// results of the rung below.
func TestASHASimulation64Workers(t *testing.T) {
	jobs := 2000
	if testing.Short() {
		jobs = 600
	}
	a := &ASHA{Eta: 3, MinResource: 1, MaxResource: 27, Direction: Maximize}
	h, idle := simulateASHA(t, a, 64, jobs, 42)
	if idle != 0 {
		t.Errorf("workers idled %.1f worker-epochs with unlimited configurations", idle)
	}
	perRung := make([]int, 4)
	for _, tr := range h {
		perRung[tr.Rung]++
	}
	t.Logf("trials per rung after %d jobs: %v", jobs, perRung)
	for k := 1; k < 4; k++ {
		if perRung[k] == 0 {
			t.Errorf("rung %d never reached", k)
		}
		// Promotions that later fall out of the top third stay promoted,
		// so a rung can slightly exceed 1/η of the one below, never 1/2.
		if perRung[k] > perRung[k-1]/2 {
			t.Errorf("rung %d holds %d trials, more than half of rung %d's %d", k, perRung[k], k-1, perRung[k-1])
		}
	}
}

// TestASHASimulationBudget: with a configuration budget, workers wait only
// when nothing can be promoted, and the sweep ends with Done.
func TestASHASimulationBudget(t *testing.T) {
	a := &ASHA{Eta: 3, MinResource: 1, MaxResource: 9, Direction: Maximize, MaxConfigs: 150}
	h, _ := simulateASHA(t, a, 64, 1<<20, 7)
	d, err := a.Next(h)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != Done {
		t.Errorf("after the simulation: %v, want done", d.Action)
	}
	configs := 0
	for _, tr := range h {
		if tr.Parent == "" {
			configs++
		}
		if tr.State != Complete {
			t.Errorf("trial %s left %v", tr.ID, tr.State)
		}
	}
	if configs != 150 {
		t.Errorf("%d configurations, want 150", configs)
	}
}

func TestASHABracketShares(t *testing.T) {
	tests := []struct {
		a    ASHA
		want []int
	}{
		// Hyperband's n = ⌈(s_max+1)/(s+1)·η^s⌉ for s = s_max, ..., 0.
		{ASHA{MaxResource: 9, Brackets: 3}, []int{9, 5, 3}},
		{ASHA{MaxResource: 27, Brackets: 4}, []int{27, 12, 6, 4}},
		{ASHA{MaxResource: 27, Brackets: 2}, []int{27, 12}},
		{ASHA{Eta: 2, MaxResource: 8, Brackets: 4}, []int{8, 6, 4, 4}},
		{ASHA{MaxResource: 9}, []int{9}},
	}
	for _, tc := range tests {
		got, err := tc.a.BracketShares()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.a, got, tc.want)
		}
	}
	if _, err := (&ASHA{MaxResource: 9, Brackets: 4}).BracketShares(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("BracketShares, 4 brackets over 3 rungs: %v, want ErrInvalidConfig", err)
	}
	if _, err := (&ASHA{MaxResource: 9, Brackets: 4}).Next(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Next, 4 brackets over 3 rungs: %v, want ErrInvalidConfig", err)
	}
}

// TestASHABracketsScripted: with brackets, fresh configurations go to the
// brackets in Hyperband's proportions, and each bracket promotes among its
// own results only.
func TestASHABracketsScripted(t *testing.T) {
	a := &ASHA{MaxResource: 9, Brackets: 3, Direction: Maximize}
	var h []Trial
	var order []int
	for i := range 17 {
		d, err := a.Next(h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != Start {
			t.Fatalf("start %d: %+v", i, d)
		}
		if want := []int{1, 3, 9}[d.Rung]; d.Resource != want {
			t.Fatalf("start %d at rung %d with %d epochs, want %d", i, d.Rung, d.Resource, want)
		}
		order = append(order, d.Rung)
		h = append(h, Trial{ID: "s" + strconv.Itoa(i), Rung: d.Rung, State: Running})
	}
	// One Hyperband cycle: 9, 5 and 3 configurations, interleaved (the
	// bracket furthest behind its share goes next).
	if want := []int{0, 1, 0, 0, 2, 1, 0, 0, 1, 0, 2, 0, 1, 0, 0, 1, 2}; !reflect.DeepEqual(order, want) {
		t.Errorf("brackets of the first 17 configurations: %v, want %v", order, want)
	}

	done := func(id string, rung int, parent string, v float64) Trial {
		return Trial{ID: id, Rung: rung, Parent: parent, State: Complete, Values: []float64{v}}
	}
	h = []Trial{
		// Bracket 0: three screens, b promoted to rung 1 and done there.
		done("a", 0, "", 0.1), done("b", 0, "", 0.3), done("c", 0, "", 0.2), done("b1", 1, "b", 0.9),
		// Bracket 1: two configurations started at rung 1.
		done("x", 1, "", 0.5), done("y", 1, "", 0.4),
	}
	// Three results at rung 1 overall, but one in bracket 0 and two in
	// bracket 1: nothing is promotable (ranked together, b1 would be).
	d, err := a.Next(h)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != Start {
		t.Fatalf("got %+v, want a start", d)
	}
	// A third bracket-1 result: z, the best of the three, goes up.
	h = append(h, done("z", 1, "", 0.6))
	d, err = a.Next(h)
	if err != nil {
		t.Fatal(err)
	}
	want := Decision{Action: Promote, Rung: 2, Resource: 9, Parent: "z"}
	d.Params = nil
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v, want %+v", d, want)
	}
	// A promotion inherits its parent's bracket: b1's promotion counts in
	// bracket 0, so bracket 0 at rung 1 still has one result.
	h = append(h, Trial{ID: "z2", Rung: 2, Parent: "z", State: Complete, Values: []float64{0.99}})
	if d, _ := a.Next(h); d.Action != Start {
		t.Fatalf("after z's promotion: %+v, want a start", d)
	}
}

// TestASHABracketsSimulation64Workers: asynchronous Hyperband with 64
// simulated workers never idles while work exists, promotes exactly as the
// bracket-wise definition demands, and shares fresh configurations among
// the brackets in Hyperband's proportions.
func TestASHABracketsSimulation64Workers(t *testing.T) {
	jobs := 2000
	if testing.Short() {
		jobs = 600
	}
	a := &ASHA{Eta: 3, MinResource: 1, MaxResource: 27, Brackets: 4, Direction: Maximize}
	jobs /= 2 // the bracket-wise oracle is slower
	h, idle := simulateASHA(t, a, 64, jobs, 43)
	if idle != 0 {
		t.Errorf("workers idled %.1f worker-epochs with unlimited configurations", idle)
	}
	shares, _ := a.BracketShares()
	started := make([]int, len(shares))
	total, sum := 0, 0
	for _, tr := range h {
		if tr.Parent == "" {
			started[tr.Rung]++
			total++
		}
	}
	for _, s := range shares {
		sum += s
	}
	for b, s := range shares {
		// Jefferson's (D'Hondt's) apportionment, which the round robin is,
		// never falls below the quota's floor and exceeds it by less than
		// the number of brackets.
		if want := float64(total*s) / float64(sum); float64(started[b]) < math.Floor(want) || float64(started[b]) >= want+float64(len(shares)) {
			t.Errorf("bracket %d started %d of %d configurations, want %.1f (shares %v)", b, started[b], total, want, shares)
		}
	}
	t.Logf("configurations per bracket after %d jobs: %v", jobs, started)
}
