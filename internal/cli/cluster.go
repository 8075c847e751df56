package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/gemm"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/worker"
)

// addClusterFlags registers the flags that reach NATS and etcd.
func addClusterFlags(f *pflag.FlagSet) {
	d := configs.ClusterDefaults()
	f.StringSlice("nats", d["nats"].([]string), "NATS server URLs")
	f.StringSlice("etcd", d["etcd"].([]string), "etcd client URLs")
	f.String("nats-user", "", "NATS user (with --nats-password)")
	f.String("nats-password", "", "NATS password")
	f.String("nats-token", "", "NATS token")
	f.String("nats-creds", "", "NATS .creds file")
	f.String("nats-ca", "", "CA certificate (PEM) to verify NATS")
	f.String("nats-cert", "", "client certificate (PEM) for NATS")
	f.String("nats-key", "", "client key (PEM) for NATS")
	f.String("etcd-user", "", "etcd user (with --etcd-password)")
	f.String("etcd-password", "", "etcd password")
	f.String("etcd-ca", "", "CA certificate (PEM) to verify etcd")
	f.String("etcd-cert", "", "client certificate (PEM) for etcd")
	f.String("etcd-key", "", "client key (PEM) for etcd")
	f.Duration("timeout", 10*time.Second, "give up connecting after this long")
}

// busConfig turns the cluster settings into a bus.Config.
func busConfig(c *configs.Cluster, name string) *bus.Config {
	return &bus.Config{
		NATS: c.NATS, NATSUser: c.NATSUser, NATSPassword: c.NATSPassword, NATSToken: c.NATSToken, NATSCreds: c.NATSCreds,
		NATSTLS: bus.TLSFiles{CA: c.NATSCA, Cert: c.NATSCert, Key: c.NATSKey},
		Etcd:    c.Etcd, EtcdUser: c.EtcdUser, EtcdPassword: c.EtcdPassword,
		EtcdTLS: bus.TLSFiles{CA: c.EtcdCA, Cert: c.EtcdCert, Key: c.EtcdKey},
		Timeout: c.Timeout, Name: name,
	}
}

// loadInto reads flags, environment and the config file into dst.
func loadInto(cmd *cobra.Command, configFile string, defaults map[string]any, dst configs.Validator) error {
	v, err := configs.NewViper(configFile, cmd.Flags(), defaults)
	if err != nil {
		return err
	}
	return configs.Decode(v, dst)
}

// newLogger builds the process logger: text or JSON on w.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// dialEtcd connects to etcd only (client commands).
func dialEtcd(ctx context.Context, c *configs.Cluster) (*clientv3.Client, error) {
	return bus.DialEtcd(ctx, busConfig(c, "consort-cli"))
}

