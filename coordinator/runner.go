package coordinator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/artifact"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
)

// runner drives one sweep while its coordinator leads. One goroutine owns
// all of its state; results reach it through a channel.
type runner struct {
	c     *Coordinator
	w     *writer
	store jetstream.ObjectStore
	name  string
	log   *slog.Logger

	results   chan delivery
	cancelReq chan struct{}

	sweep   *configs.Sweep
	specRev int64
	space   *search.Space
	sampler search.Sampler
	asha    *search.ASHA
	dirs    []search.Direction

	status    wire.SweepStatus
	statusRev int64
	statusDir bool

	recs  map[string]*wire.TrialRecord
	revs  map[string]int64
	order []*wire.TrialRecord
	seq   int
	count map[wire.Kind]int
	// open counts the trials of each kind that have not ended; hist is the
	// member history the sampler sees, kept in step with the records
	// (histAt: a member's index in it).
	open   map[wire.Kind]int
	hist   []search.Trial
	histAt map[string]int

	dirty     map[string]bool
	toPublish []*wire.TrialRecord
	toAck     []jetstream.Msg

	memberStop string // why no more member trials are created
	cancelled  bool
	gain       *gainState
	preds      artifact.Cache
}

func newRunner(c *Coordinator, w *writer, store jetstream.ObjectStore, name string) *runner {
	return &runner{
		c: c, w: w, store: store, name: name, log: c.log.With("sweep", name),
		results:   make(chan delivery, 1024),
		cancelReq: make(chan struct{}, 1),
		recs:      map[string]*wire.TrialRecord{},
		revs:      map[string]int64{},
		count:     map[wire.Kind]int{},
		open:      map[wire.Kind]int{},
		histAt:    map[string]int{},
		dirty:     map[string]bool{},
	}
}

func (r *runner) requestCancel() {
	select {
	case r.cancelReq <- struct{}{}:
	default:
	}
}

