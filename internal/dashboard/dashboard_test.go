package dashboard_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/dashboard"
	"github.com/consort-ml/consort/internal/embedded/embeddedtest"
	"github.com/consort-ml/consort/internal/report/reporttest"
)

// serve serves a dashboard over cli on a local test server.
func serve(t testing.TB, cli *clientv3.Client, cfg dashboard.Config) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	dashboard.New(cli, cfg).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func store(t testing.TB, cli *clientv3.Client, s *coordinator.Sweep) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := reporttest.Store(ctx, cli, s); err != nil {
		t.Fatal(err)
	}
}

// get fetches a URL and returns status, headers and body.
func get(t testing.TB, url string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestAPI(t *testing.T) {
	_, cli := embeddedtest.Etcd(t)
	done := reporttest.Sweep("done-sweep", reporttest.Options{Members: 120, Ensembles: 10, Seed: 1})
	running := reporttest.Sweep("running-sweep", reporttest.Options{Members: 30, Running: 3, Seed: 2})
	running.Status.Submitted = done.Status.Submitted.Add(time.Hour)
	store(t, cli, done)
	store(t, cli, running)
	srv := serve(t, cli, dashboard.Config{Version: "test"})

	t.Run("list", func(t *testing.T) {
		code, _, body := get(t, srv.URL+"/api/sweeps")
		var list []dashboard.SweepSummary
		if err := json.Unmarshal(body, &list); code != 200 || err != nil {
			t.Fatalf("status %d, %v: %s", code, err, body)
		}
		if len(list) != 2 || list[0].Name != "running-sweep" || list[1].Name != "done-sweep" {
			t.Fatalf("list %+v: want the newest first", list)
		}
		if list[1].BestTrial != done.Status.Best.Trial || list[1].BestCV != done.Status.Best.CV.Mean.Accuracy || list[0].BestTrial != "" {
			t.Errorf("best %+v", list)
		}
	})
	for _, tc := range []struct {
		name, query string
		code        int
		rows        int
		want        string
	}{
		{"default", "/api/sweeps/done-sweep", 200, 50, ""},
		{"top and sort", "/api/sweeps/done-sweep?top=7&sort=size", 200, 7, ""},
		{"running", "/api/sweeps/running-sweep?top=1000", 200, -1, ""},
		{"no such sweep", "/api/sweeps/nope", 404, 0, "no such sweep"},
		{"bad sort", "/api/sweeps/done-sweep?sort=speed", 400, 0, "cv, size, latency"},
		{"bad top", "/api/sweeps/done-sweep?top=-3", 400, 0, "top"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := get(t, srv.URL+tc.query)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code != 200 {
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e["error"], tc.want) {
					t.Fatalf("error body %s lacks %q", body, tc.want)
				}
				return
			}
			var v dashboard.SweepView
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(strings.SplitN(tc.query, "?", 2)[0], "/api/sweeps/")
			s := map[string]*coordinator.Sweep{"done-sweep": done, "running-sweep": running}[name]
			want := coordinator.Leaderboard(s, v.Sort)
			if v.TotalRows != len(want) {
				t.Fatalf("total rows %d, leaderboard %d", v.TotalRows, len(want))
			}
			if tc.rows >= 0 && len(v.Rows) != tc.rows {
				t.Fatalf("%d rows, want %d", len(v.Rows), tc.rows)
			}
			for i, r := range v.Rows {
				if r.Trial != want[i].Trial || r.CVAccuracy != want[i].CVAccuracy {
					t.Fatalf("row %d is %s, leaderboard %s", i, r.Trial, want[i].Trial)
				}
			}
			if got := strings.Count(v.TableHTML, "<tr class"); got != len(v.Rows) {
				t.Errorf("table has %d rows, JSON %d", got, len(v.Rows))
			}
			if v.Final != s.Status.State.Final() || v.Verdict == nil || len(v.Plots) < 3 || v.Plots[0].ID != "pareto" {
				t.Errorf("final %v verdict %v plots %d", v.Final, v.Verdict, len(v.Plots))
			}
			if (v.Verdict.Chosen != nil) != (s.Status.Best != nil) {
				t.Errorf("verdict chosen %v, status best %v", v.Verdict.Chosen, s.Status.Best)
			}
			// Conditional and compressed requests.
			if code, _, _ := get(t, srv.URL+tc.query, "If-None-Match", h.Get("ETag")); code != http.StatusNotModified {
				t.Errorf("If-None-Match the ETag: status %d, want 304", code)
			}
			code, h, gz := get(t, srv.URL+tc.query, "Accept-Encoding", "gzip")
			if code != 200 || h.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip: status %d, encoding %q", code, h.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(strings.NewReader(string(gz)))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || string(plain) != string(body) {
				t.Errorf("gzipped body differs from the plain one (%v)", err)
			}
		})
	}
	t.Run("page and files", func(t *testing.T) {
		for _, tc := range []struct{ path, ctype, want string }{
			{"/", "text/html", `src="static/app.js"`},
			{"/static/app.js", "javascript", "api/sweeps"},
			{"/static/report.js", "javascript", "mouseover"},
			{"/static/report.css", "text/css", ".plot"},
			{"/static/dashboard.css", "text/css", ".topbar"},
		} {
			code, h, body := get(t, srv.URL+tc.path)
			if code != 200 || !strings.Contains(h.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s: status %d, type %q, has %q: %v", tc.path, code, h.Get("Content-Type"), tc.want, strings.Contains(string(body), tc.want))
			}
			for _, bad := range []string{"http://", "https://", "//cdn"} {
				if strings.Contains(strings.ReplaceAll(string(body), "http://www.w3.org/2000/svg", ""), bad) {
					t.Errorf("%s refers to another origin (%q)", tc.path, bad)
				}
			}
		}
		if code, _, _ := get(t, srv.URL+"/nothing-here"); code != 404 {
			t.Errorf("unknown path: status %d", code)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/sweeps/done-sweep", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: status %d, want 405 (read-only)", resp.StatusCode)
		}
	})
}

