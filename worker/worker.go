package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
)

// Config configures a worker. The zero value works: one trial per core,
// built-in datasets only, an ID from the host name.
type Config struct {
	// ID names the worker in etcd and in results; empty means
	// "<host>-<pid>".
	ID string
	// Concurrency is the number of trials run at once; 0 means one per
	// core (each trial trains single-threaded).
	Concurrency int
	// DataRoot is the directory dataset paths must resolve under; empty
	// allows built-in datasets only.
	DataRoot string
	// Drain bounds how long trials in hand may finish after Run's context
	// ends; 0 means 10 minutes. Trials still running then are handed back
	// for redelivery.
	Drain time.Duration
	// LeaseTTL is the registration lease in seconds; 0 means 10.
	LeaseTTL int
	// Version is reported in the registration.
	Version string
	// GEMM names the matrix kernel in use, for the registration.
	GEMM string
	// Executor runs trials; nil means the trainer (Trainer).
	Executor Executor
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// Stats counts what a worker has done; read it with Snapshot.
type Stats struct {
	Received, Rejected, Done, Failed, Retried, Running atomic.Int64
}

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	Received, Rejected, Done, Failed, Retried, Running int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{s.Received.Load(), s.Rejected.Load(), s.Done.Load(), s.Failed.Load(), s.Retried.Load(), s.Running.Load()}
}

// Worker consumes and runs trials. Build it with New, run it with Run.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream
	etcd  *clientv3.Client
	exec  Executor
	stats Stats

	mu    sync.Mutex
	specs map[string]*sweepSpec // by sweep name

	maxAttempts atomic.Int64
	ackWait     time.Duration
}

// sweepSpec is a sweep as stored in etcd, parsed.
type sweepSpec struct {
	rev   int64
	sweep *configs.Sweep
	space *search.Space
}

// New builds a worker on open connections.
func New(cfg Config, nc *nats.Conn, etcd *clientv3.Client) (*Worker, error) {
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("worker: concurrency %d", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.ID == "" {
		cfg.ID = bus.DefaultID()
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 10 * time.Minute
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	w := &Worker{cfg: cfg, log: cfg.Logger.With("worker", cfg.ID), nc: nc, js: js, etcd: etcd, specs: map[string]*sweepSpec{}}
	w.exec = cfg.Executor
	if w.exec == nil {
		w.exec = &Trainer{DataRoot: cfg.DataRoot}
	}
	return w, nil
}

// ID returns the worker's id.
func (w *Worker) ID() string { return w.cfg.ID }

// Stats returns the worker's counters.
func (w *Worker) Stats() *Stats { return &w.stats }

// Run registers the worker and runs trials until ctx ends, then stops
// taking trials, lets the ones in hand finish (within Config.Drain) and
// deregisters. It returns nil after a clean drain.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := w.js.Consumer(ctx, wire.TrialsStream, wire.WorkersConsumer)
	if err != nil {
		return fmt.Errorf("worker: trials consumer (is a coordinator running?): %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("worker: consumer info: %w", err)
	}
	w.maxAttempts.Store(int64(bus.MaxAttempts(info)))
	w.ackWait = info.Config.AckWait
	go w.followDelivery(ctx)

	regCtx, stopReg := context.WithCancel(context.WithoutCancel(ctx))
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		w.register(regCtx)
	}()
	defer func() {
		stopReg()
		<-regDone
	}()

	// work outlives ctx by up to Drain, so that trials in hand finish.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() {
		w.log.Info("draining: no new trials; finishing the ones in hand", "drain", w.cfg.Drain)
		time.AfterFunc(w.cfg.Drain, cancelWork)
	})
	defer stop()

	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, work, cons)
		}()
	}
	w.log.Info("worker started", "concurrency", w.cfg.Concurrency, "data_root", w.cfg.DataRoot)
	wg.Wait()
	w.log.Info("worker stopped", "stats", w.stats.Snapshot())
	return nil
}

// followDelivery keeps the attempts cap in step with the delivery
// settings the leading coordinator records in etcd, which take precedence
// over the consumer's metadata.
func (w *Worker) followDelivery(ctx context.Context) {
	apply := func(b []byte) {
		var d wire.Delivery
		if json.Unmarshal(b, &d) == nil && d.MaxAttempts > 0 {
			w.maxAttempts.Store(int64(d.MaxAttempts))
		}
	}
	resp, err := w.etcd.Get(ctx, wire.DeliveryKey())
	if err != nil {
		return
	}
	if len(resp.Kvs) > 0 {
		apply(resp.Kvs[0].Value)
	}
	for wr := range w.etcd.Watch(ctx, wire.DeliveryKey(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				apply(ev.Kv.Value)
			}
		}
	}
}

