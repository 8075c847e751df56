package trainer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ErrConfig marks a configuration that cannot be trained. Every validation
// failure wraps it inside a *FieldError.
var ErrConfig = errors.New("invalid configuration")

// FieldError names one invalid configuration field, its value and what is
// allowed. Field uses the configuration key names (snake_case).
type FieldError struct {
	Field   string
	Value   any
	Allowed string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v is not allowed (allowed: %s)", e.Field, e.Value, e.Allowed)
}

// Unwrap lets errors.Is(err, ErrConfig) match.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Choices of the string-valued settings.
var (
	Activations = []string{"relu", "tanh"}
	Optimizers  = []string{"adam", "sgd"}
	LRSchedules = []string{"constant", "cosine"}
	PruneKinds  = []string{"unstructured", "structured"}
	PruneScopes = []string{"global", "layer"}
	Schedules   = []string{"oneshot", "agp"}
	BitWidths   = []int{2, 3, 4, 5, 6, 8, 16, 32}
)

// Config describes one training configuration: architecture, optimisation
// and compression. The zero value is not usable; start from DefaultConfig.
type Config struct {
	// Hidden lists the widths of the hidden layers; empty means a linear
	// (softmax regression) model.
	Hidden []int `json:"hidden"`
	// Activation of hidden layers: "relu" or "tanh".
	Activation string `json:"activation"`
	// Optimizer: "adam" or "sgd" (with Momentum).
	Optimizer string `json:"optimizer"`
	// LR is the base learning rate.
	LR float64 `json:"lr"`
	// Momentum for SGD; ignored by Adam. 0 is plain SGD.
	Momentum float64 `json:"momentum"`
	// Batch is the mini-batch size.
	Batch int `json:"batch"`
	// Epochs of training before any pruning or fine-tuning.
	Epochs int `json:"epochs"`
	// L2 is the weight-decay coefficient added to the gradient (coupled, as
	// in PyTorch's Adam weight_decay); 0 disables it. Biases are not decayed.
	L2 float64 `json:"l2"`
	// LRSchedule: "constant" or "cosine" (annealed per step to 0 over each
	// training phase).
	LRSchedule string `json:"lr_schedule"`
	// Patience enables early stopping: training stops when the validation
	// loss has not improved for Patience epochs, and the best weights are
	// kept. 0 disables early stopping and the validation split.
	Patience int `json:"patience"`
	// ValFraction is the stratified share of each training fold held out
	// for early stopping. Used only when Patience > 0.
	ValFraction float64 `json:"val_fraction"`
	// Seed drives initialisation, shuffling and splits. Same seed, same
	// data, same machine: bit-identical weights.
	Seed uint64 `json:"seed"`
	// Bootstrap trains each model on a bootstrap resample of its training
	// rows (drawn with replacement, as many as there are rows) — bagging,
	// which decorrelates ensemble members' errors. The rows left out are
	// not used. False trains on the rows as they are.
	Bootstrap bool `json:"bootstrap"`
	// FeatureFraction keeps a random share of the input features per
	// model (the random subspace method, another source of ensemble
	// diversity): the first layer's weights of the others are pruned to
	// exactly zero, so the packed model does not even store them. 0 or 1
	// keeps every feature.
	FeatureFraction float64 `json:"feature_fraction"`

	// Sparsity is the target fraction of pruned weights in [0, 0.99];
	// 0 disables pruning.
	Sparsity float64 `json:"sparsity"`
	// Prune is "unstructured" (single weights) or "structured" (whole
	// hidden neurons; the layers shrink).
	Prune string `json:"prune"`
	// PruneScope is "global" (one magnitude threshold across layers) or
	// "layer" (each layer pruned to Sparsity). Unstructured only.
	PruneScope string `json:"prune_scope"`
	// Schedule is "oneshot" (prune after training, then fine-tune) or
	// "agp" (gradual pruning, Zhu & Gupta 2017, during training).
	Schedule string `json:"schedule"`
	// FineTune is the number of epochs of fine-tuning after one-shot
	// pruning, after AGP reaches its target, and of quantization-aware
	// training. 0 disables fine-tuning.
	FineTune int `json:"fine_tune"`
	// Bits is the weight bit-width: 2, 3, 4, 5, 6, 8, 16, or 32 (float).
	Bits int `json:"bits"`
	// QAT fine-tunes with fake-quantized weights in the forward pass
	// (straight-through estimator) instead of post-training quantization.
	// Only meaningful when Bits < 32.
	QAT bool `json:"qat"`
	// PerChannel quantizes each output neuron with its own scale instead of
	// one scale per layer.
	PerChannel bool `json:"per_channel"`
	// Asymmetric uses a zero point (uniform affine quantization) instead of
	// symmetric quantization around zero.
	Asymmetric bool `json:"asymmetric"`
	// ActBits quantizes hidden activations to 8 bits at inference when 8;
	// 0 or 32 keeps them float.
	ActBits int `json:"act_bits"`

	// DistillT is the distillation temperature; used when a teacher is
	// given to Fit.
	DistillT float64 `json:"distill_t"`
	// DistillAlpha weighs the soft-target loss against the hard-label loss
	// (1 = only the teacher, 0 = only the labels).
	DistillAlpha float64 `json:"distill_alpha"`
}

