package worker

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/embedded"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/data"
)

// TestScreensAndResumedPromotions runs the real trainer on ASHA trials: a
// screen (below the top rung) is scored by CV alone — no refit, no test,
// no latency timing, no artifacts — and keeps its training state; its
// promotion continues from that state and scores exactly what training
// from scratch scores, then stores the refit model and predictions.
func TestScreensAndResumedPromotions(t *testing.T) {
	ns, err := embedded.StartNATS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obj, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: wire.ArtifactsBucket})
	if err != nil {
		t.Fatal(err)
	}
	store := func(context.Context) (jetstream.ObjectStore, error) { return obj, nil }
	noStore := func(context.Context) (jetstream.ObjectStore, error) {
		t.Error("a screen opened the artifact store")
		return nil, errors.New("no store for screens")
	}

	sw := quickstart(t).sweep
	sw.Data.Folds = 3
	sw.Base.Schedule = "oneshot" // gradual pruning's schedule depends on the total epochs: no resuming
	sw.ASHA = configs.ASHAConfig{Enabled: true, Eta: 3, MinEpochs: 2, MaxEpochs: 6}
	space, err := sw.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	p := search.Params{"layers": 1.0, "width_1": 24.0, "lr": 0.003, "sparsity": 0.5, "bits": 8.0, "qat": false}
	job := func(id, parent string, epochs int, st func(context.Context) (jetstream.ObjectStore, error)) *Job {
		return &Job{Trial: &wire.Trial{Sweep: "s", ID: id, Parent: parent, Kind: wire.Member, Params: p, Epochs: epochs, Seed: 11},
			Sweep: sw, Space: space, Attempt: 1, Store: st}
	}

	x := &Trainer{}
	screen, err := x.Execute(ctx, job("t00001", "", 2, noStore))
	if err != nil {
		t.Fatal(err)
	}
	m := screen.Metrics
	if m.Epochs != 2 || m.SizeBytes <= 0 || m.LatencyUS != 0 || m.ResumedEpochs != 0 || len(m.Folds) != 3 {
		t.Fatalf("screen metrics %+v", m)
	}
	if n, b := x.ck.size(); n != 1 || b <= 0 {
		t.Fatalf("the screen kept %d checkpoints (%d bytes), want 1", n, b)
	}
	mid, err := x.Execute(ctx, job("t00002", "t00001", 6, store))
	if err != nil {
		t.Fatal(err)
	}
	if mid.Metrics.ResumedEpochs != 2 || mid.Metrics.LatencyUS <= 0 {
		t.Fatalf("promotion metrics %+v: want 2 epochs resumed and a measured latency", mid.Metrics)
	}
	if n, _ := x.ck.size(); n != 0 {
		t.Errorf("%d checkpoints left after the promotion", n)
	}
	for _, name := range []string{"model", "predictions"} {
		if _, err := obj.GetInfo(ctx, wire.ArtifactName("s", "t00002", name)); err != nil {
			t.Errorf("the promotion's %s: %v", name, err)
		}
		if _, err := obj.GetInfo(ctx, wire.ArtifactName("s", "t00001", name)); err == nil {
			t.Errorf("the screen stored its %s", name)
		}
	}

	scratch, err := (&Trainer{CheckpointBytes: -1}).Execute(ctx, job("t00003", "t00001", 6, store))
	if err != nil {
		t.Fatal(err)
	}
	a, b := mid.Metrics, scratch.Metrics
	if b.ResumedEpochs != 0 {
		t.Fatalf("a trainer without checkpoints resumed %d epochs", b.ResumedEpochs)
	}
	if a.CVAccuracy != b.CVAccuracy || a.CVLogLoss != b.CVLogLoss || a.SizeBytes != b.SizeBytes {
		t.Errorf("resumed (acc %v, log loss %v, %d B) differs from scratch (acc %v, log loss %v, %d B)",
			a.CVAccuracy, a.CVLogLoss, a.SizeBytes, b.CVAccuracy, b.CVLogLoss, b.SizeBytes)
	}
}

// TestCheckpointCacheIsBounded fills the cache past its byte limit: the
// least recently used checkpoint goes first, a read counts as a use, and a
// checkpoint larger than the whole limit is not kept.
func TestCheckpointCacheIsBounded(t *testing.T) {
	ds, err := data.Builtin("iris")
	if err != nil {
		t.Fatal(err)
	}
	cfg := trainer.DefaultConfig()
	cfg.Hidden, cfg.Epochs = []int{4}, 1
	rep, err := trainer.CrossValidate(context.Background(), cfg, ds, nil, trainer.CVOptions{Folds: 2, SplitSeed: 1, Checkpoint: true})
	if err != nil {
		t.Fatal(err)
	}
	ck := rep.Checkpoint
	var c checkpoints
	c.limit = 2 * ck.Bytes()
	c.put("a", ck)
	c.put("b", ck)
	if c.get("a") != ck { // a is now the most recent
		t.Fatal("a is missing")
	}
	c.put("c", ck)
	if n, b := c.size(); n != 2 || b != 2*ck.Bytes() {
		t.Fatalf("%d checkpoints, %d bytes; want 2, %d", n, b, 2*ck.Bytes())
	}
	if c.get("b") != nil || c.get("a") == nil || c.get("c") == nil {
		t.Fatal("evicted the wrong checkpoint: want b (least recently used) gone")
	}
	c.put("a", ck) // replacing does not double count
	if _, b := c.size(); b != 2*ck.Bytes() {
		t.Fatalf("%d bytes after replacing a", b)
	}
	c.remove("a")
	c.remove("a")
	if n, _ := c.size(); n != 1 {
		t.Fatalf("%d left after removing a", n)
	}
	small := checkpoints{limit: ck.Bytes() - 1}
	small.put("x", ck)
	if n, _ := small.size(); n != 0 {
		t.Fatal("kept a checkpoint larger than the limit")
	}
}