// TestUpdates checks that a running sweep's new trials reach the API.
func TestUpdates(t *testing.T) {
	_, cli := embeddedtest.Etcd(t)
	s := reporttest.Sweep("live", reporttest.Options{Members: 20, Running: 5, Seed: 3})
	store(t, cli, s)
	srv := serve(t, cli, dashboard.Config{MinRead: time.Millisecond})
	rows := func() int {
		t.Helper()
		_, _, body := get(t, srv.URL+"/api/sweeps/live")
		var v dashboard.SweepView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return v.TotalRows
	}
	before := rows()
	more := reporttest.Sweep("live", reporttest.Options{Members: 40, Running: 5, Seed: 3})
	store(t, cli, more)
	time.Sleep(5 * time.Millisecond)
	if after := rows(); after <= before {
		t.Fatalf("rows %d after more trials finished, %d before", after, before)
	}
}

// TestFirstPageAt10k is the bar: with 10,000 trials recorded, the page,
// its files, the sweep list and the first sweep response (cold: read
// from etcd, ranked, plotted, encoded) take under a second together. The
// best of three cold attempts counts: other load on a shared machine
// only adds time.
func TestFirstPageAt10k(t *testing.T) {
	_, cli := embeddedtest.Etcd(t)
	s := reporttest.Sweep("big", reporttest.Options{Members: 10000, Ensembles: 300, Seed: 1})
	store(t, cli, s)
	best := time.Duration(-1)
	for attempt := 1; attempt <= 3 && (best < 0 || best > time.Second); attempt++ {
		srv := serve(t, cli, dashboard.Config{}) // cold
		start := time.Now()
		size := 0
		for _, p := range []string{"/?sweep=big", "/static/app.js", "/static/report.css", "/static/report.js", "/api/sweeps",
			"/api/sweeps/big?top=50&plots=0", "/api/sweeps/big?top=50"} {
			code, _, body := get(t, srv.URL+p, "Accept-Encoding", "gzip")
			if code != 200 {
				t.Fatalf("%s: status %d", p, code)
			}
			size += len(body)
		}
		took := time.Since(start)
		t.Logf("attempt %d: page, files, list, leaderboard and plots with %d trials: %v, %d KiB transferred", attempt, len(s.Records), took, size>>10)
		if best < 0 || took < best {
			best = took
		}
		warm := time.Now()
		get(t, srv.URL+"/api/sweeps/big?top=50", "Accept-Encoding", "gzip")
		t.Logf("again (cached): %v", time.Since(warm))
		srv.Close()
	}
	if best > time.Second && !raceEnabled {
		t.Errorf("first page took %v at best, want < 1s", best)
	}
}

func BenchmarkSweepAPI(b *testing.B) {
	_, cli := embeddedtest.Etcd(b)
	for _, n := range []int{1000, 10000} {
		name := "bench-" + strings.Repeat("x", n/1000)
		store(b, cli, reporttest.Sweep(name, reporttest.Options{Members: n, Ensembles: 200, Seed: 1}))
		b.Run("cold/trials="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				srv := serve(b, cli, dashboard.Config{}) // a fresh cache
				get(b, srv.URL+"/api/sweeps/"+name, "Accept-Encoding", "gzip")
				srv.Close()
			}
		})
	}
}