// register keeps the worker's registration under a lease until ctx ends,
// re-registering after the lease is lost (a partition longer than the
// TTL).
func (w *Worker) register(ctx context.Context) {
	host, _ := os.Hostname()
	info := wire.WorkerInfo{ID: w.cfg.ID, Host: host, Concurrency: w.cfg.Concurrency, Started: time.Now().UTC(), Version: w.cfg.Version, GEMM: w.cfg.GEMM}
	b, _ := wire.Encode(info)
	for ctx.Err() == nil {
		s, err := concurrency.NewSession(w.etcd, concurrency.WithTTL(w.cfg.LeaseTTL), concurrency.WithContext(ctx))
		if err == nil {
			_, err = w.etcd.Put(ctx, wire.WorkerKey(w.cfg.ID), string(b), clientv3.WithLease(s.Lease()))
			if err == nil {
				select {
				case <-ctx.Done():
				case <-s.Done():
					w.log.Warn("registration lease lost; registering again")
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if ctx.Err() != nil {
				w.etcd.Delete(cctx, wire.WorkerKey(w.cfg.ID))
			}
			s.Close()
			cancel()
		}
		if err != nil && ctx.Err() == nil {
			w.log.Warn("registration failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// loop fetches and runs trials one at a time until ctx ends.
func (w *Worker) loop(ctx, work context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				w.log.Warn("fetch failed; retrying", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
			continue
		}
		for msg := range batch.Messages() {
			w.handle(work, msg)
		}
		cancel()
	}
}

// permanent marks an error that redelivery cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the trial is reported failed and not
// redelivered.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// handle runs one delivered trial.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	w.stats.Received.Add(1)
	t, err := wire.DecodeTrial(msg.Data())
	if err != nil {
		w.stats.Rejected.Add(1)
		w.log.Warn("rejected a message", "subject", msg.Subject(), "err", err)
		msg.Term()
		return
	}
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	log := w.log.With("sweep", t.Sweep, "trial", t.ID, "kind", t.Kind, "attempt", attempt)
	if msg.Subject() != wire.TrialSubject(t.Sweep) {
		w.stats.Rejected.Add(1)
		log.Warn("rejected a trial on another sweep's subject", "subject", msg.Subject())
		msg.Term()
		return
	}
	if attempt > int(w.maxAttempts.Load()) {
		w.stats.Failed.Add(1)
		w.report(ctx, t, attempt, wire.Failed, fmt.Sprintf("gave up after %d attempts", attempt-1), nil)
		log.Warn("trial failed: attempts exhausted")
		msg.Term()
		return
	}
	spec, err := w.spec(ctx, t)
	if err == nil {
		err = checkTrial(t, spec)
	}
	if err != nil {
		if isPermanent(err) {
			w.stats.Rejected.Add(1)
			w.stats.Failed.Add(1)
			log.Warn("rejected a trial", "err", err)
			w.report(ctx, t, attempt, wire.Failed, err.Error(), nil)
			msg.Term()
		} else {
			w.retry(log, msg, err)
		}
		return
	}
	w.started(t, attempt)
	w.stats.Running.Add(1)
	hbCtx, stopHB := context.WithCancel(ctx)
	go w.heartbeat(hbCtx, msg)
	start := time.Now()
	out, err := w.exec.Execute(ctx, &Job{Trial: t, Sweep: spec.sweep, Space: spec.space, Attempt: attempt, Store: w.store, Etcd: w.etcd})
	stopHB()
	w.stats.Running.Add(-1)
	switch {
	case err == nil:
		if out == nil {
			out = &Outcome{}
		}
		if err := w.report(ctx, t, attempt, wire.Done, "", out); err != nil {
			w.retry(log, msg, err)
			return
		}
		w.stats.Done.Add(1)
		log.Info("trial done", "seconds", time.Since(start).Seconds())
		msg.DoubleAck(ctx)
	case isPermanent(err):
		w.stats.Failed.Add(1)
		log.Warn("trial failed", "err", err)
		if err := w.report(ctx, t, attempt, wire.Failed, err.Error(), nil); err != nil {
			w.retry(log, msg, err)
			return
		}
		msg.Term()
	default:
		w.retry(log, msg, err)
	}
}

// retry hands a trial back for redelivery after a transient failure.
func (w *Worker) retry(log *slog.Logger, msg jetstream.Msg, err error) {
	w.stats.Retried.Add(1)
	log.Warn("trial handed back for redelivery", "err", err)
	msg.NakWithDelay(time.Second)
}

// heartbeat tells JetStream the trial is still in progress.
func (w *Worker) heartbeat(ctx context.Context, msg jetstream.Msg) {
	every := w.ackWait / 3
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			msg.InProgress()
		}
	}
}

// store returns the artifact object store.
func (w *Worker) store(ctx context.Context) (jetstream.ObjectStore, error) {
	return w.js.ObjectStore(ctx, wire.ArtifactsBucket)
}

// started announces an attempt without waiting for JetStream's ack: it
// only updates the trial's state, and it is published on the same
// connection before the outcome, so it cannot overtake it.
func (w *Worker) started(t *wire.Trial, attempt int) {
	r := &wire.Result{V: wire.Version, Sweep: t.Sweep, ID: t.ID, Kind: t.Kind, Status: wire.Started, Worker: w.cfg.ID,
		Attempt: attempt, Time: time.Now().UTC()}
	b, err := wire.Encode(r)
	if err != nil {
		return
	}
	id := fmt.Sprintf("%s/%s/%d/%s", t.Sweep, t.ID, attempt, wire.Started)
	if _, err := w.js.PublishAsync(wire.ResultSubject(t.Sweep), b, jetstream.WithMsgID(id)); err != nil {
		w.log.Debug("announcing a start failed", "trial", t.ID, "err", err)
	}
}

// report publishes a result and waits for JetStream to store it.
func (w *Worker) report(ctx context.Context, t *wire.Trial, attempt int, st wire.Status, msg string, out *Outcome) error {
	if len(msg) > 4000 {
		msg = msg[:4000]
	}
	r := &wire.Result{V: wire.Version, Sweep: t.Sweep, ID: t.ID, Kind: t.Kind, Status: st, Worker: w.cfg.ID,
		Attempt: attempt, Error: msg, Time: time.Now().UTC()}
	if out != nil {
		r.Metrics, r.Ensemble = out.Metrics, out.Ensemble
	}
	b, err := wire.Encode(r)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id := fmt.Sprintf("%s/%s/%d/%s", t.Sweep, t.ID, attempt, st)
	if _, err := w.js.Publish(pctx, wire.ResultSubject(t.Sweep), b, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("worker: publish result: %w", err)
	}
	return nil
}

// spec returns the sweep a trial belongs to, as stored in etcd at the
// revision the trial names.
func (w *Worker) spec(ctx context.Context, t *wire.Trial) (*sweepSpec, error) {
	w.mu.Lock()
	s := w.specs[t.Sweep]
	w.mu.Unlock()
	if s != nil && s.rev == t.SpecRevision {
		return s, nil
	}
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := w.etcd.Get(gctx, wire.SpecKey(t.Sweep))
	if err != nil {
		return nil, fmt.Errorf("worker: read sweep %s: %w", t.Sweep, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, Permanent(fmt.Errorf("sweep %q is not in etcd", t.Sweep))
	}
	kv := resp.Kvs[0]
	if kv.ModRevision != t.SpecRevision {
		return nil, Permanent(fmt.Errorf("trial names sweep spec revision %d, etcd holds %d", t.SpecRevision, kv.ModRevision))
	}
	var sw configs.Sweep
	if err := decodeSweep(kv.Value, &sw); err != nil {
		return nil, Permanent(fmt.Errorf("sweep %s in etcd: %w", t.Sweep, err))
	}
	space, err := sw.Parsed()
	if err != nil {
		return nil, Permanent(fmt.Errorf("sweep %s space: %w", t.Sweep, err))
	}
	s = &sweepSpec{rev: kv.ModRevision, sweep: &sw, space: space}
	w.mu.Lock()
	w.specs[t.Sweep] = s
	w.mu.Unlock()
	return s, nil
}

// checkTrial checks a trial against its sweep: member parameters inside
// the declared space, epochs within the sweep's bounds.
func checkTrial(t *wire.Trial, s *sweepSpec) error {
	switch t.Kind {
	case wire.Member:
		if err := s.space.Check(t.Params); err != nil {
			return Permanent(fmt.Errorf("parameters outside the sweep's space: %w", err))
		}
		if t.Epochs > 0 && s.sweep.ASHA.Enabled && t.Epochs > s.sweep.ASHA.MaxEpochs {
			return Permanent(fmt.Errorf("epochs %d above the sweep's asha.max_epochs %d", t.Epochs, s.sweep.ASHA.MaxEpochs))
		}
	case wire.Distill:
		if !s.sweep.Ensemble.Distill {
			return Permanent(fmt.Errorf("sweep %s does not distill", t.Sweep))
		}
		if len(t.Params) != len(s.sweep.Ensemble.Student) {
			return Permanent(fmt.Errorf("distillation parameters differ from the sweep's student"))
		}
		for k, v := range s.sweep.Ensemble.Student {
			if fmt.Sprint(t.Params[k]) != fmt.Sprint(v) {
				return Permanent(fmt.Errorf("distillation parameter %s = %v, the sweep's student says %v", k, t.Params[k], v))
			}
		}
	}
	return nil
}
