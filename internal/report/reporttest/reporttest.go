// Package reporttest builds synthetic but realistic sweeps — members over
// ASHA rungs with per-fold accuracies, packed sizes and latencies, a few
// failures, ensembles, a distilled student and the chosen ensemble — for
// tests and benchmarks of the leaderboard, the report and the dashboard,
// and stores them in etcd exactly where a coordinator would.
//
//	s := reporttest.Sweep("big", reporttest.Options{Members: 10000, Ensembles: 200, Seed: 1})
//	err := reporttest.Store(ctx, etcdClient, s)
//	// coordinator.Read(ctx, etcdClient, "big") now returns s's records
package reporttest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
)

// Options shapes a synthetic sweep.
type Options struct {
	// Members is the number of member trial records, ASHA promotions
	// included; zero means 40.
	Members int
	// Ensembles is the number of ensemble candidates; zero means none,
	// and then no ensemble is chosen.
	Ensembles int
	// Folds is the number of CV folds; zero means 5.
	Folds int
	// Running leaves the last Running members running and the sweep
	// running (no ensembles, no student, nothing chosen); zero means a
	// finished sweep.
	Running int
	// Seed seeds everything random.
	Seed uint64
}

// Start is when every synthetic sweep was submitted.
var Start = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)

// Spec returns a sweep spec like configs/quickstart.yaml's.
func Spec(name string, folds int) *configs.Sweep {
	sw := &configs.Sweep{
		Name: name, Seed: 7, Objective: "accuracy", Parallelism: 4,
		Data: configs.SweepData{Source: "digits", Header: "auto", Folds: folds, TestFraction: 0.2, SplitSeed: 1},
		Base: trainer.DefaultConfig(),
		Space: map[string]any{
			"layers":   map[string]any{"type": "int", "low": 1, "high": 2},
			"width":    map[string]any{"type": "int", "low": 16, "high": 128, "log": true, "per": "layers"},
			"lr":       map[string]any{"type": "float", "low": 5e-4, "high": 5e-3, "log": true},
			"sparsity": map[string]any{"type": "float", "low": 0.0, "high": 0.9},
			"bits":     []any{4, 8, 32},
			"qat":      map[string]any{"type": "bool", "when": map[string]any{"param": "bits", "op": "lt", "value": 32}},
		},
		Sampler: configs.SamplerConfig{Name: "tpe", Startup: 10},
		ASHA:    configs.ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 5, MaxEpochs: 45},
		Budget:  configs.Budget{Trials: 40},
		Ensemble: configs.EnsembleConfig{Enabled: true, Pool: 12, Distill: true,
			Student: map[string]any{"hidden": "64,32", "sparsity": 0.8, "bits": 8, "qat": true}},
	}
	sw.Base.Epochs = 30
	return sw
}

