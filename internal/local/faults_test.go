package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/wire"
	"github.com/consort-ml/consort/search"
	"github.com/consort-ml/consort/worker"
)

// memberSweep is a sweep of n quick member trials, no ensemble stage.
func memberSweep(t *testing.T, name string, n, parallel int) *configs.Sweep {
	t.Helper()
	sw := smallSweep(t, name)
	sw.Budget.Trials, sw.Parallelism = n, parallel
	sw.Ensemble.Enabled, sw.Ensemble.Distill = false, false
	sw.Base.Epochs, sw.Base.FineTune = 3, 1
	return sw
}

// waitDone waits for the sweep to end and returns it.
func waitDone(t *testing.T, c *Cluster, name string, d time.Duration) *coordinator.Sweep {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, err := coordinator.Wait(ctx, c.Client, name, nil); err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	s, err := coordinator.Read(ctx, c.Client, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkExactlyOnce checks every member trial ended once, done, n of them.
func checkExactlyOnce(t *testing.T, s *coordinator.Sweep, n int) {
	t.Helper()
	if s.Status.State != wire.SweepDone {
		t.Fatalf("sweep %s: %s (%s)", s.Spec.Name, s.Status.State, s.Status.Error)
	}
	ids := map[string]bool{}
	members := 0
	for _, r := range s.Records {
		if ids[r.ID] {
			t.Fatalf("trial %s recorded twice", r.ID)
		}
		ids[r.ID] = true
		if r.Kind == wire.Member {
			members++
			if r.State != wire.TrialDone || r.Metrics == nil {
				t.Errorf("member %s ended %s: %s", r.ID, r.State, r.Error)
			}
		}
	}
	if members != n {
		t.Fatalf("%d member trials, want %d", members, n)
	}
}

func submit(t *testing.T, c *Cluster, sw *configs.Sweep) {
	t.Helper()
	if err := coordinator.Submit(context.Background(), c.Client, sw); err != nil {
		t.Fatal(err)
	}
}

// waitMembers waits until at least n member trials are done.
func waitMembers(t *testing.T, c *Cluster, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s, err := coordinator.Read(context.Background(), c.Client, name)
		if err == nil {
			done := 0
			for _, r := range s.Records {
				if r.Kind == wire.Member && r.State == wire.TrialDone {
					done++
				}
			}
			if done >= n {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d members done after a minute", n)
}

func TestResumeAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS and etcd twice")
	}
	dir := t.TempDir()
	ctx := context.Background()
	slow := &delayed{d: 30 * time.Millisecond}
	c, err := Start(ctx, Options{Dir: dir, Workers: 2, Executor: slow})
	if err != nil {
		t.Fatal(err)
	}
	sw := memberSweep(t, "resume", 16, 3)
	submit(t, c, sw)
	waitMembers(t, c, sw.Name, 4)
	c.Close() // everything stops mid-sweep
	c, err = Start(ctx, Options{Dir: dir, Workers: 2, Executor: slow})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := waitDone(t, c, sw.Name, 2*time.Minute)
	checkExactlyOnce(t, s, 16)
	if s.Status.Generation < 2 {
		t.Fatalf("generation %d: the sweep was not resumed by a second coordinator term", s.Status.Generation)
	}
	// The resumed sampler proposed from the stored history: proposal i
	// is the same as an uninterrupted run's.
	space, _ := sw.Parsed()
	var h []search.Trial
	for i, r := range s.Records {
		p, err := search.Random{}.Sample(space, h, search.NewRand(sw.Seed, i))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(p)
		b, _ := json.Marshal(r.Params)
		if string(a) != string(b) {
			t.Fatalf("trial %d: params %s, an uninterrupted run proposes %s", i, b, a)
		}
		h = append(h, search.Trial{ID: r.ID, Params: r.Params, State: search.Complete, Values: r.Values})
	}
}

func TestStandbyCoordinatorTakesOver(t *testing.T) {
	c := startCluster(t, 2)
	ctx := context.Background()
	// A second coordinator stands by.
	conf := &bus.Config{NATS: []string{c.NATS.URL}, Etcd: []string{c.Etcd.Endpoint}}
	nc, err := bus.DialNATS(ctx, conf)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ec, err := bus.DialEtcd(ctx, conf)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	standby, err := coordinator.New(coordinator.Config{ID: "standby", SessionTTL: 2}, nc, ec)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { standby.Run(sctx); close(done) }()
	defer func() { stop(); <-done }()
	time.Sleep(100 * time.Millisecond)
	if standby.Stats().Leading.Load() != 0 {
		t.Fatal("the standby leads while the first coordinator is alive")
	}
	sw := memberSweep(t, "takeover", 12, 3)
	submit(t, c, sw)
	waitMembers(t, c, sw.Name, 3)
	c.stopCoordinator() // the leader goes away mid-sweep
	s := waitDone(t, c, sw.Name, 2*time.Minute)
	checkExactlyOnce(t, s, 12)
	if s.Status.Leader != "standby" {
		t.Fatalf("sweep finished under %q, want the standby", s.Status.Leader)
	}
}

func TestDuplicateAndMalformedMessages(t *testing.T) {
	c := startCluster(t, 2)
	ctx := context.Background()
	sw := memberSweep(t, "dups", 8, 2)
	submit(t, c, sw)
	waitMembers(t, c, sw.Name, 2)
	js, _ := jetstream.New(c.Conn)
	// Junk on both subjects, and a trial message of another sweep on
	// this sweep's subject.
	for _, b := range []string{"", "{", `{"v":99}`, strings.Repeat("x", 5000), `{"v":1,"sweep":"dups","id":"t00001","kind":"rm -rf"}`} {
		js.Publish(ctx, wire.TrialSubject(sw.Name), []byte(b))
		js.Publish(ctx, wire.ResultSubject(sw.Name), []byte(b))
	}
	// Replay every recorded done result: each must count once.
	s, _ := coordinator.Read(ctx, c.Client, sw.Name)
	replayed := 0
	for _, r := range s.Records {
		if r.State != wire.TrialDone {
			continue
		}
		res := &wire.Result{V: wire.Version, Sweep: sw.Name, ID: r.ID, Kind: r.Kind, Status: wire.Done, Worker: "replayer",
			Attempt: 9, Metrics: &wire.Metrics{CVAccuracy: 0.01, SizeBytes: 1}, Time: time.Now()}
		b, _ := json.Marshal(res)
		if _, err := js.Publish(ctx, wire.ResultSubject(sw.Name), b); err != nil {
			t.Fatal(err)
		}
		replayed++
	}
	s = waitDone(t, c, sw.Name, time.Minute)
	checkExactlyOnce(t, s, 8)
	for _, r := range s.Records {
		if r.Metrics.CVAccuracy == 0.01 {
			t.Fatalf("trial %s took the replayed result", r.ID)
		}
	}
	st := c.Coordinator.Stats()
	if st.Duplicates.Load() < int64(replayed) || st.Rejected.Load() < 4 {
		t.Fatalf("duplicates %d (replayed %d), rejected %d", st.Duplicates.Load(), replayed, st.Rejected.Load())
	}
	var rejected int64
	for _, w := range c.Workers {
		rejected += w.Stats().Snapshot().Rejected
	}
	if rejected < 4 {
		t.Fatalf("workers rejected %d junk trials, want ≥ 4", rejected)
	}
}

func TestTrialOutsideTheSpaceIsRefused(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	sw := memberSweep(t, "space", 2, 1)
	submit(t, c, sw)
	s := waitDone(t, c, sw.Name, time.Minute)
	resp, _ := c.Client.Get(ctx, wire.SpecKey(sw.Name))
	rev := resp.Kvs[0].ModRevision
	js, _ := jetstream.New(c.Conn)
	before := c.Workers[0].Stats().Snapshot()
	for i, p := range []search.Params{{"lr": 5.0, "sparsity": 0.0, "bits": 8.0}, {"lr": 0.002, "sparsity": 0.0, "bits": 8.0, "cmd": "sh"}} {
		tr := &wire.Trial{V: wire.Version, Sweep: sw.Name, ID: fmt.Sprintf("x%d", i), Kind: wire.Member, SpecRevision: rev, Params: p, Seed: 1}
		b, _ := json.Marshal(tr)
		js.Publish(ctx, wire.TrialSubject(sw.Name), b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && c.Workers[0].Stats().Snapshot().Rejected < before.Rejected+2 {
		time.Sleep(20 * time.Millisecond)
	}
	after := c.Workers[0].Stats().Snapshot()
	if after.Rejected != before.Rejected+2 || after.Done != before.Done {
		t.Fatalf("worker stats %+v → %+v: want both foreign trials rejected, none run", before, after)
	}
	_ = s
}

// flaky fails one trial with a transient error every time, so it uses up
// its attempts; the others run normally.
type flaky struct {
	worker.Trainer
	calls atomic.Int64
}

func (f *flaky) Execute(ctx context.Context, j *worker.Job) (*worker.Outcome, error) {
	if j.Trial.ID == "t00002" {
		f.calls.Add(1)
		return nil, errors.New("simulated: object store unavailable")
	}
	return f.Trainer.Execute(ctx, j)
}

func TestAttemptsCapFailsTheTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS and etcd")
	}
	fl := &flaky{}
	c, err := Start(context.Background(), Options{Dir: t.TempDir(), Workers: 2, Executor: fl,
		Topology: bus.Topology{MaxAttempts: 3, AckWait: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sw := memberSweep(t, "flaky", 5, 2)
	submit(t, c, sw)
	s := waitDone(t, c, sw.Name, time.Minute)
	for _, r := range s.Records {
		want := wire.TrialDone
		if r.ID == "t00002" {
			want = wire.TrialFailed
			if !strings.Contains(r.Error, "after 3 attempts") {
				t.Errorf("t00002 error %q", r.Error)
			}
		}
		if r.State != want {
			t.Errorf("%s ended %s, want %s", r.ID, r.State, want)
		}
	}
	if n := fl.calls.Load(); n != 3 {
		t.Fatalf("the failing trial ran %d times, want 3", n)
	}
	// The cap is also recorded in etcd, where workers on NATS servers
	// that drop consumer metadata read it.
	resp, err := c.Client.Get(context.Background(), wire.DeliveryKey())
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("delivery settings not in etcd: %v", err)
	}
	var d wire.Delivery
	if err := json.Unmarshal(resp.Kvs[0].Value, &d); err != nil || d.MaxAttempts != 3 || d.AckWait != 5*time.Second {
		t.Fatalf("delivery settings %s: %v", resp.Kvs[0].Value, err)
	}
}

func TestCancelStopsTheSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS and etcd")
	}
	c, err := Start(context.Background(), Options{Dir: t.TempDir(), Workers: 1, Executor: &delayed{d: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sw := memberSweep(t, "cancel", 1000, 2)
	submit(t, c, sw)
	waitMembers(t, c, sw.Name, 1)
	if err := coordinator.Cancel(context.Background(), c.Client, sw.Name); err != nil {
		t.Fatal(err)
	}
	if err := coordinator.Cancel(context.Background(), c.Client, "nope"); !errors.Is(err, coordinator.ErrNoSweep) {
		t.Fatalf("cancelling an unknown sweep: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := coordinator.Wait(ctx, c.Client, sw.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != wire.SweepCancelled {
		t.Fatalf("state %s", st.State)
	}
	s, _ := coordinator.Read(ctx, c.Client, sw.Name)
	for _, r := range s.Records {
		if !r.State.Final() {
			t.Fatalf("%s still %s after cancel", r.ID, r.State)
		}
	}
}

func TestUnreachableServersFailFast(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	conf := &bus.Config{NATS: []string{"nats://" + addr}, Etcd: []string{"http://" + addr}, Timeout: time.Second}
	for name, dial := range map[string]func() error{
		"nats": func() error { _, err := bus.DialNATS(context.Background(), conf); return err },
		"etcd": func() error { _, err := bus.DialEtcd(context.Background(), conf); return err },
	} {
		start := time.Now()
		err := dial()
		if !errors.Is(err, bus.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: error %v, want ErrUnreachable naming %s", name, err, addr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s to give up with a 1s timeout", name, d)
		}
	}
}

// delayed runs the real trainer after a fixed delay, so that tests can
// interrupt sweeps mid-flight.
type delayed struct {
	worker.Trainer
	d time.Duration
}

func (x *delayed) Execute(ctx context.Context, j *worker.Job) (*worker.Outcome, error) {
	select {
	case <-time.After(x.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return x.Trainer.Execute(ctx, j)
}

func TestWallBudgetEndsTheMemberStage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS and etcd")
	}
	c, err := Start(context.Background(), Options{Dir: t.TempDir(), Workers: 2, Executor: &delayed{d: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sw := memberSweep(t, "wall", 0, 2)
	sw.Budget = configs.Budget{Wall: 2 * time.Second}
	if err := sw.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	submit(t, c, sw)
	s := waitDone(t, c, sw.Name, time.Minute)
	took := time.Since(start)
	members := 0
	for _, r := range s.Records {
		if r.Kind == wire.Member {
			members++
			if r.State != wire.TrialDone {
				t.Errorf("%s ended %s", r.ID, r.State)
			}
		}
	}
	if members < 4 || took > 15*time.Second {
		t.Fatalf("%d members in %s: the wall budget of 2s did not end the member stage", members, took)
	}
}