// dialBoth connects to NATS and etcd.
func dialBoth(ctx context.Context, c *configs.Cluster, name string) (*nats.Conn, *clientv3.Client, error) {
	bc := busConfig(c, name)
	nc, err := bus.DialNATS(ctx, bc)
	if err != nil {
		return nil, nil, err
	}
	ec, err := bus.DialEtcd(ctx, bc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, ec, nil
}

func newCoordinatorCommand(s *streams, configFile *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coordinator",
		Short: "Run a coordinator: lead sweeps (or stand by to take over)",
		Long: `Run a coordinator against a NATS (JetStream) and etcd cluster. Coordinators
elect one leader in etcd; the leader runs every submitted sweep, the others
stand by and take over — resuming each sweep from etcd — when it fails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var c configs.Coordinator
			if err := loadInto(cmd, *configFile, configs.CoordinatorDefaults(), &c); err != nil {
				return err
			}
			log := newLogger(c.LogFormat, s.err)
			ctx := cmd.Context()
			nc, ec, err := dialBoth(ctx, &c.Cluster, "consort-coordinator")
			if err != nil {
				return err
			}
			defer nc.Close()
			defer ec.Close()
			co, err := coordinator.New(coordinator.Config{ID: c.ID, SessionTTL: int(c.SessionTTL / time.Second), Logger: log,
				Topology: bus.Topology{AckWait: c.AckWait, MaxAttempts: c.MaxAttempts, Replicas: c.Replicas}}, nc, ec)
			if err != nil {
				return err
			}
			stopHTTP, err := serveHTTP(ctx, c.HTTP, log, httpSources{coordinator: co, etcd: ec, nc: nc})
			if err != nil {
				return usageError(err)
			}
			defer stopHTTP()
			log.Info("coordinator starting", "id", co.ID(), "nats", c.NATS, "etcd", c.Etcd)
			return co.Run(ctx)
		},
	}
	f := cmd.Flags()
	addClusterFlags(f)
	f.String("id", "", "coordinator id in the election (default host-pid)")
	f.Duration("session-ttl", 5*time.Second, "leadership lease: a dead leader is replaced within about this long")
	f.Duration("ack-wait", 30*time.Second, "redeliver a trial whose worker is silent this long")
	f.Int("max-attempts", 5, "tries per trial before it is marked failed")
	f.Int("replicas", 1, "replicas of the JetStream streams (3 on a NATS cluster)")
	f.String("http", "", "serve the dashboard, /healthz, /readyz and /metrics on this address")
	f.String("log-format", "text", "log format: text or json")
	return cmd
}

func newWorkerCommand(s *streams, configFile *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker: train and score trials from the cluster's queue",
		Long: `Run a worker against a NATS (JetStream) and etcd cluster. It trains
--concurrency trials at once (default: one per core), checks every trial
against its sweep's declared space, reads datasets only under --data-root,
and on SIGTERM finishes the trials in hand (up to --drain) before exiting.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var c configs.Worker
			if err := loadInto(cmd, *configFile, configs.WorkerDefaults(), &c); err != nil {
				return err
			}
			log := newLogger(c.LogFormat, s.err)
			ctx := cmd.Context()
			nc, ec, err := dialBoth(ctx, &c.Cluster, "consort-worker")
			if err != nil {
				return err
			}
			defer nc.Close()
			defer ec.Close()
			ckBytes := int64(c.CheckpointMB) << 20
			if ckBytes == 0 {
				ckBytes = -1 // none
			}
			w, err := worker.New(worker.Config{ID: c.ID, Concurrency: c.Concurrency, DataRoot: c.DataRoot, Drain: c.Drain,
				Version: Version, GEMM: gemm.Name(), Logger: log, Executor: &worker.Trainer{DataRoot: c.DataRoot, CheckpointBytes: ckBytes}}, nc, ec)
			if err != nil {
				return err
			}
			stopHTTP, err := serveHTTP(ctx, c.HTTP, log, httpSources{worker: w, etcd: ec, nc: nc})
			if err != nil {
				return usageError(err)
			}
			defer stopHTTP()
			return w.Run(ctx)
		},
	}
	f := cmd.Flags()
	addClusterFlags(f)
	f.String("id", "", "worker id (default host-pid)")
	f.Int("concurrency", 0, "trials at once (0: one per core)")
	f.String("data-root", "", "directory dataset paths must resolve under (default: built-in datasets only)")
	f.Duration("drain", 10*time.Minute, "after SIGTERM, finish trials in hand for up to this long")
	f.Int("checkpoint-mb", 256, "memory for ASHA screens' training states, so promotions continue them (0: none)")
	f.String("http", "", "serve /healthz, /readyz and /metrics on this address")
	f.String("log-format", "text", "log format: text or json")
	return cmd
}

func newSubmitCommand(s *streams, configFile *string) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit SWEEP.yaml",
		Short: "Submit a sweep to the cluster",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c configs.Cluster
			if err := loadInto(cmd, *configFile, configs.ClusterDefaults(), &c); err != nil {
				return err
			}
			sw, err := configs.LoadSweep(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ec, err := dialEtcd(ctx, &c)
			if err != nil {
				return err
			}
			defer ec.Close()
			if err := coordinator.Submit(ctx, ec, sw); err != nil {
				if errors.Is(err, coordinator.ErrExists) {
					return usageError(err)
				}
				return err
			}
			fmt.Fprintf(s.out, "submitted sweep %s\n", sw.Name)
			if !wait {
				return nil
			}
			st, err := coordinator.Wait(ctx, ec, sw.Name, progressPrinter(s.out))
			if err != nil {
				return err
			}
			return finalError(sw.Name, st)
		},
	}
	addClusterFlags(cmd.Flags())
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the sweep ends")
	return cmd
}

