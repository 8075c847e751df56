package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/internal/artifact"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/data"
)

// Job is one trial handed to an Executor.
type Job struct {
	// Trial is the message, validated and checked against Sweep.
	Trial *wire.Trial
	// Sweep and Space are the trial's sweep as stored in etcd.
	Sweep *configs.Sweep
	Space *search.Space
	// Attempt counts deliveries of this trial, from 1.
	Attempt int
	// Store opens the artifact object store.
	Store func(context.Context) (jetstream.ObjectStore, error)
	// Etcd reads other trials' records (ensemble members' sizes).
	Etcd *clientv3.Client
}

// Outcome is what a trial produced.
type Outcome struct {
	// Metrics of a member or distilled trial.
	Metrics *wire.Metrics
	// Ensemble metrics of an ensemble trial.
	Ensemble *wire.EnsembleMetrics
}

// Executor runs trials. Errors wrapped with Permanent fail the trial for
// good; others hand it back for redelivery.
type Executor interface {
	Execute(ctx context.Context, job *Job) (*Outcome, error)
}

// Trainer is the Executor that trains and scores trials for real. It
// caches datasets and predictions across trials and is safe for
// concurrent use.
type Trainer struct {
	// DataRoot is the directory dataset paths must resolve under; empty
	// allows built-in datasets only.
	DataRoot string
	// CheckpointBytes bounds the memory of the training states kept from
	// ASHA screens to continue their promotions: 0 means
	// DefaultCheckpointBytes, negative keeps none (promotions then train
	// from scratch, with the same result, more slowly).
	CheckpointBytes int64

	ckOnce sync.Once
	ck     checkpoints

	mu    sync.Mutex
	data  map[configs.SweepData]*loaded
	preds artifact.Cache
}

// loaded is a sweep's dataset, split.
type loaded struct {
	once        sync.Once
	train, test *data.Dataset
	err         error
}

var _ Executor = (*Trainer)(nil)

// Execute runs one trial.
func (x *Trainer) Execute(ctx context.Context, job *Job) (*Outcome, error) {
	switch job.Trial.Kind {
	case wire.Member, wire.Distill:
		return x.member(ctx, job)
	case wire.Ensemble:
		return x.ensemble(ctx, job)
	}
	return nil, Permanent(fmt.Errorf("unknown trial kind %q", job.Trial.Kind))
}

// dataset loads (once) and splits the sweep's data.
func (x *Trainer) dataset(sd configs.SweepData) (*data.Dataset, *data.Dataset, error) {
	x.mu.Lock()
	if x.data == nil {
		x.data = map[configs.SweepData]*loaded{}
	}
	l := x.data[sd]
	if l == nil {
		l = &loaded{}
		x.data[sd] = l
	}
	x.mu.Unlock()
	l.once.Do(func() {
		if x.DataRoot == "" && !isBuiltin(sd.Source) {
			l.err = fmt.Errorf("dataset %q is not built in and this worker has no --data-root", sd.Source)
			return
		}
		hm, err := data.ParseHeaderMode(sd.Header)
		if err != nil {
			l.err = err
			return
		}
		ds, own, err := data.Load(sd.Source, data.LoadOptions{DataRoot: x.DataRoot, CSV: data.CSVOptions{Label: sd.Label, Header: hm}})
		if err != nil {
			l.err = err
			return
		}
		l.train, l.test, l.err = trainer.Split(ds, own, sd.TestFraction, sd.SplitSeed)
	})
	if l.err != nil {
		return nil, nil, Permanent(l.err)
	}
	return l.train, l.test, nil
}

func isBuiltin(name string) bool {
	for _, b := range data.BuiltinNames() {
		if b == name {
			return true
		}
	}
	return false
}