// Sweep builds a synthetic sweep named name.
func Sweep(name string, o Options) *coordinator.Sweep {
	if o.Members <= 0 {
		o.Members = 40
	}
	if o.Folds <= 0 {
		o.Folds = 5
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	spec := Spec(name, o.Folds)
	spec.Budget.Trials = o.Members
	s := &coordinator.Sweep{Spec: spec, Revision: 1,
		Status: wire.SweepStatus{State: wire.SweepDone, Submitted: Start, Started: Start, Leader: "synthetic", Generation: 1}}
	g := &gen{rng: rng, folds: o.Folds}
	clock := Start
	// Members: fresh configurations at 5 epochs; a third promoted to 15,
	// a ninth to 45.
	type pending struct {
		parent *wire.TrialRecord
		epochs int
		rung   int
	}
	var promote []pending
	for len(s.Records) < o.Members {
		var r *wire.TrialRecord
		if len(promote) > 0 && rng.IntN(2) == 0 {
			p := promote[0]
			promote = promote[1:]
			r = &wire.TrialRecord{Params: p.parent.Params, Epochs: p.epochs, Rung: p.rung, Parent: p.parent.ID}
		} else {
			r = &wire.TrialRecord{Params: g.params(), Epochs: 5}
		}
		r.Seq = len(s.Records) + 1
		r.ID = fmt.Sprintf("t%05d", r.Seq)
		r.Kind = wire.Member
		r.Seed = rng.Uint64()
		r.Attempts = 1
		r.Worker = fmt.Sprintf("worker-%d", 1+rng.IntN(4))
		clock = clock.Add(time.Duration(200+rng.IntN(400)) * time.Millisecond)
		r.QueuedAt = clock
		r.StartedAt = clock.Add(20 * time.Millisecond)
		switch {
		case len(s.Records) >= o.Members-o.Running:
			r.State = wire.Running
		case rng.IntN(100) == 0:
			r.State = wire.TrialFailed
			r.Error = "trainer: fold 2: loss diverged (NaN) at epoch 3"
			r.FinishedAt = r.StartedAt.Add(300 * time.Millisecond)
		default:
			r.State = wire.TrialDone
			r.Metrics = g.metrics(r.Params, r.Epochs)
			r.Values = []float64{r.Metrics.CVAccuracy}
			r.FinishedAt = r.StartedAt.Add(time.Duration(r.Metrics.Seconds * float64(time.Second)))
			if r.Rung < 2 && rng.IntN(2) == 0 {
				promote = append(promote, pending{r, []int{15, 45}[r.Rung], r.Rung + 1})
			}
		}
		s.Records = append(s.Records, r)
	}
	if o.Running > 0 {
		s.Status.State = wire.SweepRunning
		return s
	}
	// The ensemble stage over the pool of the best fully trained members.
	var pool []*wire.TrialRecord
	for _, r := range s.Records {
		if r.State == wire.TrialDone && r.Epochs == spec.ASHA.TopEpochs() {
			pool = append(pool, r)
		}
	}
	slices.SortFunc(pool, func(a, b *wire.TrialRecord) int { return -cmp.Compare(a.Metrics.CVAccuracy, b.Metrics.CVAccuracy) })
	pool = pool[:min(len(pool), 12)]
	methods := []string{ensemble.MethodAverage, ensemble.MethodVote, ensemble.MethodOptimized, ensemble.MethodCaruana, ensemble.MethodStacking}
	var best *wire.TrialRecord
	for i := range o.Ensembles {
		if len(pool) == 0 {
			break
		}
		k := 1 + rng.IntN(len(pool))
		members := make([]string, 0, k)
		var bytes int64
		folds := make([]float64, o.Folds)
		for _, m := range pool[:k] {
			members = append(members, m.ID)
			bytes += m.Metrics.SizeBytes
			for f := range folds {
				folds[f] += m.Metrics.Folds[f] / float64(k)
			}
		}
		gain := 0.006 * (1 - 1/float64(k))
		cv := ensemble.CV{}
		for f := range folds {
			folds[f] = g.quantize(min(0.999, folds[f]+gain+rng.NormFloat64()*0.002))
			cv.Folds = append(cv.Folds, ensemble.Scores{Accuracy: folds[f], LogLoss: 0.1, MacroF1: folds[f]})
		}
		cv.Mean.Accuracy, cv.Std.Accuracy = meanStd(folds)
		clock = clock.Add(50 * time.Millisecond)
		spec := ensemble.Spec{Method: methods[i%len(methods)], Members: members}
		if k == 1 {
			spec.Name, spec.Method = "single-"+members[0], ensemble.MethodAverage
		}
		r := &wire.TrialRecord{Seq: len(s.Records) + 1, ID: fmt.Sprintf("e%05d", i+1), Kind: wire.Ensemble, State: wire.TrialDone,
			Ensemble: &spec, Attempts: 1, Worker: "worker-1", QueuedAt: clock, StartedAt: clock, FinishedAt: clock.Add(20 * time.Millisecond),
			EnsembleMetrics: &wire.EnsembleMetrics{CV: cv, Members: members, Bytes: bytes, Seconds: 0.02}}
		if best == nil || cv.Mean.Accuracy > best.EnsembleMetrics.CV.Mean.Accuracy {
			best = r
		}
		s.Records = append(s.Records, r)
	}
	if best != nil {
		em := best.EnsembleMetrics
		test := ensemble.Scores{Accuracy: g.quantize(em.CV.Mean.Accuracy + rng.NormFloat64()*0.004), LogLoss: 0.1}
		s.Status.Best = &wire.Best{Trial: best.ID, Spec: *best.Ensemble, Members: em.Members, CV: em.CV, Test: &test,
			Bytes: em.Bytes, BundleBytes: em.Bytes + 9, Bundle: name + "/best/bundle"}
		p := search.Params{"hidden": "64,32", "sparsity": 0.8, "bits": 8.0, "qat": true}
		m := g.metrics(search.Params{"layers": 2.0, "width_1": 64.0, "width_2": 32.0, "lr": 2e-3, "sparsity": 0.8, "bits": 8.0, "qat": true}, 30)
		// Optimistic, as a real student's is: its teacher saw every fold.
		for f := range m.Folds {
			m.Folds[f] = g.quantize(min(0.999, em.CV.Folds[f].Accuracy+0.006+rng.NormFloat64()*0.003))
		}
		m.CVAccuracy, m.CVAccuracyStd = meanStd(m.Folds)
		clock = clock.Add(time.Second)
		st := &wire.TrialRecord{Seq: len(s.Records) + 1, ID: "d00001", Kind: wire.Distill, State: wire.TrialDone, Params: p,
			Teacher: name + "/" + best.ID + "/teacher", Attempts: 1, Worker: "worker-2", QueuedAt: clock, StartedAt: clock,
			FinishedAt: clock.Add(time.Second), Metrics: m}
		s.Records = append(s.Records, st)
		s.Status.Best.Student = st.ID
	}
	s.Status.Finished = clock.Add(time.Second)
	return s
}

// gen draws parameters and the metrics they would plausibly score.
type gen struct {
	rng   *rand.Rand
	folds int
}

func (g *gen) params() search.Params {
	p := search.Params{"layers": float64(1 + g.rng.IntN(2))}
	for i := 1; i <= int(p["layers"].(float64)); i++ {
		p[fmt.Sprintf("width_%d", i)] = math.Round(16 * math.Pow(8, g.rng.Float64()))
	}
	p["lr"] = 5e-4 * math.Pow(10, g.rng.Float64())
	p["sparsity"] = 0.9 * g.rng.Float64()
	p["bits"] = []float64{4, 8, 32}[g.rng.IntN(3)]
	if p["bits"].(float64) < 32 {
		p["qat"] = g.rng.IntN(2) == 0
	}
	return p
}

// quantize rounds an accuracy to a count over a fold of 288 samples.
func (g *gen) quantize(a float64) float64 { return math.Round(a*288) / 288 }

func (g *gen) metrics(p search.Params, epochs int) *wire.Metrics {
	num := func(k string) float64 { f, _ := p[k].(float64); return f }
	w1, w2 := num("width_1"), num("width_2")
	lr, sp, bits := num("lr"), num("sparsity"), num("bits")
	qat, _ := p["qat"].(bool)
	acc := 0.905 + 0.06*(1-math.Exp(-float64(epochs)/8)) + 0.012*math.Log2(max(w1, 16)/16)/3
	acc -= 0.02 * math.Pow(math.Log10(lr/2e-3), 2)
	acc -= 0.06 * math.Pow(sp, 4)
	if bits == 4 && !qat {
		acc -= 0.025
	}
	acc += g.rng.NormFloat64() * 0.004
	m := &wire.Metrics{Folds: make([]float64, g.folds), Bits: int(bits), Sparsity: sp, Epochs: epochs}
	for f := range m.Folds {
		m.Folds[f] = g.quantize(min(0.998, acc+g.rng.NormFloat64()*0.008))
	}
	m.CVAccuracy, m.CVAccuracyStd = meanStd(m.Folds)
	m.CVMacroF1, m.CVLogLoss = m.CVAccuracy-0.001, 0.05+(1-m.CVAccuracy)*3
	last := w1
	weights := 64*w1 + w1
	if w2 > 0 {
		weights += w1*w2 + w2
		last = w2
	}
	weights += last*10 + 10
	m.Params = int(weights)
	m.SizeBytes = int64(weights*(1-sp)*bits/8+weights/8) + 96
	m.CompressionRatio = weights * 4 / float64(m.SizeBytes)
	m.LatencyUS = weights * 0.0015 * (1 - sp/2) * (1 + 0.1*g.rng.Float64())
	m.Seconds = float64(epochs) * (0.05 + weights/200000) * float64(g.folds)
	return m
}

func meanStd(x []float64) (float64, float64) {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	if len(x) < 2 {
		return m, 0
	}
	return m, math.Sqrt(ss / float64(len(x)-1))
}

// Store writes the sweep's spec, status and trial records into etcd under
// the keys package wire lays out, in transactions of at most 128 puts.
func Store(ctx context.Context, cli *clientv3.Client, s *coordinator.Sweep) error {
	spec, err := json.Marshal(s.Spec)
	if err != nil {
		return fmt.Errorf("reporttest: spec: %w", err)
	}
	st, err := json.Marshal(s.Status)
	if err != nil {
		return fmt.Errorf("reporttest: status: %w", err)
	}
	name := s.Spec.Name
	ops := []clientv3.Op{clientv3.OpPut(wire.SpecKey(name), string(spec)), clientv3.OpPut(wire.StatusKey(name), string(st))}
	for _, r := range s.Records {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("reporttest: record %s: %w", r.ID, err)
		}
		ops = append(ops, clientv3.OpPut(wire.TrialKey(name, r.ID), string(b)))
	}
	for len(ops) > 0 {
		n := min(len(ops), 128)
		if _, err := cli.Txn(ctx).Then(ops[:n]...).Commit(); err != nil {
			return fmt.Errorf("reporttest: store %s: %w", name, err)
		}
		ops = ops[n:]
	}
	return nil
}
