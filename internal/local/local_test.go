package local

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/packed"
)

// smallSweep is a quick sweep on digits: 6 members, ensembles, a student.
func smallSweep(t *testing.T, name string) *configs.Sweep { return smallSweepB(t, name) }

func smallSweepB(t testing.TB, name string) *configs.Sweep {
	t.Helper()
	sw := &configs.Sweep{
		Name: name, Seed: 3, Objective: "accuracy", Parallelism: 3,
		Data:    configs.SweepData{Source: "digits", Header: "auto", Folds: 3, TestFraction: 0.2, SplitSeed: 1},
		Base:    trainer.DefaultConfig(),
		Space:   map[string]any{"lr": map[string]any{"type": "float", "low": 1e-3, "high": 1e-2, "log": true}, "sparsity": []any{0.0, 0.5}, "bits": []any{8, 32}},
		Sampler: configs.SamplerConfig{Name: "random"},
		Budget:  configs.Budget{Trials: 6},
		Ensemble: configs.EnsembleConfig{Enabled: true, Pool: 4, Methods: []string{"average", "caruana"},
			Distill: true, Student: map[string]any{"hidden": "16", "bits": 8}},
	}
	sw.Base.Epochs, sw.Base.FineTune, sw.Base.Hidden = 8, 2, []int{32}
	if err := sw.Validate(); err != nil {
		t.Fatal(err)
	}
	return sw
}

