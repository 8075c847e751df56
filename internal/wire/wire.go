package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
)

// Version is the message format version this build speaks.
const Version = 1

// MaxMessage bounds a message's encoded size.
const MaxMessage = 1 << 20

// ErrMessage marks a message that cannot be accepted.
var ErrMessage = errors.New("wire: bad message")

// Stream, consumer and bucket names.
const (
	TrialsStream        = "CONSORT_TRIALS"
	ResultsStream       = "CONSORT_RESULTS"
	WorkersConsumer     = "consort-workers"
	CoordinatorConsumer = "consort-coordinator"
	ArtifactsBucket     = "consort-artifacts"
	TrialsSubjects      = "consort.trials.>"
	ResultsSubjects     = "consort.results.>"
)

// TrialSubject is the subject trials of sweep are published on.
func TrialSubject(sweep string) string { return "consort.trials." + sweep }

// ResultSubject is the subject results of sweep are published on.
func ResultSubject(sweep string) string { return "consort.results." + sweep }

// Prefix roots every etcd key consort writes.
const Prefix = "/consort/"

// Etcd keys.
func SweepsPrefix() string             { return Prefix + "sweeps/" }
func SpecKey(sweep string) string      { return Prefix + "sweeps/" + sweep + "/spec" }
func StatusKey(sweep string) string    { return Prefix + "sweeps/" + sweep + "/status" }
func CancelKey(sweep string) string    { return Prefix + "sweeps/" + sweep + "/cancel" }
func TrialsPrefix(sweep string) string { return Prefix + "sweeps/" + sweep + "/trials/" }
func TrialKey(sweep, id string) string { return TrialsPrefix(sweep) + id }
func WorkersPrefix() string            { return Prefix + "workers/" }
func WorkerKey(id string) string       { return Prefix + "workers/" + id }
func ElectionPrefix() string           { return Prefix + "election" }
func DeliveryKey() string              { return Prefix + "delivery" }

// ArtifactName names a trial's artifact ("predictions", "model") in the
// object store.
func ArtifactName(sweep, trial, what string) string { return sweep + "/" + trial + "/" + what }

// Kind says what a trial asks a worker to do.
type Kind string

// The kinds of trial.
const (
	// Member: train a configuration by k-fold CV, with its compression.
	Member Kind = "member"
	// Ensemble: score an ensemble candidate by nested CV on its members'
	// out-of-fold predictions.
	Ensemble Kind = "ensemble"
	// Distill: train one compressed student on a teacher's probabilities.
	Distill Kind = "distill"
)

var (
	sweepRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	idRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
)

// Trial is the message a coordinator publishes for workers. It carries
// data only — parameters, never commands or paths beyond the sweep's own.
type Trial struct {
	// V is the message version.
	V int `json:"v"`
	// Sweep names the sweep; ID the trial within it.
	Sweep string `json:"sweep"`
	ID    string `json:"id"`
	// Kind says what to do.
	Kind Kind `json:"kind"`
	// SpecRevision is the etcd revision of the sweep spec the trial was
	// made from; the worker checks Params against that spec.
	SpecRevision int64 `json:"spec_revision"`
	// Params is the configuration (Member, Distill).
	Params search.Params `json:"params,omitempty"`
	// Epochs overrides the training epochs (the ASHA rung's resource);
	// 0 keeps the configuration's own.
	Epochs int `json:"epochs,omitempty"`
	// Seed is the training seed.
	Seed uint64 `json:"seed"`
	// Parent, on an ASHA promotion, is the trial whose configuration it
	// trains for more epochs; a worker holding that trial's training
	// state continues it instead of starting over.
	Parent string `json:"parent,omitempty"`
	// Ensemble is the candidate to score (Ensemble).
	Ensemble *ensemble.Spec `json:"ensemble,omitempty"`
	// Teacher names the artifact holding the teacher's probabilities
	// (Distill): a predictions file in the sweep's own artifacts.
	Teacher string `json:"teacher,omitempty"`
}

