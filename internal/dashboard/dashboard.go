package dashboard

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/singleflight"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/report"
	"github.com/consort-ml/consort/internal/wire"
)

//go:embed static
var static embed.FS

// Config tunes a dashboard. The zero Config is ready to use.
type Config struct {
	// Refresh is how often a page polls while its sweep runs; zero means
	// 2s.
	Refresh time.Duration
	// MinRead is the least time between two reads of one running sweep
	// from etcd, however many pages poll; zero means 1s.
	MinRead time.Duration
	// MaxPoints caps the points of the over-time and per-parameter plots;
	// zero means 500.
	MaxPoints int
	// MaxPareto caps the points of the Pareto plot (its front always
	// shown); zero means 2000.
	MaxPareto int
	// Version is the consort version shown in the footer.
	Version string
	// Logger receives errors reading etcd; nil discards them.
	Logger *slog.Logger
}

// Server serves the dashboard. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cli         *clientv3.Client
	cfg         Config
	group       singleflight.Group
	prefetching atomic.Bool

	mu    sync.Mutex
	cache map[string]*entry
}

// entry is one sweep as last read, with its rendered responses.
type entry struct {
	sweep  *coordinator.Sweep
	follow *Follower // used by one singleflight call at a time
	// read is when the sweep was last checked (guarded by Server.mu).
	read time.Time

	mu    sync.Mutex
	rows  map[string][]coordinator.Row // by sort
	resps map[string]*response         // by sort and top
}

// response is an encoded API response, plain and gzipped.
type response struct {
	etag      string
	plain, gz []byte
	gzipOnce  sync.Once
}

// New returns a dashboard reading sweeps from etcd through cli.
func New(cli *clientv3.Client, cfg Config) *Server {
	cfg.Refresh = cmp.Or(cfg.Refresh, 2*time.Second)
	cfg.MinRead = cmp.Or(cfg.MinRead, time.Second)
	cfg.MaxPoints = cmp.Or(cfg.MaxPoints, 500)
	cfg.MaxPareto = cmp.Or(cfg.MaxPareto, 2000)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cli: cli, cfg: cfg, cache: map[string]*entry{}}
}

// Register adds the dashboard's routes to mux: the page at /, its files
// under /static/, and the read-only JSON API:
//
//	GET /api/sweeps                          every sweep's summary
//	GET /api/sweeps/{name}?top=N&sort=cv     one sweep: verdict, rows, plots
//	                       &plots=0          … without the plots (quicker)
func (s *Server) Register(mux *http.ServeMux) {
	files, _ := fs.Sub(static, "static")
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.prefetch(r.URL.Query())
		secure(w)
		page, _ := fs.ReadFile(files, "index.html")
		page = bytes.ReplaceAll(page, []byte("{{refresh}}"), []byte(strconv.FormatInt(s.cfg.Refresh.Milliseconds(), 10)))
		page = bytes.ReplaceAll(page, []byte("{{version}}"), []byte(s.cfg.Version))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(page)
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(files)))
	mux.HandleFunc("GET /static/report.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write([]byte(report.Stylesheet))
	})
	mux.HandleFunc("GET /static/report.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte(report.Script))
	})
	mux.HandleFunc("GET /api/sweeps", s.handleList)
	mux.HandleFunc("GET /api/sweeps/{name}", s.handleSweep)
}

// prefetch starts reading and rendering, in the background, the sweep a
// page just requested will ask for (the one named in its query, else the
// one it picks: the newest running, else the newest), so that the work
// overlaps the browser's loading of the page. One prefetch runs at a time.
func (s *Server) prefetch(q url.Values) {
	if !s.prefetching.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.prefetching.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		name := q.Get("sweep")
		if name == "" {
			list, err := s.Sweeps(ctx)
			if err != nil || len(list) == 0 {
				return
			}
			name = list[0].Name
			for _, sw := range list {
				if !wire.SweepState(sw.State).Final() {
					name = sw.Name
					break
				}
			}
		}
		sortBy := cmp.Or(q.Get("sort"), "cv")
		top, err := strconv.Atoi(cmp.Or(q.Get("top"), "50"))
		if err != nil || top < 1 || (sortBy != "cv" && sortBy != "size" && sortBy != "latency") {
			return
		}
		e, err := s.sweep(ctx, name)
		if err != nil {
			return
		}
		e.response(sortBy, top, false, s.cfg)
		e.response(sortBy, top, true, s.cfg)
	}()
}

