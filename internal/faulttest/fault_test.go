package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/wire"
)

// proc is a consort process the test may kill.
type proc struct {
	name string
	args []string
	cmd  *exec.Cmd
	log  *os.File
}

type env struct {
	t          *testing.T
	bin        string
	dir        string
	nats, etcd string
	mu         sync.Mutex
	procs      map[string]*proc
}

func (e *env) start(name string, args ...string) {
	e.t.Helper()
	f, err := os.OpenFile(filepath.Join(e.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	full := append(args, "--nats", e.nats, "--etcd", e.etcd)
	cmd := exec.Command(e.bin, full...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go cmd.Wait()
	e.mu.Lock()
	e.procs[name] = &proc{name: name, args: args, cmd: cmd, log: f}
	e.mu.Unlock()
}

// kill sends SIGKILL: no drain, no resignation, no goodbye.
func (e *env) kill(name string) {
	e.mu.Lock()
	p := e.procs[name]
	delete(e.procs, name)
	e.mu.Unlock()
	if p != nil {
		p.cmd.Process.Kill()
		p.log.Close()
	}
}

func (e *env) restart(name string) {
	e.mu.Lock()
	p := e.procs[name]
	e.mu.Unlock()
	e.kill(name)
	e.start(name, p.args...)
}

func (e *env) stopAll() {
	e.mu.Lock()
	names := make([]string, 0, len(e.procs))
	for n := range e.procs {
		names = append(names, n)
	}
	e.mu.Unlock()
	for _, n := range names {
		e.kill(n)
	}
}

// leader returns the id of the elected coordinator.
func leader(ctx context.Context, cli *clientv3.Client) string {
	resp, err := cli.Get(ctx, wire.ElectionPrefix(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func sweepFile(t *testing.T, dir, name string) string {
	t.Helper()
	y := fmt.Sprintf(`name: %s
seed: 11
data: {source: digits, folds: 3, test_fraction: 0.2}
base: {epochs: 4, fine_tune: 2, batch: 32, schedule: agp}
space:
  hidden: ["16", "24", "32", "16,16"]
  lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  sparsity: {type: float, low: 0, high: 0.8}
  bits: [8, 32]
sampler: {name: random}
budget: {trials: 60}
parallelism: 6
ensemble: {enabled: true, pool: 8, methods: [average, caruana, optimized], distill: true, student: {hidden: "16", bits: 8}}
`, name)
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) submit(name string) {
	e.t.Helper()
	out, err := exec.Command(e.bin, "submit", sweepFile(e.t, e.dir, name), "--etcd", e.etcd, "--nats", e.nats).CombinedOutput()
	if err != nil {
		e.t.Fatalf("submit: %v: %s", err, out)
	}
}

func waitSweep(t *testing.T, cli *clientv3.Client, name string, d time.Duration, tick func()) *coordinator.Sweep {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		s, err := coordinator.Read(context.Background(), cli, name)
		if err == nil && s.Status.State.Final() {
			return s
		}
		if tick != nil {
			tick()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("sweep %s did not finish in %s", name, d)
	return nil
}

// outcome is what must be identical between the runs: each trial's
// configuration and scores, the chosen ensemble and its test score.
func outcome(s *coordinator.Sweep) (map[string]string, string) {
	rows := map[string]string{}
	for _, r := range s.Records {
		var score any
		switch {
		case r.Metrics != nil:
			score = []any{r.Metrics.CVAccuracy, r.Metrics.Folds, r.Metrics.SizeBytes, r.Metrics.Sparsity}
		case r.EnsembleMetrics != nil:
			score = []any{r.EnsembleMetrics.CV.Mean, r.EnsembleMetrics.Members, r.EnsembleMetrics.Bytes}
		}
		b, _ := json.Marshal([]any{r.Kind, r.State, r.Params, r.Epochs, r.Seed, r.Ensemble, score})
		rows[r.ID] = string(b)
	}
	var best []byte
	if b := s.Status.Best; b != nil {
		c := *b
		c.Bundle = "" // named after the sweep
		best, _ = json.Marshal(c)
	}
	return rows, string(best)
}

func TestFaultsAgainstExternalServers(t *testing.T) {
	natsURL, etcdURL := os.Getenv("CONSORT_E2E_NATS"), os.Getenv("CONSORT_E2E_ETCD")
	if natsURL == "" || etcdURL == "" {
		t.Skip("set CONSORT_E2E_NATS and CONSORT_E2E_ETCD to external servers (.ci/run does)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "consort")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/consort").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	cli, err := bus.DialEtcd(context.Background(), &bus.Config{Etcd: []string{etcdURL}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	e := &env{t: t, bin: bin, dir: dir, nats: natsURL, etcd: etcdURL, procs: map[string]*proc{}}
	defer func() {
		e.stopAll()
		if t.Failed() {
			for _, n := range []string{"c1", "c2", "w1", "w2", "w3"} {
				b, _ := os.ReadFile(filepath.Join(dir, n+".log"))
				t.Logf("--- %s.log (tail) ---\n%s", n, tail(b, 3000))
			}
		}
	}()
	tag := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	coordArgs := func(id string) []string {
		return []string{"coordinator", "--id", id, "--session-ttl", "2s", "--ack-wait", "3s", "--max-attempts", "20"}
	}
	workerArgs := func(id string) []string { return []string{"worker", "--id", id, "--concurrency", "1", "--drain", "1s"} }
	e.start("c1", coordArgs("c1-"+tag)...)
	time.Sleep(time.Second)
	e.start("c2", coordArgs("c2-"+tag)...)
	for _, w := range []string{"w1", "w2", "w3"} {
		e.start(w, workerArgs(w+"-"+tag)...)
	}

	// The fault-free reference run.
	ref := "ref-" + tag
	e.submit(ref)
	refSweep := waitSweep(t, cli, ref, 5*time.Minute, nil)

	// The same sweep under fire: a random worker SIGKILLed (and restarted)
	// every 1–2.5 s, the leading coordinator SIGKILLed once.
	name := "fault-" + tag
	e.submit(name)
	rng := rand.New(rand.NewPCG(1, 2))
	next := time.Now().Add(time.Second)
	killedLeader := false
	kills := 0
	// The killed leader comes back 3 s later; the sweep may finish first,
	// and the restart must still happen while the test runs (its log file
	// lives in the test's directory).
	var restart sync.WaitGroup
	defer restart.Wait()
	s := waitSweep(t, cli, name, 8*time.Minute, func() {
		if time.Now().Before(next) {
			return
		}
		next = time.Now().Add(time.Duration(1000+rng.IntN(1500)) * time.Millisecond)
		w := fmt.Sprintf("w%d", 1+rng.IntN(3))
		e.restart(w)
		kills++
		if !killedLeader {
			cur, _ := coordinator.Read(context.Background(), cli, name)
			done := 0
			if cur != nil {
				for _, r := range cur.Records {
					if r.State == wire.TrialDone {
						done++
					}
				}
			}
			if done >= 20 {
				id := leader(context.Background(), cli)
				for _, c := range []string{"c1", "c2"} {
					if id == c+"-"+tag {
						t.Logf("SIGKILL the leader %s with %d trials done", id, done)
						e.kill(c)
						restart.Add(1)
						time.AfterFunc(3*time.Second, func() {
							defer restart.Done()
							e.start(c, coordArgs(c+"-"+tag)...)
						})
						killedLeader = true
					}
				}
			}
		}
	})
	t.Logf("%d worker kills; sweep %s %s under leader %s (generation %d)", kills, name, s.Status.State, s.Status.Leader, s.Status.Generation)
	if !killedLeader {
		t.Fatal("the leader was never killed")
	}
	if s.Status.State != wire.SweepDone || refSweep.Status.State != wire.SweepDone {
		t.Fatalf("states: fault run %s (%s), reference %s (%s)", s.Status.State, s.Status.Error, refSweep.Status.State, refSweep.Status.Error)
	}
	members := 0
	for _, r := range s.Records {
		if r.Kind == wire.Member {
			members++
		}
		if r.State != wire.TrialDone {
			t.Errorf("trial %s ended %s: %s", r.ID, r.State, r.Error)
		}
	}
	if members != 60 {
		t.Fatalf("%d member trials recorded, want 60", members)
	}
	got, gotBest := outcome(s)
	want, wantBest := outcome(refSweep)
	if len(got) != len(want) {
		t.Fatalf("%d trials under faults, %d without", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("trial %s differs:\n faults: %s\n clean:  %s", id, got[id], w)
		}
	}
	if gotBest != wantBest {
		t.Errorf("chosen ensemble differs:\n faults: %s\n clean:  %s", gotBest, wantBest)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