func newCancelCommand(s *streams, configFile *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel SWEEP",
		Short: "Cancel a running sweep",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c configs.Cluster
			if err := loadInto(cmd, *configFile, configs.ClusterDefaults(), &c); err != nil {
				return err
			}
			ec, err := dialEtcd(cmd.Context(), &c)
			if err != nil {
				return err
			}
			defer ec.Close()
			if err := coordinator.Cancel(cmd.Context(), ec, args[0]); err != nil {
				if errors.Is(err, coordinator.ErrNoSweep) {
					return usageError(err)
				}
				return err
			}
			fmt.Fprintf(s.out, "cancel requested for sweep %s\n", args[0])
			return nil
		},
	}
	addClusterFlags(cmd.Flags())
	return cmd
}

func newStatusCommand(s *streams, configFile *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [SWEEP]",
		Short: "Show the sweeps (or one sweep) and the live workers",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c configs.Cluster
			if err := loadInto(cmd, *configFile, configs.ClusterDefaults(), &c); err != nil {
				return err
			}
			ctx := cmd.Context()
			ec, err := dialEtcd(ctx, &c)
			if err != nil {
				return err
			}
			defer ec.Close()
			workers, err := coordinator.Workers(ctx, ec)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				sw, err := coordinator.Read(ctx, ec, args[0])
				if err != nil {
					if errors.Is(err, coordinator.ErrNoSweep) {
						return usageError(err)
					}
					return err
				}
				printSweepStatus(s.out, sw)
			} else {
				list, err := coordinator.List(ctx, ec)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SWEEP\tSTATE\tSUBMITTED\tLEADER\tBEST CV")
				for _, x := range list {
					best := "-"
					if b := x.Status.Best; b != nil {
						best = fmt.Sprintf("%.4f", b.CV.Mean.Accuracy)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Name, x.Status.State, x.Status.Submitted.Format(time.DateTime), x.Status.Leader, best)
				}
				tw.Flush()
			}
			fmt.Fprintf(s.out, "\n%d workers alive", len(workers))
			slots := 0
			for _, w := range workers {
				slots += w.Concurrency
			}
			fmt.Fprintf(s.out, " (%d trial slots)\n", slots)
			return nil
		},
	}
	addClusterFlags(cmd.Flags())
	return cmd
}

// printSweepStatus prints one sweep's progress.
func printSweepStatus(w io.Writer, sw *coordinator.Sweep) {
	st := sw.Status
	counts := map[wire.Kind]map[wire.TrialState]int{}
	for _, r := range sw.Records {
		if counts[r.Kind] == nil {
			counts[r.Kind] = map[wire.TrialState]int{}
		}
		counts[r.Kind][r.State]++
	}
	fmt.Fprintf(w, "sweep    %s: %s (leader %s)\n", sw.Spec.Name, st.State, st.Leader)
	if st.Error != "" {
		fmt.Fprintf(w, "error    %s\n", st.Error)
	}
	for _, k := range []wire.Kind{wire.Member, wire.Ensemble, wire.Distill} {
		c := counts[k]
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "%-8s queued %d, running %d, done %d, failed %d, stopped %d\n", k, c[wire.Queued], c[wire.Running], c[wire.TrialDone], c[wire.TrialFailed], c[wire.Stopped])
	}
	if b := st.Best; b != nil {
		fmt.Fprintf(w, "best     %s (%s of %d members): nested-CV accuracy %.4f ± %.4f", b.Trial, b.Spec.Method, len(b.Members), b.CV.Mean.Accuracy, b.CV.Std.Accuracy)
		if b.Test != nil {
			fmt.Fprintf(w, ", test %.4f", b.Test.Accuracy)
		}
		fmt.Fprintf(w, ", %d bytes\n", b.Bytes)
	}
}

// progressPrinter prints a line per status change.
func progressPrinter(w io.Writer) func(wire.SweepStatus) {
	last := wire.SweepState("")
	return func(st wire.SweepStatus) {
		if st.State != last {
			fmt.Fprintf(w, "%s  sweep %s\n", time.Now().Format(time.TimeOnly), st.State)
			last = st.State
		}
	}
}

// finalError turns a sweep's final status into the command's outcome.
func finalError(name string, st *wire.SweepStatus) error {
	switch st.State {
	case wire.SweepDone:
		return nil
	case wire.SweepCancelled:
		return fmt.Errorf("sweep %s was cancelled", name)
	default:
		return fmt.Errorf("sweep %s failed: %s", name, st.Error)
	}
}

// exactArgs and maxArgs check positional arguments as usage errors.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(fmt.Errorf("%s takes %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args)))
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError(fmt.Errorf("%s takes at most %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args)))
		}
		return nil
	}
}
