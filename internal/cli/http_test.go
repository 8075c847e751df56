package cli

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/local"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/trainer"
)

// fastSweep is a quick real sweep: digits, 3 folds, few epochs.
func fastSweep(t *testing.T, name string, trials int) *configs.Sweep {
	t.Helper()
	sw := &configs.Sweep{
		Name: name, Seed: 5, Objective: "accuracy", Parallelism: 2,
		Data: configs.SweepData{Source: "digits", Header: "auto", Folds: 3, TestFraction: 0.2, SplitSeed: 1},
		Base: trainer.DefaultConfig(),
		Space: map[string]any{"lr": map[string]any{"type": "float", "low": 1e-3, "high": 1e-2, "log": true},
			"sparsity": []any{0.0, 0.5}, "bits": []any{8, 32}},
		Sampler:  configs.SamplerConfig{Name: "random"},
		Budget:   configs.Budget{Trials: trials},
		Ensemble: configs.EnsembleConfig{Enabled: true, Pool: 4, Methods: []string{"average", "caruana"}},
	}
	sw.Base.Epochs, sw.Base.FineTune, sw.Base.Hidden = 8, 2, []int{32}
	if err := sw.Validate(); err != nil {
		t.Fatal(err)
	}
	return sw
}

// scrape fetches /metrics and parses the exposition format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// value returns the value of the family's sample with the label pairs.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
outer:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue outer
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.Counter.GetValue(), true
		case dto.MetricType_GAUGE:
			return m.Gauge.GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsDuringSweep scrapes a coordinator's /metrics while a real
// sweep runs and checks every metric family, its type and its values.
func TestMetricsDuringSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := local.Start(ctx, local.Options{Dir: t.TempDir(), Workers: 2, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var announced strings.Builder
	stop := serveOn(ctx, ln, slog.New(slog.DiscardHandler), dashboardSources(cl, "metrics", &announced))
	defer stop()
	url := "http://" + ln.Addr().String()
	if want := "live dashboard at " + url + "/?sweep=metrics"; !strings.Contains(announced.String(), want) {
		t.Errorf("announced %q, want %q", announced.String(), want)
	}

	sw := fastSweep(t, "metrics", 10)
	if err := coordinator.Submit(ctx, cl.Client, sw); err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{
		"consort_coordinator_leading":     dto.MetricType_GAUGE,
		"consort_trials":                  dto.MetricType_GAUGE,
		"consort_trials_in_flight":        dto.MetricType_GAUGE,
		"consort_sweeps":                  dto.MetricType_GAUGE,
		"consort_workers_alive":           dto.MetricType_GAUGE,
		"consort_queue_depth":             dto.MetricType_GAUGE,
		"consort_trial_duration_seconds":  dto.MetricType_HISTOGRAM,
		"consort_trials_dispatched_total": dto.MetricType_COUNTER,
		"consort_results_recorded_total":  dto.MetricType_COUNTER,
		"consort_etcd_errors_total":       dto.MetricType_COUNTER,
		"consort_nats_errors_total":       dto.MetricType_COUNTER,
	}
	var sawInFlight, sawDone bool
	var last map[string]*dto.MetricFamily
	var lastDurations float64
	for {
		fams := scrape(t, url)
		if len(last) == 0 || sawInFlight {
			for name, typ := range types {
				if f := fams[name]; f == nil || f.GetType() != typ {
					t.Fatalf("metric %s missing or not a %s", name, typ)
				}
			}
		}
		if v, _ := value(fams, "consort_trials_in_flight"); v > 0 {
			sawInFlight = true
		}
		if v, _ := value(fams, "consort_trials", "state", "done"); v > 0 {
			sawDone = true
		}
		d, _ := value(fams, "consort_trial_duration_seconds", "kind", "member")
		if d < lastDurations {
			t.Fatalf("the duration histogram went back from %v to %v observations", lastDurations, d)
		}
		lastDurations = d
		last = fams
		st, err := coordinator.Read(ctx, cl.Client, sw.Name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status.State.Final() {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	if !sawInFlight || !sawDone {
		t.Errorf("during the sweep: saw trials in flight %v, done trials %v", sawInFlight, sawDone)
	}
	final := scrape(t, url)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"consort_coordinator_leading", nil, 1},
		{"consort_workers_alive", nil, 2},
		{"consort_trial_duration_seconds", []string{"kind", "member"}, 10},
		{"consort_sweeps", []string{"state", "done"}, 1},
		{"consort_etcd_errors_total", nil, 0},
		{"consort_nats_errors_total", nil, 0},
	} {
		if v, ok := value(final, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if v, _ := value(final, "consort_trial_duration_seconds", "kind", "ensemble"); v == 0 {
		t.Error("no ensemble trial durations")
	}
	if v, _ := value(final, "consort_results_recorded_total"); v < 10 {
		t.Errorf("results recorded %v, want at least the 10 members", v)
	}
	// The coordinator's server also serves the dashboard.
	resp, err := http.Get(url + "/api/sweeps/" + sw.Name + "?top=3")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"state":"`+string(wire.SweepDone)+`"`) {
		t.Errorf("dashboard API: %s %.200s", resp.Status, body)
	}
}
