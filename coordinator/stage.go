package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/internal/artifact"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/packed"
)

// advanceEnsemble runs the ensemble stage: candidate ensembles over the
// best members go to workers; when all are scored the best by nested CV is
// chosen, checked once on the test split and exported; then the optional
// distilled student trains.
func (r *runner) advanceEnsemble(ctx context.Context) error {
	if r.count[wire.Ensemble] == 0 {
		specs := r.ensembleSpecs(r.best(r.sweep.Ensemble.Pool))
		if len(specs) == 0 {
			return r.fail(ctx, errors.New("no ensemble candidate fits the budget"))
		}
		for i := range specs {
			rec := r.newRecord(wire.Ensemble)
			rec.Ensemble = &specs[i]
		}
		r.log.Info("ensemble stage", "candidates", len(specs))
		return nil
	}
	if r.inflight(wire.Ensemble) > 0 {
		return nil
	}
	if r.status.Best == nil {
		best, err := r.choose(ctx)
		if err != nil {
			if ctx.Err() != nil || isTransient(err) {
				r.log.Warn("choosing the ensemble failed; retrying", "err", err)
				return nil
			}
			return r.fail(ctx, err)
		}
		r.status.Best = best
		r.statusDir = true
		if r.sweep.Ensemble.Distill {
			rec := r.newRecord(wire.Distill)
			rec.Params = search.Params(r.sweep.Ensemble.Student)
			rec.Teacher = wire.ArtifactName(r.name, best.Trial, "teacher")
			rec.Seed = r.sweep.Seed ^ splitmix(uint64(rec.Seq))
			best.Student = rec.ID
		}
		return nil
	}
	if r.inflight(wire.Distill) > 0 {
		return nil
	}
	r.finish()
	return nil
}

