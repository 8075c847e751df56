package coordinator

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/goleak"

	"github.com/consort-ml/consort/internal/bus"
	"github.com/consort-ml/consort/internal/embedded"
	"github.com/consort-ml/consort/internal/wire"
)

func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd")
	}
	e, err := embedded.StartEtcd(filepath.Join(t.TempDir(), "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := bus.DialEtcd(context.Background(), &bus.Config{Etcd: []string{e.Endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func campaign(t *testing.T, cli *clientv3.Client, id string) (fence, *concurrency.Session) {
	t.Helper()
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
	if err != nil {
		t.Fatal(err)
	}
	e := concurrency.NewElection(s, wire.ElectionPrefix())
	if err := e.Campaign(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	return fence{key: e.Key(), rev: e.Rev()}, s
}

// A deposed coordinator cannot write, and a record changed behind a
// writer's back is a conflict, not an overwrite.
func TestFencedWrites(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	cli := startEtcd(t)
	ctx := context.Background()
	fa, sa := campaign(t, cli, "a")
	a := &writer{cli: cli, fence: fa}
	key := wire.TrialKey("s", "t00001")
	var rev int64
	if err := a.commit(ctx, []write{{key: key, value: "queued", done: func(r int64) { rev = r }}}); err != nil {
		t.Fatal(err)
	}
	sa.Close() // a loses the lease: deposed
	fb, sb := campaign(t, cli, "b")
	defer sb.Close()
	b := &writer{cli: cli, fence: fb}
	if err := a.commit(ctx, []write{{key: key, value: "done by a", prev: rev}}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed write: %v, want ErrNotLeader", err)
	}
	if err := b.commit(ctx, []write{{key: key, value: "done by b", prev: rev}}); err != nil {
		t.Fatal(err)
	}
	if err := b.commit(ctx, []write{{key: key, value: "done again", prev: rev}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale revision: %v, want ErrConflict", err)
	}
	resp, _ := cli.Get(ctx, key)
	if v := string(resp.Kvs[0].Value); v != "done by b" {
		t.Fatalf("record holds %q", v)
	}
	// Batches larger than one transaction commit in several.
	ws := make([]write, 2*MaxOps+5)
	for i := range ws {
		ws[i] = write{key: wire.TrialKey("s", string(rune('a'+i%26))+string(rune('a'+i/26))), value: "x"}
	}
	if err := b.commit(ctx, ws); err != nil {
		t.Fatal(err)
	}
}