func startCluster(t *testing.T, workers int) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts NATS and etcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log *slog.Logger
	if os.Getenv("CONSORT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := Start(ctx, Options{Dir: t.TempDir(), Workers: workers, Concurrency: 1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// finish waits for a sweep to end, fails the test unless it is done, and
// returns its status and state.
func finish(ctx context.Context, t *testing.T, c *Cluster, name string) (*wire.SweepStatus, *coordinator.Sweep) {
	t.Helper()
	st, err := coordinator.Wait(ctx, c.Client, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != wire.SweepDone {
		t.Fatalf("sweep ended %s: %s", st.State, st.Error)
	}
	s, err := coordinator.Read(ctx, c.Client, name)
	if err != nil {
		t.Fatal(err)
	}
	return st, s
}

func TestSweepEndToEnd(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sw := smallSweep(t, "e2e")
	if err := coordinator.Submit(ctx, c.Client, sw); err != nil {
		t.Fatal(err)
	}
	if err := coordinator.Submit(ctx, c.Client, sw); err == nil {
		t.Fatal("submitting the same sweep twice succeeded")
	}
	st, s := finish(ctx, t, c, sw.Name)
	kinds := map[wire.Kind]int{}
	for _, r := range s.Records {
		kinds[r.Kind]++
		if r.State != wire.TrialDone {
			t.Errorf("trial %s ended %s: %s", r.ID, r.State, r.Error)
		}
		if r.Kind == wire.Member {
			if r.Metrics == nil || r.Metrics.CVAccuracy < 0.8 || r.Metrics.SizeBytes <= 0 || len(r.Values) != 1 {
				t.Errorf("member %s: metrics %+v values %v", r.ID, r.Metrics, r.Values)
			}
		}
	}
	if kinds[wire.Member] != 6 || kinds[wire.Ensemble] == 0 || kinds[wire.Distill] != 1 {
		t.Fatalf("trials by kind %v: want 6 members, ensembles, 1 student", kinds)
	}
	b := st.Best
	if b == nil || b.Test == nil || b.CV.Mean.Accuracy < 0.85 || b.Student == "" {
		t.Fatalf("best %+v", b)
	}
	js, _ := jetstream.New(c.Conn)
	store, err := js.ObjectStore(ctx, wire.ArtifactsBucket)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.GetBytes(ctx, b.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) != b.BundleBytes {
		t.Fatalf("bundle has %d bytes, status says %d", len(raw), b.BundleBytes)
	}
	bundle, err := packed.UnmarshalBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(bundle.Members) != len(b.Members) {
		t.Fatalf("bundle has %d members, the ensemble %d", len(bundle.Members), len(b.Members))
	}
	rows := coordinator.Leaderboard(s, "cv")
	chosen := 0
	for _, r := range rows {
		if r.Chosen {
			chosen++
			if r.TestAccuracy == nil {
				t.Error("the chosen ensemble has no test accuracy")
			}
		} else if r.TestAccuracy != nil {
			t.Errorf("%s shows a test accuracy: the test split is for the chosen ensemble only", r.Trial)
		}
	}
	if chosen != 1 || rows[0].Rank != 1 {
		t.Fatalf("leaderboard: %d chosen rows, first %+v", chosen, rows[0])
	}
}

// runASHASweep runs a 15-trial sweep with ASHA over rungs of 2 and 6
// epochs in the given number of brackets, without a student, to the end.
func runASHASweep(ctx context.Context, t *testing.T, c *Cluster, name string, brackets int) (*configs.Sweep, *wire.SweepStatus, *coordinator.Sweep) {
	t.Helper()
	sw := smallSweep(t, name)
	sw.ASHA = configs.ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 2, MaxEpochs: 6, Brackets: brackets}
	sw.Budget.Trials = 15
	sw.Ensemble.Distill = false
	if err := sw.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := coordinator.Submit(ctx, c.Client, sw); err != nil {
		t.Fatal(err)
	}
	st, s := finish(ctx, t, c, sw.Name)
	return sw, st, s
}

// TestASHAScreensAndResumedPromotions runs an ASHA sweep end to end:
// screens store no artifacts and are not timed, every promotion continues
// its parent's training from the workers' shared checkpoint cache, and
// only fully trained members reach the ensemble and the top of the
// leaderboard.
func TestASHAScreensAndResumedPromotions(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sw, st, s := runASHASweep(ctx, t, c, "asha", 1)
	js, _ := jetstream.New(c.Conn)
	store, err := js.ObjectStore(ctx, wire.ArtifactsBucket)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*wire.TrialRecord{}
	for _, r := range s.Records {
		byID[r.ID] = r
	}
	screens, promotions := 0, 0
	for _, r := range s.Records {
		if r.Kind != wire.Member || r.State != wire.TrialDone {
			continue
		}
		_, err := store.GetInfo(ctx, wire.ArtifactName(sw.Name, r.ID, "model"))
		if r.Epochs < 6 {
			screens++
			if r.Metrics.LatencyUS != 0 || r.Metrics.SizeBytes <= 0 || err == nil {
				t.Errorf("screen %s: latency %v, size %d, model stored %v", r.ID, r.Metrics.LatencyUS, r.Metrics.SizeBytes, err == nil)
			}
		} else if r.Metrics.LatencyUS <= 0 || err != nil {
			t.Errorf("top-rung member %s: latency %v, model: %v", r.ID, r.Metrics.LatencyUS, err)
		}
		if r.Parent != "" {
			promotions++
			if p := byID[r.Parent]; p == nil || r.Metrics.ResumedEpochs != p.Epochs {
				t.Errorf("promotion %s of %s resumed %d epochs", r.ID, r.Parent, r.Metrics.ResumedEpochs)
			}
		}
	}
	if screens == 0 || promotions == 0 {
		t.Fatalf("%d screens, %d promotions", screens, promotions)
	}
	for _, id := range st.Best.Members {
		if m := byID[id]; m == nil || m.Epochs != 6 {
			t.Errorf("ensemble member %s is not fully trained", id)
		}
	}
	rows := coordinator.Leaderboard(s, "cv")
	for i, r := range rows {
		if r.Stopped && i+1 < len(rows) && !rows[i+1].Stopped {
			t.Errorf("screen %s ranks above %s", r.Trial, rows[i+1].Trial)
		}
	}
}

// TestHyperbandBrackets runs asynchronous Hyperband end to end: with two
// brackets over rungs of 2 and 6 epochs, fresh configurations start at
// both rungs in Hyperband's proportions (3 to 2), each trial trains for its
// rung's epochs, and only promotions have a parent.
func TestHyperbandBrackets(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, s := runASHASweep(ctx, t, c, "hyperband", 2)
	started := [2]int{}
	for _, r := range s.Records {
		if r.Kind != wire.Member {
			continue
		}
		if want := []int{2, 6}[r.Rung]; r.Epochs != want || (r.State == wire.TrialDone && r.Metrics.Epochs != want) {
			t.Errorf("%s at rung %d trained %d epochs (record %d), want %d", r.ID, r.Rung, r.Metrics.Epochs, r.Epochs, want)
		}
		if r.Parent == "" {
			started[r.Rung]++
		} else if r.Rung != 1 {
			t.Errorf("promotion %s at rung %d", r.ID, r.Rung)
		}
	}
	// Jefferson's apportionment of the fresh configurations to shares 3:2.
	if n := started[0] + started[1]; started[1] < 2*n/5 || started[1] > 2*n/5+1 || started[1] == 0 {
		t.Errorf("fresh configurations per bracket %v, want about 3:2", started)
	}
}

var _ = search.Random{}

// TestInitialPointsRunFirst checks that a sweep's sampler.initial points
// are its first trials, in order, through the cluster (the sweep travels
// as JSON, so the points' numbers arrive as float64), the second point
// completed from the space, and that the sampler proposes the rest.
func TestInitialPointsRunFirst(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sw := smallSweep(t, "initial")
	sw.Ensemble.Enabled, sw.Budget.Trials, sw.Parallelism = false, 4, 2
	sw.Sampler = configs.SamplerConfig{Name: "tpe", Initial: []map[string]any{{"lr": 0.005, "sparsity": 0.5, "bits": 8}, {"lr": 0.002}}}
	if err := sw.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := coordinator.Submit(ctx, c.Client, sw); err != nil {
		t.Fatal(err)
	}
	_, s := finish(ctx, t, c, sw.Name)
	var members []*wire.TrialRecord
	for _, r := range s.Records {
		if r.Kind == wire.Member {
			members = append(members, r)
		}
	}
	if len(members) != 4 {
		t.Fatalf("%d members, want 4", len(members))
	}
	// Read back from etcd, every number is a float64.
	first, second := members[0].Params, members[1].Params
	if first["lr"] != 0.005 || first["sparsity"] != 0.5 || first["bits"] != 8.0 {
		t.Errorf("first trial %v, want the first point", first)
	}
	if second["lr"] != 0.002 || second["sparsity"] == nil || second["bits"] == nil {
		t.Errorf("second trial %v, want lr 0.002 and the rest drawn", second)
	}
	for _, m := range members[2:] {
		if m.Params["lr"] == 0.005 || m.Params["lr"] == 0.002 {
			t.Errorf("trial %s repeats a point: %v", m.ID, m.Params)
		}
	}
}
