package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/dashboard"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/worker"
)

// httpSources is what the HTTP server reports on.
type httpSources struct {
	coordinator *coordinator.Coordinator
	worker      *worker.Worker
	etcd        *clientv3.Client
	nc          *nats.Conn
	// extra registers more handlers.
	extra func(*http.ServeMux)
	// announce, when set, is told the dashboard's address; sweep is the
	// sweep its link opens.
	announce io.Writer
	sweep    string
}

// serveHTTP serves /healthz, /readyz and /metrics on addr (nothing when
// addr is empty) until ctx ends, and for a coordinator (and `consort
// run`) the live dashboard at / (see package dashboard); the returned
// function stops it.
func serveHTTP(ctx context.Context, addr string, log *slog.Logger, src httpSources) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", addr, err)
	}
	return serveOn(ctx, ln, log, src), nil
}

// serveOn serves on ln what serveHTTP describes; the returned function
// stops it.
func serveOn(ctx context.Context, ln net.Listener, log *slog.Logger, src httpSources) func() {
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
	if src.coordinator != nil && src.etcd != nil {
		dashboard.New(src.etcd, dashboard.Config{Version: Version, Logger: log}).Register(mux)
	}
	if src.extra != nil {
		src.extra(mux)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	log.Info("serving http", "addr", ln.Addr().String(), "dashboard", src.coordinator != nil)
	if src.announce != nil && src.coordinator != nil {
		u := url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/"}
		if host, port, err := net.SplitHostPort(u.Host); err == nil && (host == "" || net.ParseIP(host).IsUnspecified()) {
			u.Host = net.JoinHostPort("localhost", port)
		}
		if src.sweep != "" {
			u.RawQuery = url.Values{"sweep": {src.sweep}}.Encode()
		}
		fmt.Fprintf(src.announce, "live dashboard at %s (metrics at /metrics)\n", u.String())
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
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

// collector exposes consort's counters as Prometheus metrics. For a
// coordinator it also reads the running sweeps from etcd at each scrape
// (incrementally, through dashboard.Follower): trials by state, trials
// in flight, and the wall time of every trial seen finishing, in a
// cumulative histogram.
type collector struct {
	src       httpSources
	descs     map[string]*prometheus.Desc
	durations *prometheus.HistogramVec

	mu     sync.Mutex // one scrape at a time reads the sweeps
	follow map[string]*dashboard.Follower
	// ended holds the trials already observed in durations, done the
	// sweeps read after they ended (never read again).
	ended map[string]bool
	done  map[string]bool
}

func newCollector(src httpSources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("consort_"+name, help, labels, nil)
	}
	c := &collector{src: src, descs: map[string]*prometheus.Desc{
		"leading":    d("coordinator_leading", "1 while this coordinator leads"),
		"dispatched": d("trials_dispatched_total", "trials published to workers"),
		"recorded":   d("results_recorded_total", "results recorded in etcd"),
		"duplicates": d("results_duplicate_total", "results ignored because the trial had already ended"),
		"rejected":   d("messages_rejected_total", "messages that failed validation", "role"),
		"etcd":       d("etcd_errors_total", "failed etcd operations"),
		"natserr":    d("nats_errors_total", "failed NATS operations"),
		"trials":     d("trials", "trials of the running sweeps, by state", "state"),
		"inflight":   d("trials_in_flight", "trials of the running sweeps queued or running"),
		"sweeps":     d("sweeps", "sweeps by state", "state"),
		"workers":    d("workers_alive", "workers registered in etcd"),
		"queue":      d("queue_depth", "trials waiting in the work queue"),
		"wdone":      d("worker_trials_total", "trials this worker finished", "outcome"),
		"wrunning":   d("worker_trials_running", "trials this worker is running"),
	}, durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "consort_trial_duration_seconds",
		Help:    "wall time of the trials seen finishing (done or failed) in the sweeps running while this process serves metrics",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
	}, []string{"kind"}), follow: map[string]*dashboard.Follower{}, ended: map[string]bool{}, done: map[string]bool{}}
	for _, k := range []wire.Kind{wire.Member, wire.Ensemble, wire.Distill} {
		c.durations.WithLabelValues(string(k)) // every series from the start
	}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	c.durations.Describe(ch)
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

// collectSweeps reads the running sweeps' trials, the workers and the
// queue depth.
func (c *collector) collectSweeps(ch chan<- prometheus.Metric, gauge func(string, float64, ...string)) {
	if c.src.etcd == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	list, err := dashboard.New(c.src.etcd, dashboard.Config{}).Sweeps(ctx)
	if err != nil {
		return
	}
	states := map[wire.TrialState]int{}
	sweeps := map[string]int{}
	for _, s := range list {
		sweeps[s.State]++
		if c.done[s.Name] {
			continue
		}
		f := c.follow[s.Name]
		if f == nil && wire.SweepState(s.State).Final() { // ended before we looked
			c.done[s.Name] = true
			continue
		}
		if f == nil {
			f = dashboard.NewFollower(c.src.etcd, s.Name)
			c.follow[s.Name] = f
		}
		sw, _, err := f.Read(ctx)
		if err != nil {
			continue
		}
		final := sw.Status.State.Final()
		for _, r := range sw.Records {
			if !final {
				states[r.State]++
			}
			key := s.Name + "/" + r.ID
			if (r.State == wire.TrialDone || r.State == wire.TrialFailed) && !c.ended[key] && !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
				c.ended[key] = true
				c.durations.WithLabelValues(string(r.Kind)).Observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
			}
		}
		if final { // read once more after it ended; never again
			c.done[s.Name] = true
			delete(c.follow, s.Name)
			for k := range c.ended {
				if strings.HasPrefix(k, s.Name+"/") {
					delete(c.ended, k)
				}
			}
		}
	}
	for _, st := range []wire.TrialState{wire.Queued, wire.Running, wire.TrialDone, wire.TrialFailed, wire.Stopped} {
		gauge("trials", float64(states[st]), string(st))
	}
	gauge("inflight", float64(states[wire.Queued]+states[wire.Running]))
	for _, st := range []wire.SweepState{wire.SweepPending, wire.SweepRunning, wire.SweepEnsembling, wire.SweepDone, wire.SweepCancelled, wire.SweepFailed} {
		gauge("sweeps", float64(sweeps[string(st)]), string(st))
	}
	c.durations.Collect(ch)
	if ws, err := coordinator.Workers(ctx, c.src.etcd); err == nil {
		gauge("workers", float64(len(ws)))
	}
	if c.src.nc != nil {
		if depth, err := queueDepth(ctx, c.src.nc); err == nil {
			gauge("queue", float64(depth))
		}
	}
}