// run drives the sweep until it ends or ctx does.
func (r *runner) run(ctx context.Context) error {
	if err := r.load(ctx); err != nil {
		return err
	}
	if r.status.State.Final() {
		return nil
	}
	if r.status.State == wire.SweepPending {
		r.status.State = wire.SweepRunning
		r.status.Started = time.Now().UTC()
	}
	r.status.Leader = r.c.cfg.ID
	r.status.Generation++
	r.statusDir = true
	// Trials recorded but perhaps never published (a crash between the
	// two) go out again; JetStream drops duplicates by message id, and a
	// second delivery would be recorded only once anyway.
	for _, rec := range r.order {
		if rec.State == wire.Queued {
			r.toPublish = append(r.toPublish, rec)
		}
	}
	if n := len(r.order); n > 0 {
		r.log.Info("resuming sweep from etcd", "trials", n, "requeued", len(r.toPublish), "state", r.status.State)
	} else {
		r.log.Info("starting sweep")
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := r.advance(ctx); err != nil {
			return err
		}
		if err := r.flush(ctx); err != nil {
			if errors.Is(err, ErrConflict) {
				r.log.Warn("records changed concurrently; reloading")
				if err := r.reload(ctx); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if r.status.State.Final() {
			r.log.Info("sweep ended", "state", r.status.State)
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case d := <-r.results:
			r.apply(d)
			for more := true; more && len(r.toAck) < 4*MaxOps; {
				select {
				case d := <-r.results:
					r.apply(d)
				default:
					more = false
				}
			}
		case <-r.cancelReq:
			r.cancelled = true
		case <-tick.C:
		}
	}
}

// load reads the sweep, its status and its trials from etcd.
func (r *runner) load(ctx context.Context) error {
	resp, err := r.c.etcd.Get(ctx, wire.SpecKey(r.name))
	if err != nil {
		r.c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: read sweep %s: %w", r.name, err)
	}
	if len(resp.Kvs) == 0 {
		return fmt.Errorf("coordinator: sweep %s has no spec", r.name)
	}
	var sw configs.Sweep
	if err := json.Unmarshal(resp.Kvs[0].Value, &sw); err != nil {
		return r.fail(ctx, fmt.Errorf("spec: %w", err))
	}
	if err := sw.Validate(); err != nil {
		return r.fail(ctx, err)
	}
	r.sweep, r.specRev = &sw, resp.Kvs[0].ModRevision
	if r.space, err = sw.Parsed(); err != nil {
		return r.fail(ctx, err)
	}
	r.configure()
	st, err := r.c.etcd.Get(ctx, wire.StatusKey(r.name))
	if err != nil {
		r.c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: read status %s: %w", r.name, err)
	}
	if len(st.Kvs) > 0 {
		if err := json.Unmarshal(st.Kvs[0].Value, &r.status); err != nil {
			return fmt.Errorf("coordinator: status %s: %w", r.name, err)
		}
		r.statusRev = st.Kvs[0].ModRevision
	} else {
		r.status = wire.SweepStatus{State: wire.SweepPending, Submitted: time.Now().UTC()}
	}
	tr, err := r.c.etcd.Get(ctx, wire.TrialsPrefix(r.name), clientv3.WithPrefix())
	if err != nil {
		r.c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: read trials %s: %w", r.name, err)
	}
	for _, kv := range tr.Kvs {
		rec, err := wire.DecodeRecord(kv.Value)
		if err != nil {
			return fmt.Errorf("coordinator: %s: %w", kv.Key, err)
		}
		r.recs[rec.ID] = rec
		r.revs[wire.TrialKey(r.name, rec.ID)] = kv.ModRevision
		r.order = append(r.order, rec)
		r.seq = max(r.seq, rec.Seq)
		r.count[rec.Kind]++
	}
	slices.SortFunc(r.order, func(a, b *wire.TrialRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, rec := range r.order {
		r.track(rec)
	}
	if r.sweep.Objective == "ensemble_gain" {
		r.gain = &gainState{}
	}
	return nil
}

// reload drops the in-memory state and loads it again.
func (r *runner) reload(ctx context.Context) error {
	*r = *newRunner(r.c, r.w, r.store, r.name)
	return r.load(ctx)
}

// fail records that the sweep cannot run.
func (r *runner) fail(ctx context.Context, cause error) error {
	r.log.Error("sweep failed", "err", cause)
	r.status.State = wire.SweepFailed
	r.status.Error = cause.Error()
	r.status.Finished = time.Now().UTC()
	r.statusDir = true
	return r.flush(ctx)
}

// configure builds the sampler and scheduler from the sweep.
func (r *runner) configure() {
	sw := r.sweep
	objs := sw.Objectives()
	r.dirs = []search.Direction{search.Maximize}
	if sw.Objective != "ensemble_gain" && len(objs) > 1 {
		r.dirs = r.dirs[:0]
		for _, o := range objs {
			d := search.Minimize
			if o == "accuracy" {
				d = search.Maximize
			}
			r.dirs = append(r.dirs, d)
		}
	}
	switch sw.Sampler.Name {
	case "random":
		r.sampler = search.Random{}
	case "sobol":
		r.sampler = &search.Sobol{Seed: sw.Seed}
	case "grid":
		r.sampler = &search.Grid{}
	default: // tpe, motpe
		r.sampler = &search.TPE{Directions: r.dirs, Startup: sw.Sampler.Startup, Candidates: sw.Sampler.Candidates, Multivariate: sw.Sampler.Multivariate}
	}
	if len(sw.Sampler.Initial) > 0 {
		e := &search.Enqueued{Then: r.sampler}
		for _, p := range sw.Sampler.Initial {
			e.Points = append(e.Points, search.Params(p))
		}
		r.sampler = e
	}
	if sw.ASHA.Enabled {
		r.asha = &search.ASHA{Eta: sw.ASHA.Eta, MinResource: sw.ASHA.MinEpochs, MaxResource: sw.ASHA.MaxEpochs, Brackets: sw.ASHA.Brackets, Direction: search.Maximize}
	}
}

// track adds a new record to the open counts and the member history.
func (r *runner) track(rec *wire.TrialRecord) {
	if !rec.State.Final() {
		r.open[rec.Kind]++
	}
	if rec.Kind == wire.Member {
		r.histAt[rec.ID] = len(r.hist)
		r.hist = append(r.hist, searchTrial(rec))
	}
}

// changed updates the open counts and the history after rec's state went
// from prev to its current one.
func (r *runner) changed(rec *wire.TrialRecord, prev wire.TrialState) {
	if !prev.Final() && rec.State.Final() {
		r.open[rec.Kind]--
	}
	if i, ok := r.histAt[rec.ID]; ok {
		r.hist[i] = searchTrial(rec)
	}
}

// searchTrial is a member record as the sampler and ASHA see it.
func searchTrial(rec *wire.TrialRecord) search.Trial {
	t := search.Trial{ID: rec.ID, Params: rec.Params, Rung: rec.Rung, Parent: rec.Parent, Values: rec.Values}
	switch rec.State {
	case wire.Queued:
		t.State = search.Pending
	case wire.Running:
		t.State = search.Running
	case wire.TrialDone:
		t.State = search.Complete
	default:
		t.State = search.Failed
	}
	return t
}

// history returns the member trials as the sampler and ASHA see them, in
// creation order. Callers must not modify it.
func (r *runner) history() []search.Trial { return r.hist }

// inflight counts the trials of kind that have not ended.
func (r *runner) inflight(kind wire.Kind) int { return r.open[kind] }

// advance moves the sweep on: cancel, create trials, change stage.
func (r *runner) advance(ctx context.Context) error {
	if r.cancelled && !r.status.State.Final() {
		r.stopAll(wire.SweepCancelled, "cancelled on request")
		return nil
	}
	switch r.status.State {
	case wire.SweepRunning:
		r.createMembers()
		if r.memberStop != "" && r.inflight(wire.Member) == 0 {
			r.log.Info("member stage over", "reason", r.memberStop, "trials", r.count[wire.Member])
			if r.best(1) == nil {
				if r.sweep.ASHA.Enabled {
					return r.fail(ctx, fmt.Errorf("no member trial reached ASHA's top rung (%d epochs): raise budget, or lower asha.max_epochs", r.sweep.ASHA.TopEpochs()))
				}
				return r.fail(ctx, errors.New("no member trial succeeded"))
			}
			if !r.sweep.Ensemble.Enabled {
				r.finish()
				return nil
			}
			r.status.State = wire.SweepEnsembling
			r.statusDir = true
		}
	case wire.SweepEnsembling:
		return r.advanceEnsemble(ctx)
	}
	return nil
}

// stopAll ends the sweep in state st, stopping every unfinished trial.
func (r *runner) stopAll(st wire.SweepState, why string) {
	now := time.Now().UTC()
	for _, rec := range r.order {
		if !rec.State.Final() {
			prev := rec.State
			rec.State, rec.Error, rec.FinishedAt = wire.Stopped, why, now
			r.changed(rec, prev)
			r.dirty[rec.ID] = true
		}
	}
	r.toPublish = nil
	r.status.State, r.status.Finished = st, now
	r.statusDir = true
}

func (r *runner) finish() {
	r.status.State, r.status.Finished = wire.SweepDone, time.Now().UTC()
	r.statusDir = true
}

// budgetLeft reports why no more member trials may start, or "".
func (r *runner) budgetLeft() string {
	b := r.sweep.Budget
	if b.Trials > 0 && r.count[wire.Member] >= b.Trials {
		return fmt.Sprintf("trial budget of %d reached", b.Trials)
	}
	if b.Wall > 0 && !r.status.Started.IsZero() && time.Since(r.status.Started) >= b.Wall {
		return fmt.Sprintf("wall-time budget of %s reached", b.Wall)
	}
	return ""
}

// createMembers keeps Parallelism member trials in flight.
func (r *runner) createMembers() {
	if r.memberStop != "" {
		return
	}
	for r.inflight(wire.Member) < r.sweep.Parallelism {
		if why := r.budgetLeft(); why != "" {
			r.memberStop = why
			return
		}
		h := r.history()
		var (
			params      search.Params
			epochs, rng int
			parent      string
			seed        = r.sweep.Seed ^ splitmix(uint64(r.seq+1))
		)
		if r.asha != nil {
			d, err := r.asha.Next(h)
			if err != nil {
				r.memberStop = "scheduler: " + err.Error()
				return
			}
			switch d.Action {
			case search.Wait:
				return
			case search.Done:
				r.memberStop = "scheduler done"
				return
			case search.Promote:
				params, epochs, rng, parent = d.Params, d.Resource, d.Rung, d.Parent
				if p := r.recs[d.Parent]; p != nil {
					seed = p.Seed
				}
			default:
				epochs, rng = d.Resource, d.Rung
			}
		}
		if params == nil {
			p, err := r.sampler.Sample(r.space, h, search.NewRand(r.sweep.Seed, len(h)))
			if errors.Is(err, search.ErrExhausted) {
				r.memberStop = "search space exhausted"
				return
			}
			if err != nil {
				r.memberStop = "sampler: " + err.Error()
				return
			}
			params = p
		}
		rec := r.newRecord(wire.Member)
		rec.Params, rec.Epochs, rec.Rung, rec.Parent, rec.Seed = params, epochs, rng, parent, seed
		r.changed(rec, rec.State)
	}
}

// kindPrefix gives trial ids their letter: t (member), e, d.
var kindPrefix = map[wire.Kind]string{wire.Member: "t", wire.Ensemble: "e", wire.Distill: "d"}

// newRecord creates a queued trial to be written and published.
func (r *runner) newRecord(kind wire.Kind) *wire.TrialRecord {
	r.seq++
	r.count[kind]++
	rec := &wire.TrialRecord{Seq: r.seq, ID: fmt.Sprintf("%s%05d", kindPrefix[kind], r.count[kind]), Kind: kind,
		State: wire.Queued, QueuedAt: time.Now().UTC()}
	r.recs[rec.ID] = rec
	r.order = append(r.order, rec)
	r.track(rec)
	r.dirty[rec.ID] = true
	r.toPublish = append(r.toPublish, rec)
	return rec
}

// apply records a result.
func (r *runner) apply(d delivery) {
	res := d.r
	r.toAck = append(r.toAck, d.msg)
	rec := r.recs[res.ID]
	if rec == nil || rec.Kind != res.Kind {
		r.log.Warn("result for an unknown trial ignored", "trial", res.ID, "kind", res.Kind)
		return
	}
	if rec.State.Final() {
		if res.Status != wire.Started {
			r.c.stats.Duplicates.Add(1)
		}
		return
	}
	prev := rec.State
	defer r.changed(rec, prev)
	rec.Attempts = max(rec.Attempts, res.Attempt)
	rec.Worker = res.Worker
	switch res.Status {
	case wire.Started:
		rec.State = wire.Running
		if rec.StartedAt.IsZero() {
			rec.StartedAt = res.Time
		}
	case wire.Done:
		rec.State, rec.FinishedAt = wire.TrialDone, time.Now().UTC()
		rec.Metrics, rec.EnsembleMetrics = res.Metrics, res.Ensemble
		if rec.StartedAt.IsZero() {
			rec.StartedAt = res.Time
		}
		if rec.Kind == wire.Member {
			rec.Values = r.values(rec)
		}
		r.c.stats.Recorded.Add(1)
	case wire.Failed:
		rec.State, rec.FinishedAt, rec.Error = wire.TrialFailed, time.Now().UTC(), res.Error
		r.c.stats.Recorded.Add(1)
		r.log.Warn("trial failed", "trial", rec.ID, "err", res.Error)
	}
	r.dirty[rec.ID] = true
}

// values returns a finished member's objective values.
func (r *runner) values(rec *wire.TrialRecord) []float64 {
	m := rec.Metrics
	if r.gain != nil {
		g, err := r.gain.add(context.Background(), r, rec)
		if err != nil {
			r.log.Warn("ensemble gain unavailable; using accuracy", "trial", rec.ID, "err", err)
			return []float64{m.CVAccuracy}
		}
		return []float64{g}
	}
	objs := r.sweep.Objectives()
	v := make([]float64, len(objs))
	for i, o := range objs {
		switch o {
		case "size":
			v[i] = float64(m.SizeBytes)
		case "latency":
			v[i] = m.LatencyUS
		default:
			v[i] = m.CVAccuracy
		}
	}
	return v
}

// flush writes what changed (fenced), then publishes new trials and acks
// recorded results — in that order, so nothing is published before it is
// recorded and nothing is acked before it is written.
func (r *runner) flush(ctx context.Context) error {
	var ws []write
	ids := make([]string, 0, len(r.dirty))
	for id := range r.dirty {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		b, err := json.Marshal(r.recs[id])
		if err != nil {
			return err
		}
		key := wire.TrialKey(r.name, id)
		ws = append(ws, write{key: key, value: string(b), prev: r.revs[key], done: func(rev int64) { r.revs[key] = rev }})
	}
	if r.statusDir {
		b, err := json.Marshal(&r.status)
		if err != nil {
			return err
		}
		ws = append(ws, write{key: wire.StatusKey(r.name), value: string(b), prev: r.statusRev, done: func(rev int64) { r.statusRev = rev }})
	}
	if err := r.w.commit(ctx, ws); err != nil {
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrConflict) {
			r.c.stats.EtcdErrors.Add(1)
		}
		return err
	}
	clear(r.dirty)
	r.statusDir = false
	if err := r.publish(ctx); err != nil {
		r.c.stats.NATSErrors.Add(1)
		r.log.Warn("publishing trials failed; retrying", "err", err)
	}
	for _, m := range r.toAck {
		m.Ack()
	}
	r.toAck = r.toAck[:0]
	return nil
}

// publish sends the recorded trials waiting to go out, asynchronously,
// and waits for JetStream to store them. Unsent ones stay for a retry.
func (r *runner) publish(ctx context.Context) error {
	if len(r.toPublish) == 0 {
		return nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(r.toPublish))
	for _, rec := range r.toPublish {
		b, err := wire.Encode(rec.Message(r.name, r.specRev))
		if err != nil {
			return err
		}
		f, err := r.c.js.PublishAsync(wire.TrialSubject(r.name), b, jetstream.WithMsgID(r.name+"/"+rec.ID))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	var failed []*wire.TrialRecord
	var firstErr error
	for i, f := range futures {
		select {
		case <-f.Ok():
			r.c.stats.Dispatched.Add(1)
		case err := <-f.Err():
			failed = append(failed, r.toPublish[i])
			firstErr = cmp.Or(firstErr, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	failed = append(failed, r.toPublish[len(futures):]...)
	r.toPublish = failed
	if len(failed) > 0 && firstErr == nil {
		firstErr = fmt.Errorf("%d trials not published", len(failed))
	}
	return firstErr
}

// best returns up to n completed member trials, best CV accuracy first;
// of a configuration run at several ASHA rungs only the highest counts,
// and with ASHA only configurations that reached the top rung count at
// all: a screen stopped early is neither fully trained nor refitted.
func (r *runner) best(n int) []*wire.TrialRecord {
	top := map[string]*wire.TrialRecord{} // by root configuration
	root := func(rec *wire.TrialRecord) string {
		for rec.Parent != "" && r.recs[rec.Parent] != nil {
			rec = r.recs[rec.Parent]
		}
		return rec.ID
	}
	topEpochs := r.sweep.ASHA.TopEpochs()
	for _, rec := range r.order {
		if rec.Kind != wire.Member || rec.State != wire.TrialDone || rec.Metrics == nil || rec.Epochs < topEpochs {
			continue
		}
		k := root(rec)
		if cur := top[k]; cur == nil || rec.Rung > cur.Rung {
			top[k] = rec
		}
	}
	var out []*wire.TrialRecord
	for _, rec := range top {
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b *wire.TrialRecord) int {
		return cmp.Or(-cmp.Compare(a.Metrics.CVAccuracy, b.Metrics.CVAccuracy),
			cmp.Compare(a.Metrics.SizeBytes, b.Metrics.SizeBytes), cmp.Compare(a.Seq, b.Seq))
	})
	if len(out) > n {
		out = out[:n]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// splitmix is the SplitMix64 finalizer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
