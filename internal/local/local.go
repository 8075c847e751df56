// Package local runs a whole consort cluster in one process — embedded
// NATS and etcd, a coordinator and N workers talking over loopback, the
// same code paths as a real cluster — for `consort run` and for tests.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/embedded"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/worker"
)

// Options configures a local cluster.
type Options struct {
	// Dir holds the servers' data (nats/ and etcd/ below it).
	Dir string
	// Workers is the number of workers; Concurrency each one's trials at
	// once (0: 1).
	Workers, Concurrency int
	// DataRoot is the workers' data root.
	DataRoot string
	// Executor overrides the workers' trial executor (tests, benchmarks).
	Executor worker.Executor
	// Topology tunes the streams.
	Topology bus.Topology
	// Logger receives the components' logs; nil discards them.
	Logger *slog.Logger
	// Version and GEMM are reported in worker registrations.
	Version, GEMM string
}

// Cluster is a running local cluster.
type Cluster struct {
	NATS *embedded.NATS
	Etcd *embedded.Etcd
	// Client is an etcd client for the caller; Conn a NATS connection.
	Client *clientv3.Client
	Conn   *nats.Conn
	// Coordinator and Workers are the running components.
	Coordinator *coordinator.Coordinator
	Workers     []*worker.Worker

	cancel    context.CancelFunc
	stopCoord context.CancelFunc
	coordDone chan struct{}
	wg        sync.WaitGroup
	conns     []func()
	once      sync.Once
}

// Start brings up the servers, a coordinator and the workers.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	c := &Cluster{}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	var err error
	if c.NATS, err = embedded.StartNATS(filepath.Join(o.Dir, "nats")); err != nil {
		return nil, err
	}
	if c.Etcd, err = embedded.StartEtcd(filepath.Join(o.Dir, "etcd")); err != nil {
		return nil, err
	}
	conf := &bus.Config{NATS: []string{c.NATS.URL}, Etcd: []string{c.Etcd.Endpoint}, Timeout: 10 * time.Second}
	dial := func(name string) (*nats.Conn, *clientv3.Client, error) {
		conf.Name = name
		nc, err := bus.DialNATS(ctx, conf)
		if err != nil {
			return nil, nil, err
		}
		ec, err := bus.DialEtcd(ctx, conf)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		c.conns = append(c.conns, func() { nc.Close(); ec.Close() })
		return nc, ec, nil
	}
	if c.Conn, c.Client, err = dial("consort-local"); err != nil {
		return nil, err
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	nc, ec, err := dial("consort-coordinator")
	if err != nil {
		return nil, err
	}
	if c.Coordinator, err = coordinator.New(coordinator.Config{ID: "local-coordinator", Topology: o.Topology, Logger: o.Logger}, nc, ec); err != nil {
		return nil, err
	}
	cctx, stopCoord := context.WithCancel(run)
	c.stopCoord, c.coordDone = stopCoord, make(chan struct{})
	c.wg.Add(1)
	go func() { defer c.wg.Done(); defer close(c.coordDone); c.Coordinator.Run(cctx) }()
	// Workers need the topology the coordinator sets up when it leads.
	if err := c.waitTopology(ctx); err != nil {
		return nil, err
	}
	// The in-process workers share one trainer: its dataset, predictions
	// and checkpoint caches serve all of them, so a promotion continues
	// its parent's training whichever worker takes it.
	exec := o.Executor
	if exec == nil {
		exec = &worker.Trainer{DataRoot: o.DataRoot}
	}
	for i := range o.Workers {
		nc, ec, err := dial(fmt.Sprintf("consort-worker-%d", i+1))
		if err != nil {
			return nil, err
		}
		w, err := worker.New(worker.Config{ID: fmt.Sprintf("local-worker-%d", i+1), Concurrency: o.Concurrency,
			DataRoot: o.DataRoot, Executor: exec, Logger: o.Logger, Version: o.Version, GEMM: o.GEMM, Drain: time.Minute}, nc, ec)
		if err != nil {
			return nil, err
		}
		c.Workers = append(c.Workers, w)
		c.wg.Add(1)
		go func() { defer c.wg.Done(); w.Run(run) }()
	}
	ok = true
	return c, nil
}

// waitTopology waits until the coordinator has created the streams.
func (c *Cluster) waitTopology(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c.Coordinator.Stats().Leading.Load() == 1 {
			js, err := jetstream.New(c.Conn)
			if err == nil {
				if _, err := js.Consumer(ctx, wire.TrialsStream, wire.WorkersConsumer); err == nil {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("local: the coordinator did not take the lead within 30s")
}

// stopCoordinator stops the coordinator alone (tests of failover).
func (c *Cluster) stopCoordinator() {
	c.stopCoord()
	<-c.coordDone
}

// Close stops the workers (draining), the coordinator and the servers.
func (c *Cluster) Close() {
	c.once.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		for _, f := range c.conns {
			f()
		}
		if c.Etcd != nil {
			c.Etcd.Close()
		}
		if c.NATS != nil {
			c.NATS.Close()
		}
	})
}
