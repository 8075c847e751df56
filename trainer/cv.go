package trainer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consort-ml/consort/trainer/data"
	"github.com/consort-ml/consort/trainer/packed"
)

// CVOptions configures cross-validation of one configuration.
type CVOptions struct {
	// Folds is the number of stratified folds, at least 2; 0 skips
	// cross-validation (only the refit model is trained and tested).
	Folds int
	// SplitSeed assigns samples to folds. Trials that are to be ensembled
	// must share it (and the data), so that their out-of-fold predictions
	// line up fold for fold; it is independent of Config.Seed.
	SplitSeed uint64
	// Parallel is how many folds train at once; 0 or 1 trains them one
	// after another. Results do not depend on it.
	Parallel int
	// Refit trains a final model on all training data after the folds;
	// its test-split predictions and the model itself go in the report.
	// Always on when Folds is 0.
	Refit bool
	// Teacher, when not nil, holds N×C class probabilities for the training
	// samples: every model is distilled from them.
	Teacher []float32
	// Checkpoint keeps each fold's training state at the end of its main
	// phase in Report.Checkpoint, when the configuration is Resumable and
	// not distilled.
	Checkpoint bool
	// Resume, when not nil, continues every fold from a checkpoint of
	// the same configuration at fewer epochs (see Checkpoint.Continues)
	// instead of training from scratch; the result is the same.
	Resume *Checkpoint
	// Progress, when set, is called after each fold and the refit, from
	// the goroutine that trained it.
	Progress func(fold int, m Metrics)
}

// FoldReport is one fold's outcome.
type FoldReport struct {
	// Fold is the fold index, 0-based.
	Fold int `json:"fold"`
	// TrainSize and EvalSize count the fold's training and scored samples.
	TrainSize int `json:"train_size"`
	EvalSize  int `json:"eval_size"`
	// Metrics score the fold model on its held-out fold.
	Metrics Metrics `json:"metrics"`
	// Info says how the fold model trained.
	Info TrainInfo `json:"info"`
	// Seconds is the fold's wall time.
	Seconds float64 `json:"seconds"`
}

// Report is the outcome of cross-validating one configuration.
type Report struct {
	// Config is the configuration that was trained.
	Config Config `json:"config"`
	// Dataset names the data; Samples counts the training samples (test
	// split excluded), Features and Classes the shape.
	Dataset  string `json:"dataset"`
	Samples  int    `json:"samples"`
	Features int    `json:"features"`
	Classes  int    `json:"classes"`
	// ClassNames names the classes.
	ClassNames []string `json:"class_names"`
	// Folds holds one report per fold.
	Folds []FoldReport `json:"folds"`
	// Accuracy, MacroF1 and LogLoss summarise the folds.
	Accuracy Summary `json:"accuracy"`
	MacroF1  Summary `json:"macro_f1"`
	LogLoss  Summary `json:"log_loss"`
	// OOF holds the out-of-fold probabilities, Samples×Classes: each
	// training sample predicted by the fold model that did not train on it.
	OOF []float32 `json:"-"`
	// FoldOf gives the fold of each training sample; Labels their classes.
	FoldOf []int   `json:"-"`
	Labels []int32 `json:"-"`
	// Test scores the refit model on the held-out test split; nil without
	// a test split or refit.
	Test *Metrics `json:"test,omitempty"`
	// TestReference scores, for a quantized model, its float reference —
	// the same network on the dequantized (fake-quant) weights in float32
	// — on the test split, to show what integer inference costs.
	TestReference *Metrics `json:"test_reference,omitempty"`
	// TestProbs are the refit model's test-split probabilities.
	TestProbs []float32 `json:"-"`
	// TestLabels are the test split's labels.
	TestLabels []int32 `json:"-"`
	// Model is the refit model; nil without refit.
	Model *Model `json:"-"`
	// Packed is the refit model packed (quantized, sparse): the artifact
	// that ships; Size describes it. Nil without refit.
	Packed *packed.Model `json:"-"`
	Size   *Size         `json:"size,omitempty"`
	// FoldPacked is the first fold's model packed, kept when there is no
	// refit (to measure the size of a configuration that is screened,
	// not shipped); nil otherwise.
	FoldPacked *packed.Model `json:"-"`
	// Checkpoint holds the folds' training states (CVOptions.Checkpoint).
	Checkpoint *Checkpoint `json:"-"`
	// RefitInfo says how the refit model trained.
	RefitInfo *TrainInfo `json:"refit_info,omitempty"`
	// Params counts the weights and biases of one model.
	Params int `json:"params"`
	// Seconds is the wall time of the whole run.
	Seconds float64 `json:"seconds"`
}

