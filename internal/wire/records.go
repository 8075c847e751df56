package wire

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/search"
)

// TrialState is a trial's lifecycle state in etcd.
type TrialState string

// The trial states. Done, Failed and Stopped are final.
const (
	Queued      TrialState = "queued"
	Running     TrialState = "running"
	TrialDone   TrialState = "done"
	TrialFailed TrialState = "failed"
	Stopped     TrialState = "stopped"
)

// Final reports whether s is a final state.
func (s TrialState) Final() bool { return s == TrialDone || s == TrialFailed || s == Stopped }

// TrialRecord is a trial's state in etcd, written only by the leading
// coordinator, each write fenced by its leadership.
type TrialRecord struct {
	// Seq orders trials by creation; the sampler's history is the records
	// sorted by Seq.
	Seq  int    `json:"seq"`
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// State is the lifecycle state.
	State TrialState `json:"state"`
	// The trial as sent (see Trial).
	Params   search.Params  `json:"params,omitempty"`
	Epochs   int            `json:"epochs,omitempty"`
	Seed     uint64         `json:"seed"`
	Rung     int            `json:"rung,omitempty"`
	Parent   string         `json:"parent,omitempty"`
	Ensemble *ensemble.Spec `json:"ensemble,omitempty"`
	Teacher  string         `json:"teacher,omitempty"`
	// Attempts counts deliveries seen; Worker is the last worker.
	Attempts int    `json:"attempts"`
	Worker   string `json:"worker,omitempty"`
	// Timings.
	QueuedAt   time.Time `json:"queued_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Outcome.
	Values          []float64        `json:"values,omitempty"`
	Metrics         *Metrics         `json:"metrics,omitempty"`
	EnsembleMetrics *EnsembleMetrics `json:"ensemble_metrics,omitempty"`
	Error           string           `json:"error,omitempty"`
}

// Message returns the trial message for the record.
func (r *TrialRecord) Message(sweep string, specRev int64) *Trial {
	return &Trial{V: Version, Sweep: sweep, ID: r.ID, Kind: r.Kind, SpecRevision: specRev,
		Params: r.Params, Epochs: r.Epochs, Seed: r.Seed, Parent: r.Parent, Ensemble: r.Ensemble, Teacher: r.Teacher}
}

// DecodeRecord decodes a trial record read from etcd.
func DecodeRecord(b []byte) (*TrialRecord, error) {
	var r TrialRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("wire: trial record: %w", err)
	}
	return &r, nil
}

// SweepState is a sweep's lifecycle state.
type SweepState string

// The sweep states. Done, Cancelled and Failed are final.
const (
	SweepPending    SweepState = "pending"
	SweepRunning    SweepState = "running"
	SweepEnsembling SweepState = "ensembling"
	SweepDone       SweepState = "done"
	SweepCancelled  SweepState = "cancelled"
	SweepFailed     SweepState = "failed"
)

// Final reports whether s is a final state.
func (s SweepState) Final() bool {
	return s == SweepDone || s == SweepCancelled || s == SweepFailed
}

// SweepStatus is a sweep's status in etcd.
type SweepStatus struct {
	State      SweepState `json:"state"`
	Submitted  time.Time  `json:"submitted"`
	Started    time.Time  `json:"started,omitzero"`
	Finished   time.Time  `json:"finished,omitzero"`
	Leader     string     `json:"leader,omitempty"`
	Error      string     `json:"error,omitempty"`
	Best       *Best      `json:"best,omitempty"`
	Generation int        `json:"generation"`
}

// Best is the sweep's outcome: the chosen ensemble, scored once on the
// test split, and the bundle to ship.
type Best struct {
	// Trial is the chosen ensemble trial's id.
	Trial string `json:"trial"`
	// Spec is its ensemble spec; Members and Weights the refit on all
	// out-of-fold rows.
	Spec    ensemble.Spec      `json:"spec"`
	Members []string           `json:"members"`
	Weights map[string]float64 `json:"weights,omitempty"`
	// CV is its nested-CV score; Test its single test-split score.
	CV   ensemble.CV      `json:"cv"`
	Test *ensemble.Scores `json:"test,omitempty"`
	// Bytes is the members' total packed size; BundleBytes the size of the
	// exported bundle.
	Bytes       int64 `json:"bytes"`
	BundleBytes int64 `json:"bundle_bytes"`
	// Bundle names the exported bundle in the object store.
	Bundle string `json:"bundle"`
	// Student is the distilled student's trial id, if one was trained.
	Student string `json:"student,omitempty"`
}

// WorkerInfo is a live worker's registration, kept under its lease.
type WorkerInfo struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	Concurrency int       `json:"concurrency"`
	Started     time.Time `json:"started"`
	Version     string    `json:"version"`
	GEMM        string    `json:"gemm"`
}

// Delivery holds the cluster's trial delivery settings, written by the
// leading coordinator: workers read the attempts cap here (older NATS
// servers drop consumer metadata).
type Delivery struct {
	MaxAttempts int           `json:"max_attempts"`
	AckWait     time.Duration `json:"ack_wait"`
}