// member trains a member or distilled-student trial.
func (x *Trainer) member(ctx context.Context, job *Job) (*Outcome, error) {
	t, sw := job.Trial, job.Sweep
	cfg, err := configs.ApplyParams(sw.Base, t.Params)
	if err != nil {
		return nil, Permanent(err)
	}
	if t.Epochs > 0 {
		cfg.Epochs = t.Epochs
	}
	cfg.Seed = t.Seed
	train, test, err := x.dataset(sw.Data)
	if err != nil {
		return nil, err
	}
	// A trial below ASHA's top rung is a screen: only its CV score is
	// used (to stop or promote it), so it skips the refit, the test split,
	// the latency timing and the model artifact — about a third of a short
	// trial's time. Its size is measured on the first fold's model.
	screen := t.Kind == wire.Member && sw.Data.Folds >= 2 && cfg.Epochs < sw.ASHA.TopEpochs()
	opt := trainer.CVOptions{Folds: sw.Data.Folds, SplitSeed: sw.Data.SplitSeed, Refit: !screen, Parallel: 1}
	// A screen keeps its training state; its promotion, if this worker
	// gets it and still holds the state, continues from there.
	x.ckOnce.Do(func() { x.ck.limit = cmp.Or(x.CheckpointBytes, DefaultCheckpointBytes) })
	opt.Checkpoint = screen && x.ck.limit > 0
	ckKey := func(id string) string { return t.Sweep + "/" + id }
	var resumed int
	if t.Parent != "" && t.Kind == wire.Member {
		if ck := x.ck.get(ckKey(t.Parent)); ck.Continues(cfg, opt, train.N) {
			opt.Resume, resumed = ck, ck.Epochs()
		}
	}
	if t.Kind == wire.Distill {
		store, err := job.Store(ctx)
		if err != nil {
			return nil, err
		}
		teacher, err := x.preds.Predictions(ctx, store, t.Teacher)
		if err != nil {
			return nil, err
		}
		if len(teacher.OOF) != train.N*train.NumClasses() {
			return nil, Permanent(fmt.Errorf("teacher %s has %d probabilities, the data %d×%d", t.Teacher, len(teacher.OOF), train.N, train.NumClasses()))
		}
		opt.Teacher = teacher.OOF
	}
	rep, err := trainer.CrossValidate(ctx, cfg, train, test, opt)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, Permanent(err)
	}
	if rep.Checkpoint != nil {
		x.ck.put(ckKey(t.ID), rep.Checkpoint)
	}
	if resumed > 0 {
		x.ck.remove(ckKey(t.Parent)) // a configuration is promoted once
	}
	artifacts := map[string]func() ([]byte, error){}
	var size trainer.Size
	if screen {
		if size, err = trainer.MeasureSize(rep.FoldPacked, &cfg, train.D, train.Classes); err != nil {
			return nil, Permanent(err)
		}
		if sw.Objective == "ensemble_gain" { // the coordinator scores the gain on the OOF predictions
			artifacts["predictions"] = trainer.PredictionsOf(rep).MarshalBinary
		}
	} else {
		size = *rep.Size
		artifacts["predictions"], artifacts["model"] = trainer.PredictionsOf(rep).MarshalBinary, rep.Packed.MarshalBinary
	}
	if len(artifacts) > 0 {
		if err := x.putArtifacts(ctx, job, artifacts); err != nil {
			return nil, err
		}
	}
	m := wire.MetricsOf(rep, size, cfg.Epochs)
	m.ResumedEpochs = resumed
	return &Outcome{Metrics: m}, nil
}

// putArtifacts encodes and stores a trial's artifacts by name.
func (x *Trainer) putArtifacts(ctx context.Context, job *Job, enc map[string]func() ([]byte, error)) error {
	store, err := job.Store(ctx)
	if err != nil {
		return err
	}
	for name, f := range enc {
		b, err := f()
		if err != nil {
			return Permanent(err)
		}
		if _, err := store.PutBytes(ctx, wire.ArtifactName(job.Trial.Sweep, job.Trial.ID, name), b); err != nil {
			return fmt.Errorf("store %s: %w", name, err)
		}
	}
	return nil
}

// ensemble scores an ensemble candidate by nested CV on its members'
// out-of-fold predictions.
func (x *Trainer) ensemble(ctx context.Context, job *Job) (*Outcome, error) {
	start := time.Now()
	t := job.Trial
	spec := *t.Ensemble
	store, err := job.Store(ctx)
	if err != nil {
		return nil, err
	}
	preds := make([]*trainer.Predictions, len(spec.Members))
	bytes := make([]int64, len(spec.Members))
	for i, id := range spec.Members {
		if preds[i], err = x.preds.Predictions(ctx, store, wire.ArtifactName(t.Sweep, id, "predictions")); err != nil {
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				return nil, Permanent(err)
			}
			return nil, err
		}
		if bytes[i], err = memberBytes(ctx, job.Etcd, t.Sweep, id); err != nil {
			return nil, err
		}
	}
	p, err := artifact.Problem(spec.Members, preds, bytes)
	if err != nil {
		return nil, Permanent(err)
	}
	res, err := ensemble.Evaluate(ctx, spec, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, Permanent(err)
	}
	return &Outcome{Ensemble: &wire.EnsembleMetrics{CV: res.CV, Members: res.Members, Weights: res.Weights,
		Bytes: res.Bytes, Seconds: time.Since(start).Seconds()}}, nil
}

// memberBytes reads a member trial's packed size from its record.
func memberBytes(ctx context.Context, cli *clientv3.Client, sweep, id string) (int64, error) {
	resp, err := cli.Get(ctx, wire.TrialKey(sweep, id))
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) == 0 {
		return 0, Permanent(fmt.Errorf("member %s has no record", id))
	}
	rec, err := wire.DecodeRecord(resp.Kvs[0].Value)
	if err != nil {
		return 0, Permanent(err)
	}
	if rec.Metrics == nil {
		return 0, Permanent(fmt.Errorf("member %s has no metrics", id))
	}
	return rec.Metrics.SizeBytes, nil
}

// decodeSweep decodes a sweep stored in etcd and validates it.
func decodeSweep(b []byte, s *configs.Sweep) error {
	if err := json.Unmarshal(b, s); err != nil {
		return err
	}
	return s.Validate()
}