// DefaultConfig returns the defaults every entry point starts from.
func DefaultConfig() Config {
	return Config{
		Hidden:       []int{64, 32},
		Activation:   "relu",
		Optimizer:    "adam",
		LR:           1e-3,
		Momentum:     0.9,
		Batch:        32,
		Epochs:       40,
		L2:           0,
		LRSchedule:   "constant",
		Patience:     0,
		ValFraction:  0.1,
		Seed:         1,
		Prune:        "unstructured",
		PruneScope:   "global",
		Schedule:     "oneshot",
		FineTune:     10,
		Bits:         32,
		PerChannel:   true,
		DistillT:     4,
		DistillAlpha: 0.7,
	}
}

// Validate reports every invalid field at once (errors.Join of
// *FieldError, each wrapping ErrConfig).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, v any, allowed string) {
		errs = append(errs, &FieldError{Field: field, Value: v, Allowed: allowed})
	}
	for i, h := range c.Hidden {
		if h < 1 || h > 1<<16 {
			bad(fmt.Sprintf("hidden[%d]", i), h, "1..65536")
		}
	}
	if len(c.Hidden) > 16 {
		bad("hidden", len(c.Hidden), "at most 16 hidden layers")
	}
	oneOf := func(field, v string, set []string) {
		if !slices.Contains(set, v) {
			bad(field, fmt.Sprintf("%q", v), strings.Join(set, ", "))
		}
	}
	oneOf("activation", c.Activation, Activations)
	oneOf("optimizer", c.Optimizer, Optimizers)
	oneOf("lr_schedule", c.LRSchedule, LRSchedules)
	oneOf("prune", c.Prune, PruneKinds)
	oneOf("prune_scope", c.PruneScope, PruneScopes)
	oneOf("schedule", c.Schedule, Schedules)
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !(c.LR > 0 && c.LR <= 10 && finite(c.LR)) {
		bad("lr", c.LR, "(0, 10]")
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		bad("momentum", c.Momentum, "[0, 1)")
	}
	if c.Batch < 1 || c.Batch > 1<<16 {
		bad("batch", c.Batch, "1..65536")
	}
	if c.Epochs < 1 || c.Epochs > 100000 {
		bad("epochs", c.Epochs, "1..100000")
	}
	if !(c.L2 >= 0 && c.L2 <= 1) {
		bad("l2", c.L2, "[0, 1]")
	}
	if c.Patience < 0 {
		bad("patience", c.Patience, "0 (off) or a positive number of epochs")
	}
	if !(c.ValFraction > 0 && c.ValFraction < 0.5) {
		bad("val_fraction", c.ValFraction, "(0, 0.5)")
	}
	if !(c.FeatureFraction >= 0 && c.FeatureFraction <= 1) {
		bad("feature_fraction", c.FeatureFraction, "[0, 1] (0 or 1: all features)")
	}
	if !(c.Sparsity >= 0 && c.Sparsity <= 0.99) {
		bad("sparsity", c.Sparsity, "[0, 0.99]")
	}
	if c.FineTune < 0 || c.FineTune > 100000 {
		bad("fine_tune", c.FineTune, "0..100000")
	}
	if !slices.Contains(BitWidths, c.Bits) {
		bad("bits", c.Bits, "2, 3, 4, 5, 6, 8, 16, 32")
	}
	if c.QAT && c.Bits == 32 {
		bad("qat", c.QAT, "true only when bits < 32")
	}
	if c.ActBits != 0 && c.ActBits != 8 && c.ActBits != 32 {
		bad("act_bits", c.ActBits, "0 or 32 (float), 8")
	}
	if !(c.DistillT >= 1 && c.DistillT <= 100) {
		bad("distill_t", c.DistillT, "[1, 100]")
	}
	if !(c.DistillAlpha >= 0 && c.DistillAlpha <= 1) {
		bad("distill_alpha", c.DistillAlpha, "[0, 1]")
	}
	return errors.Join(errs...)
}
