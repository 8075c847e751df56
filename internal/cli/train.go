package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/artifact"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/data"
	"github.com/consort-ml/consort/trainer/packed"
)

// humanBytes formats n bytes with a binary unit.
func humanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// addModelFlags registers the flags of every trainer.Config field.
func addModelFlags(f *pflag.FlagSet) {
	d := trainer.DefaultConfig()
	f.IntSlice("hidden", d.Hidden, "hidden layer widths, e.g. 64,32")
	f.String("activation", d.Activation, "hidden activation: "+strings.Join(trainer.Activations, ", "))
	f.String("optimizer", d.Optimizer, "optimizer: "+strings.Join(trainer.Optimizers, ", "))
	f.Float64("lr", d.LR, "learning rate")
	f.Float64("momentum", d.Momentum, "SGD momentum")
	f.Int("batch", d.Batch, "mini-batch size")
	f.Int("epochs", d.Epochs, "training epochs")
	f.Float64("l2", d.L2, "L2 weight decay")
	f.String("lr-schedule", d.LRSchedule, "learning-rate schedule: "+strings.Join(trainer.LRSchedules, ", "))
	f.Int("patience", d.Patience, "early-stopping patience in epochs (0: off)")
	f.Float64("val-fraction", d.ValFraction, "share of each training fold held out for early stopping")
	f.Uint64("seed", d.Seed, "random seed (same seed and data: bit-identical weights)")
	f.Bool("bootstrap", d.Bootstrap, "train on a bootstrap resample of the training rows (bagging, for ensemble members)")
	f.Float64("feature-fraction", d.FeatureFraction, "keep a random share of the input features (random subspace, for ensemble members); 0: all")
	f.Float64("sparsity", d.Sparsity, "target fraction of pruned weights (structured: of hidden neurons), 0..0.99")
	f.String("prune", d.Prune, "pruning kind: "+strings.Join(trainer.PruneKinds, ", "))
	f.String("prune-scope", d.PruneScope, "unstructured pruning threshold: "+strings.Join(trainer.PruneScopes, ", "))
	f.String("schedule", d.Schedule, "pruning schedule: oneshot (after training) or agp (gradual, Zhu & Gupta 2017)")
	f.Int("fine-tune", d.FineTune, "fine-tuning epochs after pruning and for quantization-aware training")
	f.Int("bits", d.Bits, "weight bit-width: 2, 3, 4, 5, 6, 8, 16, 32 (float)")
	f.Bool("qat", d.QAT, "quantization-aware training (straight-through estimator) instead of post-training quantization")
	f.Bool("per-channel", d.PerChannel, "one quantization scale per output neuron (false: per layer)")
	f.Bool("asymmetric", d.Asymmetric, "asymmetric (affine, with zero point) quantization")
	f.Int("act-bits", d.ActBits, "hidden activations at inference: 8 (static int8 scales) or 0 (dynamic)")
	f.Float64("distill-t", d.DistillT, "distillation temperature")
	f.Float64("distill-alpha", d.DistillAlpha, "weight of the teacher's soft targets against the labels")
}

// addDataFlags registers the flags that choose the data.
func addDataFlags(f *pflag.FlagSet) {
	f.String("data", "digits", "built-in dataset ("+strings.Join(data.BuiltinNames(), ", ")+"), CSV file, or IDX directory")
	f.String("label", "", "CSV label column: header name or 1-based column number (negative from the end); default last")
	f.String("header", "auto", "CSV header row: auto, yes, no")
}

type trainOptions struct {
	configFile *string
}