// Validate checks the message's fields.
func (t *Trial) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if t.V != Version {
		bad("version %d (this build speaks %d)", t.V, Version)
	}
	if !sweepRE.MatchString(t.Sweep) {
		bad("sweep %q is not a sweep name", t.Sweep)
	}
	if !idRE.MatchString(t.ID) {
		bad("id %q is not a trial id", t.ID)
	}
	if t.SpecRevision <= 0 {
		bad("spec_revision %d", t.SpecRevision)
	}
	if t.Epochs < 0 || t.Epochs > 100000 {
		bad("epochs %d outside 0..100000", t.Epochs)
	}
	if t.Parent != "" && (!idRE.MatchString(t.Parent) || t.Kind != Member) {
		bad("parent %q on a %s trial", t.Parent, t.Kind)
	}
	switch t.Kind {
	case Member, Distill:
		if t.Params == nil {
			bad("%s trial without params", t.Kind)
		}
		if t.Ensemble != nil {
			bad("%s trial with an ensemble spec", t.Kind)
		}
		if (t.Kind == Distill) != (t.Teacher != "") {
			bad("teacher %q on a %s trial", t.Teacher, t.Kind)
		}
		if t.Teacher != "" && !validArtifact(t.Sweep, t.Teacher) {
			bad("teacher %q is not an artifact of sweep %q", t.Teacher, t.Sweep)
		}
	case Ensemble:
		if t.Ensemble == nil {
			bad("ensemble trial without a spec")
		} else if err := t.Ensemble.Validate(); err != nil {
			errs = append(errs, err)
		}
		if t.Params != nil || t.Teacher != "" {
			bad("ensemble trial with params or teacher")
		}
	default:
		bad("kind %q (want member, ensemble or distill)", t.Kind)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: trial %q: %w", ErrMessage, t.ID, errors.Join(errs...))
	}
	return nil
}

// validArtifact reports whether name is an artifact of sweep: no path
// tricks, only "<sweep>/<id>/<what>".
func validArtifact(sweep, name string) bool {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(sweep) + `/[a-z][a-z0-9-]{0,63}/[a-z]{1,32}$`).MatchString(name)
}

// Status is the outcome a result reports.
type Status string

// The statuses a worker reports.
const (
	// Started: a worker took the trial (attempt Attempt).
	Started Status = "started"
	// Done: the trial finished and its metrics are in the result.
	Done Status = "done"
	// Failed: the trial cannot succeed (bad params, training error); it
	// is not retried.
	Failed Status = "failed"
)

// Metrics are a member or student trial's scores, scalar and small.
type Metrics struct {
	// CV accuracy mean and sample std over folds, per-fold accuracies,
	// and the fold-mean macro-F1 and log loss.
	CVAccuracy    float64   `json:"cv_accuracy"`
	CVAccuracyStd float64   `json:"cv_accuracy_std"`
	Folds         []float64 `json:"folds"`
	CVMacroF1     float64   `json:"cv_macro_f1"`
	CVLogLoss     float64   `json:"cv_log_loss"`
	// Compression, measured on the packed refit model (for an ASHA screen,
	// which is not refitted, on its first fold's model, and LatencyUS is
	// not measured: 0).
	SizeBytes        int64   `json:"size_bytes"`
	Sparsity         float64 `json:"sparsity"`
	Bits             int     `json:"bits"`
	CompressionRatio float64 `json:"compression_ratio"`
	LatencyUS        float64 `json:"latency_us"`
	Params           int     `json:"params"`
	// Epochs trained (the rung's resource) and the trial's wall time.
	Epochs  int     `json:"epochs"`
	Seconds float64 `json:"seconds"`
	// ResumedEpochs, for an ASHA promotion, counts the epochs continued
	// from its parent's checkpoint instead of trained again (0: trained
	// from scratch). The result is the same either way.
	ResumedEpochs int `json:"resumed_epochs,omitempty"`
}

// EnsembleMetrics summarise an ensemble trial: the nested-CV scores, the
// refitted members, weights and total bytes.
type EnsembleMetrics struct {
	CV      ensemble.CV        `json:"cv"`
	Members []string           `json:"members"`
	Weights map[string]float64 `json:"weights,omitempty"`
	Bytes   int64              `json:"bytes"`
	Seconds float64            `json:"seconds"`
}