// secure sets the headers that keep the page to its own origin.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// SweepSummary is one sweep in GET /api/sweeps.
type SweepSummary struct {
	// Name and State are the sweep's; Submitted when it was submitted,
	// Finished when it ended (zero while it runs).
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Submitted time.Time `json:"submitted"`
	Finished  time.Time `json:"finished,omitzero"`
	// BestTrial and BestCV are the chosen ensemble's, when chosen.
	BestTrial string  `json:"best_trial,omitempty"`
	BestCV    float64 `json:"best_cv,omitempty"`
}

// Sweeps lists every sweep, the most recently submitted first. Unlike
// coordinator.List it reads keys only, then the status values, so a
// sweep's trial records are not transferred.
func (s *Server) Sweeps(ctx context.Context) ([]SweepSummary, error) {
	resp, err := s.cli.Get(ctx, wire.SweepsPrefix(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("dashboard: list sweeps: %w", err)
	}
	var ops []clientv3.Op
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		if rest, ok := strings.CutPrefix(k, wire.SweepsPrefix()); ok && strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/status") {
			ops = append(ops, clientv3.OpGet(k))
		}
	}
	out := []SweepSummary{}
	for len(ops) > 0 {
		n := min(len(ops), 64)
		tr, err := s.cli.Txn(ctx).Then(ops[:n]...).Commit()
		if err != nil {
			return nil, fmt.Errorf("dashboard: list sweeps: %w", err)
		}
		ops = ops[n:]
		for _, r := range tr.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				var st wire.SweepStatus
				if json.Unmarshal(kv.Value, &st) != nil {
					continue
				}
				name := strings.TrimSuffix(strings.TrimPrefix(string(kv.Key), wire.SweepsPrefix()), "/status")
				sum := SweepSummary{Name: name, State: string(st.State), Submitted: st.Submitted, Finished: st.Finished}
				if b := st.Best; b != nil {
					sum.BestTrial, sum.BestCV = b.Trial, b.CV.Mean.Accuracy
				}
				out = append(out, sum)
			}
		}
	}
	slices.SortFunc(out, func(a, b SweepSummary) int {
		return cmp.Or(b.Submitted.Compare(a.Submitted), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	list, err := s.Sweeps(r.Context())
	if err != nil {
		s.fail(w, http.StatusServiceUnavailable, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, list)
}

// SweepView is the body of GET /api/sweeps/{name}.
type SweepView struct {
	Sweep string `json:"sweep"`
	State string `json:"state"`
	// Final is true once the sweep will not change.
	Final bool `json:"final"`
	// Revision is the etcd revision the sweep was read at.
	Revision int64 `json:"revision"`
	// Verdict answers what to ship, how accurate, how big, how sure.
	Verdict *report.Verdict `json:"verdict"`
	// Rows are the first Top leaderboard rows in the requested order;
	// TotalRows counts them all.
	Rows      []coordinator.Row `json:"rows"`
	TotalRows int               `json:"total_rows"`
	// Sort and Top echo the request.
	Sort string `json:"sort"`
	Top  int    `json:"top"`
	// HeaderHTML, VerdictHTML and TableHTML are the rendered fragments
	// the page swaps in; Plots the figures (none when asked plots=0).
	HeaderHTML  string        `json:"header_html"`
	VerdictHTML string        `json:"verdict_html"`
	TableHTML   string        `json:"table_html"`
	Plots       []report.Plot `json:"plots"`
}

func (s *Server) handleSweep(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	sortBy := cmp.Or(q.Get("sort"), "cv")
	if sortBy != "cv" && sortBy != "size" && sortBy != "latency" {
		s.fail(w, http.StatusBadRequest, fmt.Errorf("sort %q: allowed cv, size, latency", sortBy))
		return
	}
	top := 50
	if t := q.Get("top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 100000 {
			s.fail(w, http.StatusBadRequest, fmt.Errorf("top %q: want a number from 1 to 100000", t))
			return
		}
		top = n
	}
	plots := q.Get("plots") != "0"
	e, err := s.sweep(r.Context(), name)
	switch {
	case errors.Is(err, coordinator.ErrNoSweep):
		s.fail(w, http.StatusNotFound, err)
		return
	case err != nil:
		s.fail(w, http.StatusServiceUnavailable, err)
		return
	}
	resp, err := e.response(sortBy, top, plots, s.cfg)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	h := w.Header()
	h.Set("ETag", resp.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && match == resp.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	body := resp.plain
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = resp.gzipped()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// sweep returns the sweep's entry. A final sweep is never read again; a
// running one at most once per MinRead, however many pages poll, and
// then only what changed (see Follower). Concurrent requests share one
// read.
func (s *Server) sweep(ctx context.Context, name string) (*entry, error) {
	s.mu.Lock()
	e := s.cache[name]
	fresh := e != nil && (e.final() || time.Since(e.read) < s.cfg.MinRead)
	s.mu.Unlock()
	if fresh {
		return e, nil
	}
	v, err, _ := s.group.Do(name, func() (any, error) {
		// Shared by every waiting request: not bound to the first one's.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		f := NewFollower(s.cli, name)
		if e != nil {
			f = e.follow
		}
		sw, changed, err := f.Read(ctx)
		if err != nil {
			if !errors.Is(err, coordinator.ErrNoSweep) {
				s.cfg.Logger.Error("dashboard: read sweep", "sweep", name, "err", err)
			}
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !changed {
			e.read = time.Now()
			return e, nil
		}
		ne := &entry{sweep: sw, follow: f, read: time.Now(), rows: map[string][]coordinator.Row{}, resps: map[string]*response{}}
		s.cache[name] = ne
		return ne, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*entry), nil
}

func (e *entry) final() bool { return e.sweep.Status.State.Final() }

// response renders (once) the API response for a sort, top and whether
// to include plots.
func (e *entry) response(sortBy string, top int, plots bool, cfg Config) (*response, error) {
	key := sortBy + "/" + strconv.Itoa(top)
	if !plots {
		key += "/noplots"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.resps[key]; r != nil {
		return r, nil
	}
	rows, ok := e.rows[sortBy]
	if !ok {
		rows = coordinator.Leaderboard(e.sweep, sortBy)
		e.rows[sortBy] = rows
	}
	page, err := report.Build(e.sweep, rows, report.Options{Top: top, MaxPoints: cfg.MaxPoints, MaxPareto: cfg.MaxPareto, Version: cfg.Version, NoPlots: !plots,
		MoreHint: "choose more rows at the top of the page"})
	if err != nil {
		return nil, err
	}
	v := SweepView{Sweep: e.sweep.Spec.Name, State: string(e.sweep.Status.State), Final: e.final(), Revision: e.sweep.Revision,
		Verdict: page.Verdict, Rows: rows[:min(top, len(rows))], TotalRows: len(rows), Sort: sortBy, Top: top,
		HeaderHTML: page.Header, VerdictHTML: page.VerdictHTML, TableHTML: page.TableHTML, Plots: page.Plots}
	if v.Rows == nil {
		v.Rows = []coordinator.Row{}
	}
	if v.Plots == nil {
		v.Plots = []report.Plot{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the fragments are HTML: \u003c would bloat them
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("dashboard: encode %s: %w", v.Sweep, err)
	}
	r := &response{etag: fmt.Sprintf(`"%d-%s"`, e.sweep.Revision, strings.ReplaceAll(key, "/", "-")), plain: b.Bytes()}
	if len(e.resps) >= 8 { // a few variants per sweep; forget the rest
		clear(e.resps)
	}
	e.resps[key] = r
	return r, nil
}

// gzipped returns the body compressed, compressing it once.
func (r *response) gzipped() []byte {
	r.gzipOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		zw.Write(r.plain)
		zw.Close()
		r.gz = b.Bytes()
	})
	return r.gz
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// fail writes an error as JSON: {"error": "..."}.
func (s *Server) fail(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