func newTrainCommand(s *streams, configFile *string) *cobra.Command {
	o := &trainOptions{configFile: configFile}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train one configuration with stratified k-fold cross-validation",
		Long: `Train one configuration with stratified k-fold cross-validation, then refit
it on all training data and score it once on the held-out test split.
This is the single-trial entry point that outside tools can drive (--json).`,
		Example: `  consort train --data digits --hidden 64,32 --epochs 40 --folds 5
  consort train --data /usr/share/datasets/fashion-mnist --hidden 256,128 --batch 128 --epochs 10 --folds 0 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.load(cmd)
			if err != nil {
				return err
			}
			return runTrain(cmd.Context(), s, cfg)
		},
	}
	f := cmd.Flags()
	addDataFlags(f)
	addModelFlags(f)
	f.Int("folds", 5, "cross-validation folds (0: none, just train and test)")
	f.Float64("test-fraction", 0.2, "stratified test share when the data has no test file (0: no test split)")
	f.Uint64("split-seed", 1, "seed of the test split and the folds (trials to ensemble must share it)")
	f.Int("parallel", 0, "folds trained at once (0: one per core)")
	f.Bool("json", false, "print one JSON object")
	f.String("save", "", "write the packed refit model to this file")
	f.String("out", "", "write a trial directory (trial.json, predictions.bin, model.consort) for 'consort ensemble'")
	f.String("distill-from", "", "distil from a teacher: a packed model or bundle file, or a predictions.bin of the same data and split")
	return cmd
}

func (o *trainOptions) load(cmd *cobra.Command) (*configs.Train, error) {
	v, err := configs.NewViper(*o.configFile, cmd.Flags(), configs.TrainDefaults())
	if err != nil {
		return nil, err
	}
	var t configs.Train
	if err := configs.Decode(v, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// loadData loads the configured dataset and separates its test split.
func loadData(t *configs.Train) (train, test *data.Dataset, err error) {
	hm, err := data.ParseHeaderMode(t.Header)
	if err != nil {
		return nil, nil, usageError(err)
	}
	opt := data.LoadOptions{CSV: data.CSVOptions{Label: t.Label, Header: hm}}
	ds, own, err := data.Load(t.Data, opt)
	if err != nil {
		return nil, nil, usageError(err)
	}
	train, test, err = trainer.Split(ds, own, t.TestFraction, t.SplitSeed)
	if err != nil {
		return nil, nil, usageError(err)
	}
	return train, test, nil
}

func runTrain(ctx context.Context, s *streams, t *configs.Train) error {
	train, test, err := loadData(t)
	if err != nil {
		return err
	}
	par := t.Parallel
	if par == 0 {
		par = runtime.GOMAXPROCS(0)
	}
	opt := trainer.CVOptions{Folds: t.Folds, SplitSeed: t.SplitSeed, Parallel: par, Refit: true}
	if t.DistillFrom != "" {
		if opt.Teacher, err = teacherProbs(t.DistillFrom, train); err != nil {
			return usageError(err)
		}
	}
	rep, err := trainer.CrossValidate(ctx, t.Config, train, test, opt)
	if err != nil {
		return err
	}
	res := trainJSON(rep)
	if t.Save != "" {
		if _, err := packed.WriteFile(t.Save, rep.Packed); err != nil {
			return fmt.Errorf("save: %w", err)
		}
		res.Saved = t.Save
	}
	if t.Out != "" {
		tr := &artifact.Trial{ID: filepath.Base(filepath.Clean(t.Out)), Dataset: rep.Dataset, SplitSeed: t.SplitSeed, Folds: t.Folds,
			Config: rep.Config, CVAccuracy: rep.Accuracy.Mean, CVAccuracyStd: rep.Accuracy.Std, FoldAccuracy: res.Folds, Size: res.Size}
		if err := artifact.SaveTrial(t.Out, tr, trainer.PredictionsOf(rep), rep.Packed); err != nil {
			return err
		}
	}
	if t.JSON {
		return json.NewEncoder(s.out).Encode(res)
	}
	printTrainReport(s.out, rep, test)
	if res.Saved != "" {
		fmt.Fprintf(s.out, "saved    %s (%d bytes)\n", res.Saved, res.Size.Bytes)
	}
	if t.Out != "" {
		fmt.Fprintf(s.out, "trial    %s (combine trials with: consort ensemble %s …)\n", t.Out, t.Out)
	}
	if t.DistillFrom != "" {
		fmt.Fprintf(s.out, "note     distilled from %s; if that teacher was trained on these samples, the CV scores above are optimistic\n", t.DistillFrom)
	}
	return nil
}

// teacherProbs returns a teacher's class probabilities for the training
// samples: a packed model or bundle run on them, or a predictions file's
// out-of-fold probabilities (same data and split seed).
func teacherProbs(path string, train *data.Dataset) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--distill-from: %w", err)
	}
	c := train.NumClasses()
	if p, err := trainer.UnmarshalPredictions(raw); err == nil {
		if !slices.Equal(p.Labels, train.Y) || !slices.Equal(p.Classes, train.Classes) {
			return nil, fmt.Errorf("--distill-from %s: its predictions are for other samples (same data and --split-seed?)", path)
		}
		return p.OOF, nil
	}
	m, err := packed.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--distill-from %s: neither a packed model or bundle nor a predictions file: %w", path, err)
	}
	if m.Inputs() != train.D {
		return nil, fmt.Errorf("--distill-from %s: the teacher takes %d features, the data has %d", path, m.Inputs(), train.D)
	}
	// Map the teacher's classes onto the data's by name.
	labels := m.Labels()
	col := make([]int, c)
	for k, name := range train.Classes {
		col[k] = slices.Index(labels, name)
		if col[k] < 0 {
			return nil, fmt.Errorf("--distill-from %s: the teacher has no class %q (it has %v)", path, name, labels)
		}
	}
	out := make([]float32, train.N*len(labels))
	if err := m.Proba(out, train.X, train.N); err != nil {
		return nil, fmt.Errorf("--distill-from %s: %w", path, err)
	}
	probs := make([]float32, train.N*c)
	for i := 0; i < train.N; i++ {
		var sum float32
		for k := 0; k < c; k++ {
			v := out[i*len(labels)+col[k]]
			probs[i*c+k] = v
			sum += v
		}
		for k := 0; k < c; k++ {
			if sum > 0 {
				probs[i*c+k] /= sum
			} else {
				probs[i*c+k] = 1 / float32(c)
			}
		}
	}
	return probs, nil
}

// trainResult is the --json output of consort train.
type trainResult struct {
	Dataset       string               `json:"dataset"`
	Samples       int                  `json:"samples"`
	TestSamples   int                  `json:"test_samples"`
	Features      int                  `json:"features"`
	Classes       int                  `json:"classes"`
	Architecture  []int                `json:"architecture"`
	CVAccuracy    *float64             `json:"cv_accuracy"`
	CVAccuracyStd *float64             `json:"cv_accuracy_std"`
	CVMacroF1     *float64             `json:"cv_macro_f1"`
	CVLogLoss     *float64             `json:"cv_log_loss"`
	Folds         []float64            `json:"folds"`
	FoldDetails   []trainer.FoldReport `json:"fold_details"`
	TestAccuracy  *float64             `json:"test_accuracy"`
	TestMacroF1   *float64             `json:"test_macro_f1"`
	TestLogLoss   *float64             `json:"test_log_loss"`
	// TestReferenceAccuracy is a quantized model's float fake-quant
	// reference on the test split.
	TestReferenceAccuracy *float64 `json:"test_reference_accuracy,omitempty"`
	Params                int      `json:"params"`
	Seconds               float64  `json:"seconds"`
	// TrainSamplesPerSecond is the refit model's training throughput.
	TrainSamplesPerSecond float64 `json:"train_samples_per_s"`
	// The packed refit model: size_bytes, sparsity, bits,
	// compression_ratio, latency_us.
	trainer.Size
	// Saved names the file the packed model was written to.
	Saved  string         `json:"saved,omitempty"`
	Config trainer.Config `json:"config"`
}

func trainJSON(rep *trainer.Report) *trainResult {
	r := &trainResult{
		Dataset: rep.Dataset, Samples: rep.Samples, Features: rep.Features, Classes: rep.Classes,
		Architecture: rep.Config.Sizes(rep.Features, rep.Classes),
		Folds:        []float64{}, FoldDetails: rep.Folds,
		Params: rep.Params, Seconds: rep.Seconds, Config: rep.Config,
	}
	if len(rep.Folds) > 0 {
		r.CVAccuracy, r.CVAccuracyStd = &rep.Accuracy.Mean, &rep.Accuracy.Std
		r.CVMacroF1, r.CVLogLoss = &rep.MacroF1.Mean, &rep.LogLoss.Mean
		for _, f := range rep.Folds {
			r.Folds = append(r.Folds, f.Metrics.Accuracy)
		}
	}
	if rep.RefitInfo != nil {
		r.TrainSamplesPerSecond = rep.RefitInfo.Train.SamplesPerSecond
	}
	if rep.Size != nil {
		r.Size = *rep.Size
	}
	if rep.Test != nil {
		r.TestSamples = len(rep.TestLabels)
		r.TestAccuracy, r.TestMacroF1, r.TestLogLoss = &rep.Test.Accuracy, &rep.Test.MacroF1, &rep.Test.LogLoss
		if rep.TestReference != nil {
			r.TestReferenceAccuracy = &rep.TestReference.Accuracy
		}
	}
	return r
}

func archString(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, s := range sizes {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, "-")
}

func printTrainReport(w io.Writer, rep *trainer.Report, test *data.Dataset) {
	c := rep.Config
	fmt.Fprintf(w, "data     %s: %d training samples, %d features, %d classes", rep.Dataset, rep.Samples, rep.Features, rep.Classes)
	if test != nil {
		fmt.Fprintf(w, "; %d test samples", test.N)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "model    %s %s, %d parameters; %s lr=%g batch=%d epochs=%d l2=%g schedule=%s\n",
		archString(c.Sizes(rep.Features, rep.Classes)), c.Activation, rep.Params, c.Optimizer, c.LR, c.Batch, c.Epochs, c.L2, c.LRSchedule)
	if len(rep.Folds) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "fold\ttrain\teval\taccuracy\tmacro-F1\tlog-loss\tepochs\tseconds\t")
		for _, f := range rep.Folds {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.4f\t%.4f\t%.4f\t%d\t%.2f\t\n", f.Fold+1, f.TrainSize, f.EvalSize,
				f.Metrics.Accuracy, f.Metrics.MacroF1, f.Metrics.LogLoss, f.Info.Train.BestEpoch, f.Seconds)
		}
		tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintf(w, "cv       accuracy %.4f ± %.4f   macro-F1 %.4f ± %.4f   log-loss %.4f ± %.4f   (%d folds, mean ± sample std)\n",
			rep.Accuracy.Mean, rep.Accuracy.Std, rep.MacroF1.Mean, rep.MacroF1.Std, rep.LogLoss.Mean, rep.LogLoss.Std, len(rep.Folds))
	}
	if rep.Test != nil {
		fmt.Fprintf(w, "test     accuracy %.4f            macro-F1 %.4f            log-loss %.4f            (refit on all training data, scored once)\n",
			rep.Test.Accuracy, rep.Test.MacroF1, rep.Test.LogLoss)
	}
	if z := rep.Size; z != nil {
		fmt.Fprintf(w, "packed   %d bytes (%s), %.1f× smaller than dense float32; sparsity %.3f, %d-bit weights; %.1f µs per sample\n",
			z.Bytes, humanBytes(z.Bytes), z.CompressionRatio, z.Sparsity, z.Bits, z.LatencyUS)
	}
	fmt.Fprintf(w, "time     %.2f s\n", rep.Seconds)
}