// isTransient reports errors worth retrying: the bus or the store.
func isTransient(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// ensembleSpecs builds the candidates over pool: every method the sweep
// allows, unbudgeted and under size budgets, within the sweep's limits,
// plus the best single member.
func (r *runner) ensembleSpecs(pool []*wire.TrialRecord) []ensemble.Spec {
	if len(pool) == 0 {
		return nil
	}
	e := r.sweep.Ensemble
	members := make([]ensemble.Member, len(pool))
	for i, rec := range pool {
		members[i] = ensemble.Member{ID: rec.ID, Bytes: rec.Metrics.SizeBytes}
	}
	var budgets []int64
	if e.MaxBytes > 0 {
		budgets = []int64{e.MaxBytes}
	}
	seen := map[string]bool{}
	var out []ensemble.Spec
	add := func(s ensemble.Spec) {
		if e.MaxBytes > 0 && (s.MaxBytes == 0 || s.MaxBytes > e.MaxBytes) {
			s.MaxBytes = e.MaxBytes
		}
		if e.MaxMembers > 0 && (s.MaxMembers == 0 || s.MaxMembers > e.MaxMembers) {
			s.MaxMembers = e.MaxMembers
		}
		key := fmt.Sprintf("%s|%s|%d|%d|%d|%s", s.Method, s.Features, s.Bags, s.MaxBytes, s.MaxMembers, s.Members)
		if seen[key] || s.Validate() != nil {
			return
		}
		seen[key] = true
		out = append(out, s)
	}
	if pool[0].Metrics.SizeBytes <= e.MaxBytes || e.MaxBytes == 0 {
		add(ensemble.Spec{Name: "single-" + pool[0].ID, Method: ensemble.MethodAverage, Members: []string{pool[0].ID}})
	}
	for _, s := range ensemble.DefaultSpecs(members, budgets...) {
		if len(e.Methods) > 0 && !slices.Contains(e.Methods, s.Method) {
			continue
		}
		add(s)
	}
	return out
}

// choose picks the best scored ensemble by nested-CV accuracy (then log
// loss, then bytes), refits it on all out-of-fold rows, scores it once on
// the test split, exports the bundle and, for distillation, the teacher.
func (r *runner) choose(ctx context.Context) (*wire.Best, error) {
	var cands []*wire.TrialRecord
	for _, rec := range r.order {
		if rec.Kind == wire.Ensemble && rec.State == wire.TrialDone && rec.EnsembleMetrics != nil {
			cands = append(cands, rec)
		}
	}
	if len(cands) == 0 {
		return nil, errors.New("no ensemble candidate was scored")
	}
	slices.SortStableFunc(cands, func(a, b *wire.TrialRecord) int {
		x, y := a.EnsembleMetrics, b.EnsembleMetrics
		return cmp.Or(-cmp.Compare(x.CV.Mean.Accuracy, y.CV.Mean.Accuracy), cmp.Compare(x.CV.Mean.LogLoss, y.CV.Mean.LogLoss), cmp.Compare(x.Bytes, y.Bytes))
	})
	win := cands[0]
	spec := *win.Ensemble
	p, err := r.problem(ctx, spec.Members)
	if err != nil {
		return nil, err
	}
	res, err := ensemble.Final(ctx, spec, p)
	if err != nil {
		return nil, fmt.Errorf("final evaluation: %w", err)
	}
	models := make([]*packed.Model, len(spec.Members))
	for i, id := range spec.Members {
		b, err := r.store.GetBytes(ctx, wire.ArtifactName(r.name, id, "model"))
		if err != nil {
			return nil, fmt.Errorf("model of %s: %w", id, err)
		}
		if models[i], err = packed.Unmarshal(b); err != nil {
			return nil, fmt.Errorf("model of %s: %w", id, err)
		}
	}
	bundle, err := artifact.Bundle(res.Combiner, models)
	if err != nil {
		return nil, err
	}
	bb, err := bundle.MarshalBinary()
	if err != nil {
		return nil, err
	}
	name := wire.ArtifactName(r.name, "best", "bundle")
	if _, err := r.store.PutBytes(ctx, name, bb); err != nil {
		return nil, fmt.Errorf("store bundle: %w", err)
	}
	best := &wire.Best{Trial: win.ID, Spec: spec, Members: res.Members, Weights: res.Weights, CV: res.CV, Test: res.Test,
		Bytes: res.Bytes, BundleBytes: int64(len(bb)), Bundle: name}
	if r.sweep.Ensemble.Distill {
		sub, err := p.Subset(spec.Members)
		if err != nil {
			return nil, err
		}
		if err := r.putTeacher(ctx, win.ID, sub, res.Combiner); err != nil {
			return nil, err
		}
	}
	r.log.Info("ensemble chosen", "trial", win.ID, "method", spec.Method, "members", len(res.Members),
		"cv_accuracy", res.CV.Mean.Accuracy, "bytes", res.Bytes)
	return best, nil
}

// problem builds the ensemble problem over member trials ids.
func (r *runner) problem(ctx context.Context, ids []string) (*ensemble.Problem, error) {
	preds := make([]*trainer.Predictions, len(ids))
	bytes := make([]int64, len(ids))
	for i, id := range ids {
		rec := r.recs[id]
		if rec == nil || rec.Metrics == nil {
			return nil, fmt.Errorf("member %s has no result", id)
		}
		var err error
		if preds[i], err = r.preds.Predictions(ctx, r.store, wire.ArtifactName(r.name, id, "predictions")); err != nil {
			return nil, err
		}
		bytes[i] = rec.Metrics.SizeBytes
	}
	return artifact.Problem(ids, preds, bytes)
}

// putTeacher stores the chosen ensemble's probabilities — on the training
// samples (combining the members' out-of-fold predictions) and on the
// test split — for the distilled student.
func (r *runner) putTeacher(ctx context.Context, id string, p *ensemble.Problem, comb ensemble.Combiner) error {
	c := p.Classes
	combine := func(get func(ensemble.Member) []float32, n int) []float32 {
		probs := make([][]float32, len(p.Members))
		for j, m := range p.Members {
			probs[j] = get(m)
		}
		dst := make([]float64, n*c)
		comb.Predict(dst, probs)
		out := make([]float32, len(dst))
		for i, v := range dst {
			out[i] = float32(v)
		}
		return out
	}
	t := &trainer.Predictions{Labels: p.Labels, Folds: make([]int32, len(p.Folds)), TestLabels: p.TestLabels}
	for i, f := range p.Folds {
		t.Folds[i] = int32(f)
	}
	ref, err := r.preds.Predictions(ctx, r.store, wire.ArtifactName(r.name, p.Members[0].ID, "predictions"))
	if err != nil {
		return err
	}
	t.Classes = ref.Classes
	t.OOF = combine(func(m ensemble.Member) []float32 { return m.OOF }, len(p.Labels))
	if len(p.TestLabels) > 0 {
		t.Test = combine(func(m ensemble.Member) []float32 { return m.Test }, len(p.TestLabels))
	}
	b, err := t.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = r.store.PutBytes(ctx, wire.ArtifactName(r.name, id, "teacher"), b)
	return err
}

// gainState scores members by their marginal gain to a greedily grown
// ensemble (the "ensemble_gain" objective): a member is added when it
// improves the ensemble's out-of-fold accuracy (or, at equal accuracy, its
// log loss). The objective value is the accuracy gain plus a hundredth of
// the log-loss gain. It is rebuilt from the stored trials after a restart.
type gainState struct {
	ids     []string
	sum     []float64
	problem *ensemble.Problem
	primed  bool
}

func (g *gainState) add(ctx context.Context, r *runner, rec *wire.TrialRecord) (float64, error) {
	if !g.primed {
		g.primed = true
		for _, old := range r.order {
			if old != rec && old.Kind == wire.Member && old.State == wire.TrialDone {
				if _, err := g.consider(ctx, r, old); err != nil {
					return 0, err
				}
			}
		}
	}
	return g.consider(ctx, r, rec)
}

func (g *gainState) consider(ctx context.Context, r *runner, rec *wire.TrialRecord) (float64, error) {
	p, err := r.preds.Predictions(ctx, r.store, wire.ArtifactName(r.name, rec.ID, "predictions"))
	if err != nil {
		return 0, err
	}
	if g.sum == nil {
		folds := make([]int, len(p.Folds))
		for i, f := range p.Folds {
			folds[i] = int(f)
		}
		g.problem = &ensemble.Problem{Classes: len(p.Classes), Labels: p.Labels, Folds: folds}
		g.sum = make([]float64, len(p.OOF))
		for i, v := range p.OOF {
			g.sum[i] = float64(v)
		}
		g.ids = []string{rec.ID}
		return 0, nil
	}
	n := len(g.ids)
	cur := make([]float64, len(g.sum))
	for i, v := range g.sum {
		cur[i] = v / float64(n)
	}
	gain, err := ensemble.MarginalGain(g.problem, cur, n, ensemble.Member{ID: rec.ID, OOF: p.OOF})
	if err != nil {
		return 0, err
	}
	if gain.Accuracy > 0 || (gain.Accuracy == 0 && gain.LogLoss > 0) {
		for i, v := range p.OOF {
			g.sum[i] += float64(v)
		}
		g.ids = append(g.ids, rec.ID)
	}
	return gain.Accuracy + 0.01*gain.LogLoss, nil
}
