package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/wire"
)

// Config configures a coordinator. The zero value works.
type Config struct {
	// ID names the coordinator in the election; empty means "<host>-<pid>".
	ID string
	// SessionTTL is the leadership lease in seconds: a crashed leader is
	// replaced within about this long. 0 means 5.
	SessionTTL int
	// Topology tunes the JetStream streams (ack wait, attempts, replicas).
	Topology bus.Topology
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// Stats counts what a coordinator has done.
type Stats struct {
	// Leading is 1 while this coordinator leads.
	Leading atomic.Int64
	// Dispatched counts trials published; Recorded results recorded;
	// Duplicates results ignored because the trial had already ended;
	// Rejected messages that did not decode; EtcdErrors and NATSErrors
	// failed operations.
	Dispatched, Recorded, Duplicates, Rejected, EtcdErrors, NATSErrors atomic.Int64
}

// Coordinator runs sweeps while it leads.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream
	etcd  *clientv3.Client
	stats Stats

	mu      sync.Mutex
	runners map[string]*runner
}

// New builds a coordinator on open connections.
func New(cfg Config, nc *nats.Conn, etcd *clientv3.Client) (*Coordinator, error) {
	if cfg.ID == "" {
		cfg.ID = bus.DefaultID()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger.With("coordinator", cfg.ID), nc: nc, js: js, etcd: etcd, runners: map[string]*runner{}}, nil
}

// ID returns the coordinator's id.
func (c *Coordinator) ID() string { return c.cfg.ID }

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() *Stats { return &c.stats }

// Run campaigns for leadership and, while leading, runs every unfinished
// sweep; when leadership is lost it campaigns again. It returns nil when
// ctx ends.
func (c *Coordinator) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := c.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("leadership term ended; campaigning again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// term campaigns, then leads until leadership or ctx is lost.
func (c *Coordinator) term(ctx context.Context) error {
	s, err := concurrency.NewSession(c.etcd, concurrency.WithTTL(c.cfg.SessionTTL), concurrency.WithContext(ctx))
	if err != nil {
		c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: session: %w", err)
	}
	defer s.Close()
	e := concurrency.NewElection(s, wire.ElectionPrefix())
	c.log.Info("campaigning for leadership")
	if err := e.Campaign(ctx, c.cfg.ID); err != nil {
		return fmt.Errorf("coordinator: campaign: %w", err)
	}
	f := fence{key: e.Key(), rev: e.Rev()}
	c.log.Info("leading", "fence_rev", f.rev)
	c.stats.Leading.Store(1)
	defer c.stats.Leading.Store(0)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.Done():
			c.log.Warn("leadership session lost")
			cancel()
		case <-lctx.Done():
		}
	}()
	err = c.lead(lctx, f)
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	e.Resign(rctx)
	rcancel()
	return err
}

// lead runs the sweeps until ctx ends.
func (c *Coordinator) lead(ctx context.Context, f fence) error {
	if err := bus.Setup(ctx, c.js, c.cfg.Topology); err != nil {
		c.stats.NATSErrors.Add(1)
		return err
	}
	store, err := c.js.ObjectStore(ctx, wire.ArtifactsBucket)
	if err != nil {
		c.stats.NATSErrors.Add(1)
		return fmt.Errorf("coordinator: artifacts: %w", err)
	}
	cons, err := c.js.Consumer(ctx, wire.ResultsStream, wire.CoordinatorConsumer)
	if err != nil {
		c.stats.NATSErrors.Add(1)
		return fmt.Errorf("coordinator: results consumer: %w", err)
	}
	w := &writer{cli: c.etcd, fence: f}
	if err := c.publishDelivery(ctx, w); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	start := func(name string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.runners[name]; ok {
			return
		}
		r := newRunner(c, w, store, name)
		c.runners[name] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.run(lctx)
			c.mu.Lock()
			delete(c.runners, name)
			c.mu.Unlock()
			switch {
			case err == nil || lctx.Err() != nil:
			case err == ErrNotLeader:
				cancel(err)
			default:
				c.log.Error("sweep runner stopped", "sweep", name, "err", err)
			}
		}()
	}

	// Sweeps: start a runner for every unfinished one, now and as they
	// are submitted; pass on cancel requests.
	resp, err := c.etcd.Get(lctx, wire.SweepsPrefix(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: list sweeps: %w", err)
	}
	for _, kv := range resp.Kvs {
		if name, ok := sweepOf(string(kv.Key), "/spec"); ok {
			start(name)
		}
	}
	// Results: route each to its sweep's runner — only once the runners
	// of the existing sweeps are registered.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.consumeResults(lctx, cons)
	}()
	watch := c.etcd.Watch(clientv3.WithRequireLeader(lctx), wire.SweepsPrefix(), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	for {
		select {
		case <-lctx.Done():
			if cause := context.Cause(lctx); cause == ErrNotLeader {
				return cause
			}
			return nil
		case wr, ok := <-watch:
			if !ok || wr.Err() != nil {
				c.stats.EtcdErrors.Add(1)
				if lctx.Err() != nil {
					continue
				}
				return fmt.Errorf("coordinator: watch sweeps: %v", wr.Err())
			}
			for _, ev := range wr.Events {
				if ev.Type != clientv3.EventTypePut {
					continue
				}
				key := string(ev.Kv.Key)
				if name, ok := sweepOf(key, "/spec"); ok {
					start(name)
				} else if name, ok := sweepOf(key, "/cancel"); ok {
					c.mu.Lock()
					r := c.runners[name]
					c.mu.Unlock()
					if r != nil {
						r.requestCancel()
					}
				}
			}
		}
	}
}

