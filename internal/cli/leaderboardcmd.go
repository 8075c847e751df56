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
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/dashboard"
)

type leaderboardOptions struct {
	format, sortBy string
	top            int
	watch          bool
	every          time.Duration
}

func (o *leaderboardOptions) validate() error {
	var errs []error
	if !slices.Contains(leaderboardFormats, o.format) {
		errs = append(errs, fmt.Errorf("--format %q: allowed %s", o.format, strings.Join(leaderboardFormats, ", ")))
	}
	if o.sortBy != "cv" && o.sortBy != "size" && o.sortBy != "latency" {
		errs = append(errs, fmt.Errorf("--sort %q: allowed cv, size, latency", o.sortBy))
	}
	if o.top < 1 {
		errs = append(errs, fmt.Errorf("--top %d: want at least 1", o.top))
	}
	if o.every <= 0 {
		errs = append(errs, fmt.Errorf("--every %s: want a positive duration", o.every))
	}
	return usageError(errors.Join(errs...))
}

func newLeaderboardCommand(s *streams, configFile *string) *cobra.Command {
	o := &leaderboardOptions{}
	cmd := &cobra.Command{
		Use:   "leaderboard SWEEP | RUN_DIR",
		Short: "Show a sweep's leaderboard, from the cluster or from a run directory",
		Long: `Show a sweep's leaderboard: members (at their highest ASHA rung), ensemble
candidates and the distilled student, ranked by cross-validated accuracy
with its 95% interval over the folds, the test accuracy of the chosen
ensemble (the test split is scored once, for it alone), sparsity, bits,
packed size and latency. Marks: * the chosen ensemble, = statistically tied
with the best (paired t-test over the folds), P Pareto-optimal in accuracy
and size, † a CV accuracy that is not an honest estimate (the student's).

--format html writes the self-contained report (plots, verdict and the
first --top rows) that 'consort run' leaves as report.html.

The argument is a sweep name, read from etcd (--etcd …), or a run directory
that 'consort run' wrote (a path holding sweep.json, such as runs/quickstart).
With --watch the leaderboard is redrawn every --every while the sweep runs,
until it ends (terminal) or printed again whenever it changed (otherwise).`,
		Example: "  consort leaderboard runs/quickstart\n" +
			"  consort leaderboard quickstart --etcd http://etcd:2379 --top 50 --sort size\n" +
			"  consort leaderboard quickstart --watch\n" +
			"  consort leaderboard runs/quickstart --format csv > board.csv\n" +
			"  consort leaderboard quickstart --etcd http://etcd:2379 --format html --top 50 > report.html",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			dir, isDir, err := runDirOf(args[0])
			if err != nil {
				return usageError(err)
			}
			if isDir {
				if o.watch {
					return usageError(fmt.Errorf("--watch follows a sweep in etcd; %s is a finished run directory", dir))
				}
				sw, err := readRunDir(dir)
				if err != nil {
					return usageError(err)
				}
				return o.print(s.out, sw, dir)
			}
			var c configs.Cluster
			if err := loadInto(cmd, *configFile, configs.ClusterDefaults(), &c); err != nil {
				return err
			}
			ec, err := dialEtcd(ctx, &c)
			if err != nil {
				return err
			}
			defer ec.Close()
			f := dashboard.NewFollower(ec, args[0])
			sw, _, err := f.Read(ctx)
			if errors.Is(err, coordinator.ErrNoSweep) {
				return usageError(fmt.Errorf("%w (consort status lists the sweeps; a run directory is a path such as runs/%s)", err, args[0]))
			}
			if err != nil {
				return err
			}
			if !o.watch {
				return o.print(s.out, sw, "")
			}
			return o.follow(ctx, s.out, f, sw)
		},
	}
	f := cmd.Flags()
	addClusterFlags(f)
	f.StringVar(&o.format, "format", "table", "output format: "+strings.Join(leaderboardFormats, ", "))
	f.IntVar(&o.top, "top", 20, "rows to show")
	f.StringVar(&o.sortBy, "sort", "cv", "order: cv (accuracy), size or latency")
	f.BoolVar(&o.watch, "watch", false, "redraw while the sweep runs, until it ends")
	f.DurationVar(&o.every, "every", 2*time.Second, "with --watch, how often to look")
	return cmd
}

// runDirOf tells a run directory (a path holding sweep.json, or that
// file itself) from a sweep name. Sweep names have no slash, so a path
// with one that holds no sweep.json is an error.
func runDirOf(arg string) (string, bool, error) {
	if filepath.Base(arg) == "sweep.json" {
		if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
			return filepath.Dir(arg), true, nil
		}
	}
	if fi, err := os.Stat(filepath.Join(arg, "sweep.json")); err == nil && !fi.IsDir() {
		return arg, true, nil
	}
	if strings.ContainsAny(arg, `/\`) || arg == "." || arg == ".." {
		return "", false, fmt.Errorf("%s is not a run directory: it holds no sweep.json ('consort run' writes one when the sweep ends)", arg)
	}
	return "", false, nil
}

// readRunDir loads the sweep a run directory recorded.
func readRunDir(dir string) (*coordinator.Sweep, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		return nil, err
	}
	var s coordinator.Sweep
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "sweep.json"), err)
	}
	if s.Spec == nil {
		return nil, fmt.Errorf("%s: no sweep spec in it", filepath.Join(dir, "sweep.json"))
	}
	return &s, nil
}

// print writes the leaderboard in the chosen format; the table comes
// with the verdict.
func (o *leaderboardOptions) print(w io.Writer, s *coordinator.Sweep, dir string) error {
	rows := coordinator.Leaderboard(s, o.sortBy)
	if err := writeLeaderboard(w, o.format, rows, o.top, s); err != nil {
		return err
	}
	if o.format == "table" {
		var took time.Duration
		if st := s.Status; !st.Started.IsZero() {
			end := st.Finished
			if end.IsZero() {
				end = time.Now()
			}
			took = end.Sub(st.Started)
		}
		printVerdict(w, s, rows, dir, took)
	}
	return nil
}

// follow redraws the leaderboard until the sweep ends or ctx does: in
// place on a terminal, as a new block whenever it changed otherwise.
func (o *leaderboardOptions) follow(ctx context.Context, w io.Writer, f *dashboard.Follower, s *coordinator.Sweep) error {
	tty, height := false, 0
	if fh, ok := w.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
		tty = true
		if _, h, err := term.GetSize(int(fh.Fd())); err == nil {
			height = h
		}
	}
	changed := true
	for {
		if changed || tty {
			var b bytes.Buffer
			if err := o.print(&b, s, ""); err != nil {
				return err
			}
			head := fmt.Sprintf("%s  sweep %s %s", time.Now().Format(time.TimeOnly), s.Spec.Name, s.Status.State)
			if tty {
				// Home, each line cleared to its end, then the rest of the
				// screen: no flicker.
				lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
				if height > 3 && len(lines) > height-3 { // what scrolls away cannot be redrawn
					lines = append(lines[:height-4], fmt.Sprintf("… (%d more lines: a taller terminal or a smaller --top)", len(lines)-(height-4)))
				}
				body := strings.Join(lines, "\033[K\n") + "\033[K\n"
				fmt.Fprintf(w, "\033[H%s (every %s, ^C to stop)\033[K\n\033[K\n%s\033[J", head, o.every, body)
			} else {
				fmt.Fprintf(w, "── %s\n%s\n", head, b.String())
			}
		}
		if s.Status.State.Final() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.every):
		}
		var err error
		if s, changed, err = f.Read(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
