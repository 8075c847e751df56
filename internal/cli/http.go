package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/worker"
)

// httpSources is what the HTTP server reports on.
type httpSources struct {
	coordinator *coordinator.Coordinator
	worker      *worker.Worker
	etcd        *clientv3.Client
	nc          *nats.Conn
	// extra registers more handlers (the dashboard).
	extra func(*http.ServeMux)
}

// serveHTTP serves /healthz, /readyz and /metrics on addr (nothing when
// addr is empty) until ctx ends; the returned function stops it.
func serveHTTP(ctx context.Context, addr string, log *slog.Logger, src httpSources) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), src); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(src))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if src.extra != nil {
		src.extra(mux)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	log.Info("serving http", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// ready checks the connections a process needs.
func ready(ctx context.Context, src httpSources) error {
	if src.nc != nil && !src.nc.IsConnected() {
		return errors.New("nats: not connected")
	}
	if src.etcd != nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := src.etcd.Get(cctx, wire.Prefix+"ping", clientv3.WithCountOnly()); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
	}
	return nil
}

// collector exposes consort's counters as Prometheus metrics.
type collector struct {
	src   httpSources
	descs map[string]*prometheus.Desc
}

func newCollector(src httpSources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("consort_"+name, help, labels, nil)
	}
	return &collector{src: src, descs: map[string]*prometheus.Desc{
		"leading":    d("coordinator_leading", "1 while this coordinator leads"),
		"dispatched": d("trials_dispatched_total", "trials published to workers"),
		"recorded":   d("results_recorded_total", "results recorded in etcd"),
		"duplicates": d("results_duplicate_total", "results ignored because the trial had already ended"),
		"rejected":   d("messages_rejected_total", "messages that failed validation", "role"),
		"etcd":       d("etcd_errors_total", "failed etcd operations"),
		"natserr":    d("nats_errors_total", "failed NATS operations"),
		"trials":     d("trials", "trials by state, over all sweeps", "state"),
		"workers":    d("workers_alive", "workers registered in etcd"),
		"queue":      d("queue_depth", "trials waiting in the work queue"),
		"duration":   d("trial_duration_seconds", "trial wall time", "kind"),
		"wdone":      d("worker_trials_total", "trials this worker finished", "outcome"),
		"wrunning":   d("worker_trials_running", "trials this worker is running"),
	}}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(name string, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(name string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v, labels...)
	}
	if co := c.src.coordinator; co != nil {
		st := co.Stats()
		gauge("leading", float64(st.Leading.Load()))
		counter("dispatched", st.Dispatched.Load())
		counter("recorded", st.Recorded.Load())
		counter("duplicates", st.Duplicates.Load())
		counter("rejected", st.Rejected.Load(), "coordinator")
		counter("etcd", st.EtcdErrors.Load())
		counter("natserr", st.NATSErrors.Load())
		c.collectSweeps(ch, gauge)
	}
	if w := c.src.worker; w != nil {
		st := w.Stats().Snapshot()
		counter("wdone", st.Done, "done")
		counter("wdone", st.Failed, "failed")
		counter("wdone", st.Retried, "retried")
		counter("rejected", st.Rejected, "worker")
		gauge("wrunning", float64(st.Running))
	}
}

// collectSweeps reads trial states, durations, workers and queue depth.
func (c *collector) collectSweeps(ch chan<- prometheus.Metric, gauge func(string, float64, ...string)) {
	if c.src.etcd == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	list, err := coordinator.List(ctx, c.src.etcd)
	if err != nil {
		return
	}
	states := map[wire.TrialState]int{}
	hist := map[wire.Kind]*histogram{}
	for _, s := range list {
		if s.Status.State.Final() {
			continue
		}
		sw, err := coordinator.Read(ctx, c.src.etcd, s.Name)
		if err != nil {
			continue
		}
		for _, r := range sw.Records {
			states[r.State]++
			if r.State == wire.TrialDone && !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
				if hist[r.Kind] == nil {
					hist[r.Kind] = newHistogram()
				}
				hist[r.Kind].observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
			}
		}
	}
	for _, st := range []wire.TrialState{wire.Queued, wire.Running, wire.TrialDone, wire.TrialFailed, wire.Stopped} {
		gauge("trials", float64(states[st]), string(st))
	}
	for kind, h := range hist {
		ch <- prometheus.MustNewConstHistogram(c.descs["duration"], h.count, h.sum, h.buckets, string(kind))
	}
	if ws, err := coordinator.Workers(ctx, c.src.etcd); err == nil {
		gauge("workers", float64(len(ws)))
	}
	if c.src.nc != nil {
		if depth, err := queueDepth(ctx, c.src.nc); err == nil {
			gauge("queue", float64(depth))
		}
	}
}

// histogram accumulates a Prometheus histogram's buckets.
type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

func newHistogram() *histogram {
	h := &histogram{buckets: map[float64]uint64{}}
	for _, b := range []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800} {
		h.buckets[b] = 0
	}
	return h
}

func (h *histogram) observe(v float64) {
	h.count++
	h.sum += v
	for b := range h.buckets {
		if v <= b {
			h.buckets[b]++
		}
	}
}