// Split returns the training data and the held-out test split: test
// itself when the dataset has its own, otherwise a stratified fraction of
// ds (nil when fraction is 0).
func Split(ds, test *data.Dataset, fraction float64, seed uint64) (*data.Dataset, *data.Dataset, error) {
	if test != nil {
		if test.D != ds.D {
			return nil, nil, fmt.Errorf("trainer: %s has %d features but its test split %s has %d", ds.Name, ds.D, test.Name, test.D)
		}
		return ds, test, nil
	}
	if fraction <= 0 {
		return ds, nil, nil
	}
	tr, te, err := data.TrainTestSplit(ds.Y, ds.NumClasses(), fraction, seed)
	if err != nil {
		return nil, nil, err
	}
	return ds.Subset(tr), ds.Subset(te), nil
}

// foldRNG returns the random source of fold k (k = folds for the refit).
func foldRNG(seed uint64, k int) resume {
	return resume{src: rand.NewPCG(seed, 0x636f6e736f7274+uint64(k))}
}

// CrossValidate trains cfg on each stratified fold of ds, scores it on the
// held-out fold, and (with opt.Refit) trains a final model on all of ds and
// scores it on test. ds must not contain the test samples.
func CrossValidate(ctx context.Context, cfg Config, ds, test *data.Dataset, opt CVOptions) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Folds == 1 || opt.Folds < 0 {
		return nil, &FieldError{Field: "folds", Value: opt.Folds, Allowed: "0 (no cross-validation) or at least 2"}
	}
	if opt.Teacher != nil && len(opt.Teacher) != ds.N*ds.NumClasses() {
		return nil, fmt.Errorf("trainer: teacher probabilities have %d values, want %d×%d", len(opt.Teacher), ds.N, ds.NumClasses())
	}
	start := time.Now()
	c := ds.NumClasses()
	rep := &Report{
		Config: cfg, Dataset: ds.Name, Samples: ds.N, Features: ds.D, Classes: c,
		ClassNames: ds.Classes, Labels: ds.Y,
	}
	if opt.Folds >= 2 {
		folds, err := data.StratifiedKFold(ds.Y, c, opt.Folds, opt.SplitSeed)
		if err != nil {
			return nil, err
		}
		rep.FoldOf = folds
		if opt.Resume != nil && !opt.Resume.Continues(cfg, opt, ds.N) {
			return nil, fmt.Errorf("trainer: the checkpoint (%d epochs) does not continue this configuration (%d epochs)", opt.Resume.epochs, cfg.Epochs)
		}
		if opt.Checkpoint && Resumable(&cfg) && len(opt.Teacher) == 0 {
			rep.Checkpoint = newCheckpoint(cfg, opt, ds.N)
		}
		rep.OOF = make([]float32, ds.N*c)
		trainIdx, evalIdx := data.FoldIndices(folds, opt.Folds)
		rep.Folds = make([]FoldReport, opt.Folds)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(opt.Parallel, 1))
		for k := 0; k < opt.Folds; k++ {
			g.Go(func() error {
				t0 := time.Now()
				rs := foldRNG(cfg.Seed, k)
				rs.keep = rep.Checkpoint != nil
				if opt.Resume != nil {
					rs.state, rs.from = opt.Resume.state[k], opt.Resume.epochs
				}
				fr, err := fitFold(gctx, &cfg, ds, trainIdx[k], opt.Teacher, rs)
				if err != nil {
					return fmt.Errorf("trainer: fold %d: %w", k, err)
				}
				probs, err := fr.predict(ds, evalIdx[k])
				if err != nil {
					return fmt.Errorf("trainer: fold %d: %w", k, err)
				}
				ys := make([]int32, len(evalIdx[k]))
				for j, i := range evalIdx[k] {
					copy(rep.OOF[i*c:(i+1)*c], probs[j*c:(j+1)*c])
					ys[j] = ds.Y[i]
				}
				m := Score(probs, ys, c)
				if k == 0 && !opt.Refit {
					rep.FoldPacked = fr.packed
				}
				if rep.Checkpoint != nil {
					rep.Checkpoint.state[k] = fr.state
				}
				rep.Folds[k] = FoldReport{Fold: k, TrainSize: len(trainIdx[k]), EvalSize: len(evalIdx[k]),
					Metrics: m, Info: fr.info, Seconds: time.Since(t0).Seconds()}
				if opt.Progress != nil {
					opt.Progress(k, m)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		var acc, f1, ll []float64
		for _, f := range rep.Folds {
			acc = append(acc, f.Metrics.Accuracy)
			f1 = append(f1, f.Metrics.MacroF1)
			ll = append(ll, f.Metrics.LogLoss)
		}
		rep.Accuracy, rep.MacroF1, rep.LogLoss = Summarize(acc), Summarize(f1), Summarize(ll)
	}
	if opt.Refit || opt.Folds == 0 {
		all := make([]int, ds.N)
		for i := range all {
			all[i] = i
		}
		fr, err := fitFold(ctx, &cfg, ds, all, opt.Teacher, foldRNG(cfg.Seed, opt.Folds))
		if err != nil {
			return nil, fmt.Errorf("trainer: refit: %w", err)
		}
		rep.Model = &Model{Net: fr.net, Std: fr.std, Classes: ds.Classes}
		rep.RefitInfo = &fr.info
		rep.Packed = fr.packed
		timing := ds
		if test != nil && test.N > 0 {
			timing = test
		}
		size, err := Measure(fr.packed, &cfg, ds.D, ds.Classes, timing.X)
		if err != nil {
			return nil, fmt.Errorf("trainer: refit: %w", err)
		}
		rep.Size = &size
		if test != nil && test.N > 0 {
			all := make([]int, test.N)
			for i := range all {
				all[i] = i
			}
			rep.TestProbs, err = fr.predict(test, all)
			if err != nil {
				return nil, fmt.Errorf("trainer: refit: %w", err)
			}
			rep.TestLabels = test.Y
			m := Score(rep.TestProbs, test.Y, c)
			rep.Test = &m
			if cfg.Bits < 32 {
				ref := make([]float32, test.N*c)
				if err := fr.packed.ReferenceProba(ref, test.X, test.N); err != nil {
					return nil, fmt.Errorf("trainer: refit: reference: %w", err)
				}
				rm := Score(ref, test.Y, c)
				rep.TestReference = &rm
			}
			if opt.Progress != nil {
				opt.Progress(opt.Folds, m)
			}
		}
	}
	rep.Params = cfg.params(ds.D, c)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func (c *Config) params(d, classes int) int {
	s := c.Sizes(d, classes)
	n := 0
	for i := 0; i+1 < len(s); i++ {
		n += s[i]*s[i+1] + s[i+1]
	}
	return n
}

// foldResult is a model trained on some rows of a dataset.
type foldResult struct {
	net    *MLP
	std    *data.Standardizer
	info   TrainInfo
	packed *packed.Model
	cfg    *Config
	state  *foldState // the main phase's end state, when kept
}

// fitFold trains on rows idx of ds: standardisation fitted on those rows,
// an early-stopping split carved from them when cfg.Patience > 0.
func fitFold(ctx context.Context, cfg *Config, ds *data.Dataset, idx []int, teacher []float32, rs resume) (*foldResult, error) {
	rng := rand.New(rs.src)
	std := data.FitStandardizer(ds, idx)
	if cfg.Bootstrap {
		bag := make([]int, len(idx))
		for i := range bag {
			bag[i] = idx[rng.IntN(len(idx))]
		}
		idx = bag
	}
	fit, val := idx, []int(nil)
	if cfg.Patience > 0 {
		fit, val = data.HoldOut(idx, ds.Y, ds.NumClasses(), cfg.ValFraction, rng.Uint64())
	}
	set := makeSet(ds, fit, std, teacher)
	var vs *Set
	if len(val) > 0 {
		vs = makeSet(ds, val, std, nil)
	}
	net, info, state, err := train(ctx, cfg, set, vs, ds.D, ds.NumClasses(), rng, rs)
	if err != nil {
		return nil, err
	}
	fr := &foldResult{net: net, std: std, info: info, cfg: cfg, state: state}
	fr.packed, err = Pack(&Model{Net: net, Std: std, Classes: ds.Classes}, cfg, info.ActScale)
	if err != nil {
		return nil, err
	}
	return fr, nil
}

// makeSet copies rows idx of ds, standardised, with their teacher rows.
func makeSet(ds *data.Dataset, idx []int, std *data.Standardizer, teacher []float32) *Set {
	sub := ds.StandardizedSubset(idx, std)
	s := &Set{X: sub.X, Y: sub.Y, N: sub.N}
	if teacher != nil {
		c := ds.NumClasses()
		s.Teacher = make([]float32, len(idx)*c)
		for j, i := range idx {
			copy(s.Teacher[j*c:(j+1)*c], teacher[i*c:(i+1)*c])
		}
	}
	return s
}

// predict returns probabilities for rows idx of ds, computed the way the
// shipped model computes them: the packed model (integer arithmetic at 8
// bits and below, dequantized weights at 16) when quantized, the float
// network otherwise.
func (r *foldResult) predict(ds *data.Dataset, idx []int) ([]float32, error) {
	if r.cfg.Bits < 32 {
		return predictPacked(r.packed, ds, idx)
	}
	sub := ds.StandardizedSubset(idx, r.std)
	probs := make([]float32, sub.N*ds.NumClasses())
	NewPredictor(r.net).Proba(probs, sub.X, sub.N)
	return probs, finiteProbs(probs)
}