// Result is what a worker publishes about a trial.
type Result struct {
	V       int    `json:"v"`
	Sweep   string `json:"sweep"`
	ID      string `json:"id"`
	Kind    Kind   `json:"kind"`
	Status  Status `json:"status"`
	Worker  string `json:"worker"`
	Attempt int    `json:"attempt"`
	// Error says why a trial failed.
	Error string `json:"error,omitempty"`
	// Metrics (Member, Distill) or Ensemble (Ensemble) when Done.
	Metrics  *Metrics         `json:"metrics,omitempty"`
	Ensemble *EnsembleMetrics `json:"ensemble,omitempty"`
	// Time is when the worker sent it.
	Time time.Time `json:"time"`
}

// Validate checks the message's fields.
func (r *Result) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if r.V != Version {
		bad("version %d (this build speaks %d)", r.V, Version)
	}
	if !sweepRE.MatchString(r.Sweep) {
		bad("sweep %q", r.Sweep)
	}
	if !idRE.MatchString(r.ID) {
		bad("id %q", r.ID)
	}
	if r.Kind != Member && r.Kind != Ensemble && r.Kind != Distill {
		bad("kind %q", r.Kind)
	}
	if r.Attempt < 1 || r.Attempt > 1000 {
		bad("attempt %d", r.Attempt)
	}
	if len(r.Worker) == 0 || len(r.Worker) > 128 {
		bad("worker %q", r.Worker)
	}
	if len(r.Error) > 4096 {
		bad("error text of %d bytes", len(r.Error))
	}
	switch r.Status {
	case Started, Failed:
	case Done:
		if (r.Kind == Ensemble) != (r.Ensemble != nil) || (r.Kind != Ensemble) != (r.Metrics != nil) {
			bad("done %s result without its metrics", r.Kind)
		}
	default:
		bad("status %q", r.Status)
	}
	if m := r.Metrics; m != nil {
		if !(m.CVAccuracy >= 0 && m.CVAccuracy <= 1) || m.SizeBytes < 0 || len(m.Folds) > 100 {
			bad("metrics out of range")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: result %q: %w", ErrMessage, r.ID, errors.Join(errs...))
	}
	return nil
}

// decode strictly unmarshals b into v.
func decode(b []byte, v any, what string) error {
	if len(b) > MaxMessage {
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrMessage, what, len(b), MaxMessage)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMessage, what, err)
	}
	if d.More() {
		return fmt.Errorf("%w: %s: trailing data", ErrMessage, what)
	}
	return nil
}

// DecodeTrial decodes and validates a trial message.
func DecodeTrial(b []byte) (*Trial, error) {
	var t Trial
	if err := decode(b, &t, "trial"); err != nil {
		return nil, err
	}
	t.Params = normalize(t.Params)
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// DecodeResult decodes and validates a result message.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := decode(b, &r, "result"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// normalize turns json.Numbers into float64 (the form search.Params
// expects from JSON).
func normalize(p search.Params) search.Params {
	for k, v := range p {
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				p[k] = n.String() // rejected by Space.Check later
				continue
			}
			p[k] = f
		}
	}
	return p
}

// Encode marshals a message.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wire: encode: %w", err)
	}
	return b, nil
}

// MetricsOf summarises a cross-validation report and its packed model.
func MetricsOf(rep *trainer.Report, size trainer.Size, epochs int) *Metrics {
	m := &Metrics{
		CVAccuracy: rep.Accuracy.Mean, CVAccuracyStd: rep.Accuracy.Std,
		CVMacroF1: rep.MacroF1.Mean, CVLogLoss: rep.LogLoss.Mean,
		SizeBytes: size.Bytes, Sparsity: size.Sparsity, Bits: size.Bits,
		CompressionRatio: size.CompressionRatio, LatencyUS: size.LatencyUS,
		Params: rep.Params, Epochs: epochs, Seconds: rep.Seconds,
	}
	for _, f := range rep.Folds {
		m.Folds = append(m.Folds, f.Metrics.Accuracy)
	}
	return m
}
