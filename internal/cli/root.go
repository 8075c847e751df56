package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/gemm"
)

// Version is the release version, set at link time with
// -ldflags "-X github.com/consort-ml/consort/internal/cli.Version=v1.2.3".
var Version = "dev"

// ErrUsage marks a command line that cannot be run: a missing argument,
// an unknown flag, input that does not load.
var ErrUsage = errors.New("usage")

// usageError wraps err so that it exits with status 2.
func usageError(err error) error {
	if err == nil || errors.Is(err, ErrUsage) || errors.Is(err, configs.ErrConfig) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUsage, err)
}

// streams carries the process's standard streams to the commands.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Main runs the consort command line and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &streams{in: stdin, out: stdout, err: stderr}
	if _, err := gemm.Setup(); err != nil {
		fmt.Fprintf(stderr, "consort: %v\n", err)
		return 2
	}
	root := newRootCommand(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Interrupted (SIGINT or SIGTERM): the command has said what it
		// leaves behind; "context canceled" would add nothing.
		if !errors.Is(err, errInterrupted) {
			fmt.Fprintln(stderr, "consort: interrupted")
		}
		return ExitInterrupted
	}
	fmt.Fprintf(stderr, "consort: %s\n", strings.TrimPrefix(err.Error(), ErrUsage.Error()+": "))
	return ExitCode(err)
}

// ExitInterrupted is the exit status of a command stopped by SIGINT or
// SIGTERM before it finished (128 + SIGINT's number, as shells report).
const ExitInterrupted = 130

// errInterrupted wraps context.Canceled for a command that has already
// told the user what an interruption leaves (consort run: how to resume).
var errInterrupted = fmt.Errorf("interrupted: %w", context.Canceled)

// ExitCode maps an error from a command to the process exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage), errors.Is(err, configs.ErrConfig):
		return 2
	}
	// cobra's own argument and command errors are usage errors.
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return 2
		}
	}
	return 1
}

func newRootCommand(s *streams) *cobra.Command {
	var configFile string
	root := &cobra.Command{
		Use:   "consort",
		Short: "Distributed hyperparameter, compression and ensemble search for small neural networks",
		Long: `consort searches ordinary hyperparameters, pruning sparsity, quantization
bit-width and ensemble weights together, scores everything by honest
cross-validation, and tells you which (ensemble of) compressed models to ship.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&configFile, "config", "", "configuration file (YAML, JSON or TOML); flags > CONSORT_* environment > file > defaults")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	root.AddCommand(
		newVersionCommand(s),
		newTrainCommand(s, &configFile),
		newRunCommand(s),
		newCoordinatorCommand(s, &configFile),
		newWorkerCommand(s, &configFile),
		newSubmitCommand(s, &configFile),
		newStatusCommand(s, &configFile),
		newCancelCommand(s, &configFile),
		newPredictCommand(s, &configFile),
		newEnsembleCommand(s),
		newLeaderboardCommand(s, &configFile),
	)
	return root
}

func newVersionCommand(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of consort",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rev := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, kv := range bi.Settings {
					if kv.Key == "vcs.revision" {
						rev = kv.Value
					}
				}
			}
			fmt.Fprintf(s.out, "consort %s (commit %s, %s, %s/%s, gemm %s)\n", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, gemm.Name())
			return nil
		},
	}
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args))
	}
	return nil
}
