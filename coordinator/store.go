package coordinator

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNotLeader is returned when a write finds that this coordinator no
// longer leads: it must stop writing.
var ErrNotLeader = errors.New("coordinator: not the leader")

// ErrConflict is returned when a fenced write finds a key changed by
// someone else since it was read.
var ErrConflict = errors.New("coordinator: record changed concurrently")

// MaxOps bounds the operations of one etcd transaction (etcd's default
// --max-txn-ops is 128).
const MaxOps = 100

// fence proves leadership: the election key and its create revision.
type fence struct {
	key string
	rev int64
}

func (f fence) cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.rev)
}

// write is one fenced put: key gets value if its ModRevision is still
// prev (0: the key must not exist).
type write struct {
	key   string
	value string
	prev  int64
	// done receives the new ModRevision after commit.
	done func(rev int64)
}

// writer commits fenced writes in batches.
type writer struct {
	cli   *clientv3.Client
	fence fence
}

// commit writes all ws, at most MaxOps per transaction, each transaction
// fenced by leadership and by every key's expected revision.
func (w *writer) commit(ctx context.Context, ws []write) error {
	for len(ws) > 0 {
		n := min(len(ws), MaxOps)
		batch := ws[:n]
		ws = ws[n:]
		cmps := make([]clientv3.Cmp, 0, n+1)
		ops := make([]clientv3.Op, 0, n)
		cmps = append(cmps, w.fence.cmp())
		for _, x := range batch {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(x.key), "=", x.prev))
			ops = append(ops, clientv3.OpPut(x.key, x.value))
		}
		resp, err := w.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return fmt.Errorf("coordinator: etcd: %w", err)
		}
		if !resp.Succeeded {
			return w.diagnose(ctx)
		}
		for _, x := range batch {
			if x.done != nil {
				x.done(resp.Header.Revision)
			}
		}
	}
	return nil
}

// diagnose tells a lost leadership from a concurrent change.
func (w *writer) diagnose(ctx context.Context) error {
	resp, err := w.cli.Get(ctx, w.fence.key)
	if err != nil {
		return fmt.Errorf("coordinator: etcd: %w", err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != w.fence.rev {
		return ErrNotLeader
	}
	return ErrConflict
}
