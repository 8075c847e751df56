package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/gemm"
	"github.com/consort-ml/consort/internal/local"
	"github.com/consort-ml/consort/internal/report"
	"github.com/consort-ml/consort/internal/wire"
)

type runOptions struct {
	workers, concurrency int
	out, state, dataRoot string
	http, logFormat      string
	verbose              bool
	top                  int
	quiet                bool
}

func newRunCommand(s *streams) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run SWEEP.yaml",
		Short: "Run a sweep on this machine (embedded NATS and etcd, a coordinator and N workers)",
		Long: `Run a sweep locally: consort starts an embedded NATS server (JetStream) and
an embedded etcd, a coordinator and --workers workers in this process — the
same code paths as a cluster, over loopback — runs the sweep, prints the
leaderboard and writes the run directory (runs/SWEEP/ by default):
leaderboard.csv and .json, report.html (plots, opens offline), the
resolved sweep.yaml, sweep.json (every trial), and best.consort, the
chosen ensemble, which 'consort predict' runs. Progress goes to stderr,
the leaderboard to stdout.

State lives in runs/SWEEP/state: run the same command again after an
interruption and the sweep resumes where it stopped.`,
		Example: "  consort run configs/quickstart.yaml\n  consort run sweep.yaml --workers 4 --data-root /data",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sw, err := configs.LoadSweep(args[0])
			if err != nil {
				return err
			}
			if o.workers < 0 || o.concurrency < 1 || o.top < 1 {
				return usageError(fmt.Errorf("--workers %d, --concurrency %d, --top %d: want ≥ 0, ≥ 1, ≥ 1", o.workers, o.concurrency, o.top))
			}
			return runLocal(cmd.Context(), s, sw, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.workers, "workers", 0, "workers to start (0: one per core)")
	f.IntVar(&o.concurrency, "concurrency", 1, "trials each worker runs at once")
	f.StringVar(&o.out, "out", "runs", "directory the run directory goes under")
	f.StringVar(&o.state, "state-dir", "", "where the embedded servers keep state (default OUT/SWEEP/state)")
	f.StringVar(&o.dataRoot, "data-root", "", "directory dataset paths must resolve under (default: the sweep file's directory)")
	f.StringVar(&o.http, "http", "", "serve the live dashboard and /metrics on this address")
	f.BoolVar(&o.verbose, "verbose", false, "log what the coordinator and workers do (to stderr)")
	f.StringVar(&o.logFormat, "log-format", "text", "format of progress records and --verbose logs: text or json")
	f.IntVar(&o.top, "top", 20, "leaderboard rows to print")
	f.BoolVar(&o.quiet, "quiet", false, "print only the final leaderboard")
	return cmd
}

func runLocal(ctx context.Context, s *streams, sw *configs.Sweep, o *runOptions) error {
	dir := filepath.Join(o.out, sw.Name)
	state := o.state
	if state == "" {
		state = filepath.Join(dir, "state")
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	workers := o.workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	root := o.dataRoot
	if root == "" {
		root = "."
	}
	logw := io.Discard
	if o.verbose || os.Getenv("CONSORT_DEBUG") != "" {
		logw = s.err
	}
	cl, err := local.Start(ctx, local.Options{Dir: state, Workers: workers, Concurrency: o.concurrency, DataRoot: root,
		Logger: newLogger(o.logFormat, logw), Version: Version, GEMM: gemm.Name()})
	if err != nil {
		return err
	}
	defer cl.Close()
	stopHTTP, err := serveHTTP(ctx, o.http, newLogger(o.logFormat, logw), dashboardSources(cl, sw.Name, s.err))
	if err != nil {
		return usageError(err)
	}
	defer stopHTTP()
	start := time.Now()
	switch err := coordinator.Submit(ctx, cl.Client, sw); {
	case errors.Is(err, coordinator.ErrExists):
		prev, rerr := coordinator.Read(ctx, cl.Client, sw.Name)
		if rerr != nil {
			return rerr
		}
		a, _ := json.Marshal(prev.Spec)
		b, _ := json.Marshal(sw)
		if string(a) != string(b) {
			return usageError(fmt.Errorf("%s already holds a different sweep named %s: rename the sweep or remove that directory", state, sw.Name))
		}
		if !o.quiet {
			fmt.Fprintf(s.out, "resuming sweep %s from %s\n", sw.Name, state)
		}
	case err != nil:
		return err
	default:
		if !o.quiet {
			fmt.Fprintf(s.out, "sweep %s: %d workers, parallelism %d, state in %s\n", sw.Name, workers, sw.Parallelism, state)
		}
	}
	var prog func(wire.SweepStatus)
	if !o.quiet {
		p := newProgress(s.err, cl.Client, sw, o.logFormat)
		defer p.stop()
		prog = p.update
	}
	st, err := coordinator.Wait(ctx, cl.Client, sw.Name, prog)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(s.err, "interrupted: run the same command again to resume from %s\n", state)
			return errInterrupted
		}
		return err
	}
	if prog != nil {
		prog(*st)
	}
	res, err := coordinator.Read(ctx, cl.Client, sw.Name)
	if err != nil {
		return err
	}
	rows := coordinator.Leaderboard(res, "cv")
	fmt.Fprintln(s.out)
	if err := writeLeaderboard(s.out, "table", rows, o.top, res); err != nil {
		return err
	}
	if err := writeRunDir(ctx, dir, cl, sw, res, rows); err != nil {
		return err
	}
	printVerdict(s.out, res, rows, dir, time.Since(start))
	return finalError(sw.Name, st)
}

// writeRunDir writes the leaderboard, the resolved sweep, the report and
// the bundle.
func writeRunDir(ctx context.Context, dir string, cl *local.Cluster, sw *configs.Sweep, res *coordinator.Sweep, rows []coordinator.Row) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct{ name, format string }{{"leaderboard.csv", "csv"}, {"leaderboard.json", "json"}} {
		fh, err := os.Create(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		err = writeLeaderboard(fh, f.format, rows, len(rows), res)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	y, err := yaml.Marshal(sweepYAML(sw))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sweep.yaml"), y, 0o644); err != nil {
		return err
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sweep.json"), raw, 0o644); err != nil {
		return err
	}
	fh, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	err = report.WriteHTML(fh, res, rows, report.Options{Version: Version})
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if b := res.Status.Best; b != nil {
		js, err := jetstream.New(cl.Conn)
		if err != nil {
			return err
		}
		store, err := js.ObjectStore(ctx, wire.ArtifactsBucket)
		if err != nil {
			return err
		}
		bundle, err := store.GetBytes(ctx, b.Bundle)
		if err != nil {
			return fmt.Errorf("fetch bundle: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "best.consort"), bundle, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sweepYAML converts the sweep to a YAML-friendly generic value (JSON
// field names, durations as text).
func sweepYAML(sw *configs.Sweep) any {
	b, _ := json.Marshal(sw)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a float64 would round seeds above 2⁵³
	var m map[string]any
	dec.Decode(&m)
	if bud, ok := m["budget"].(map[string]any); ok {
		bud["wall"] = sw.Budget.Wall.String()
	}
	return exactNumbers(m)
}

// exactNumbers replaces every json.Number in v with the int64, uint64 or
// float64 it spells, so that YAML writes integers as integers, all their
// digits kept.
func exactNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = exactNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = exactNumbers(x)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(v.String(), 10, 64); err == nil {
			return u
		}
		f, _ := v.Float64()
		return f
	}
	return v
}