// sweepOf extracts the sweep name from /consort/sweeps/<name><suffix>.
func sweepOf(key, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(key, wire.SweepsPrefix())
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, suffix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// consumeResults hands every result to its sweep's runner; the runner acks
// it once it is recorded.
func (c *Coordinator) consumeResults(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		batch, err := cons.Fetch(256, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				c.stats.NATSErrors.Add(1)
				c.log.Warn("fetching results failed; retrying", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
			continue
		}
		for msg := range batch.Messages() {
			r, err := wire.DecodeResult(msg.Data())
			if err != nil {
				c.stats.Rejected.Add(1)
				c.log.Warn("rejected a result", "subject", msg.Subject(), "err", err)
				msg.Term()
				continue
			}
			if msg.Subject() != wire.ResultSubject(r.Sweep) {
				c.stats.Rejected.Add(1)
				c.log.Warn("rejected a result on another sweep's subject", "subject", msg.Subject(), "sweep", r.Sweep)
				msg.Term()
				continue
			}
			c.mu.Lock()
			run := c.runners[r.Sweep]
			c.mu.Unlock()
			if run == nil {
				// No runner: a finished sweep has nothing to record; for
				// any other, hand the result back until one runs.
				if c.sweepFinal(ctx, r.Sweep) {
					msg.Ack()
				} else {
					msg.NakWithDelay(time.Second)
				}
				continue
			}
			select {
			case run.results <- delivery{r, msg}:
			case <-ctx.Done():
				cancel()
				return
			}
		}
		cancel()
	}
}

// delivery is a result with its message, acked once recorded.
type delivery struct {
	r   *wire.Result
	msg jetstream.Msg
}

// sweepFinal reports whether etcd says the sweep has ended (or does not
// exist at all).
func (c *Coordinator) sweepFinal(ctx context.Context, sweep string) bool {
	resp, err := c.etcd.Get(ctx, wire.StatusKey(sweep))
	if err != nil {
		c.stats.EtcdErrors.Add(1)
		return false
	}
	if len(resp.Kvs) == 0 {
		spec, err := c.etcd.Get(ctx, wire.SpecKey(sweep), clientv3.WithCountOnly())
		return err == nil && spec.Count == 0
	}
	var st wire.SweepStatus
	if err := json.Unmarshal(resp.Kvs[0].Value, &st); err != nil {
		return false
	}
	return st.State.Final()
}

// publishDelivery records the delivery settings in etcd (fenced), where
// workers read the attempts cap.
func (c *Coordinator) publishDelivery(ctx context.Context, w *writer) error {
	t := c.cfg.Topology.Normal()
	b, err := json.Marshal(wire.Delivery{MaxAttempts: t.MaxAttempts, AckWait: t.AckWait})
	if err != nil {
		return err
	}
	resp, err := c.etcd.Txn(ctx).If(w.fence.cmp()).Then(clientv3.OpPut(wire.DeliveryKey(), string(b))).Commit()
	if err != nil {
		c.stats.EtcdErrors.Add(1)
		return fmt.Errorf("coordinator: delivery settings: %w", err)
	}
	if !resp.Succeeded {
		return ErrNotLeader
	}
	return nil
}
