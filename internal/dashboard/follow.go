package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
)

// Follower reads one sweep from etcd again and again, cheaply: the first
// Read is a coordinator.Read; later ones fetch, at one revision, only the
// status and the trial records modified since the previous read, and
// merge them in. Trial records are never deleted, so nothing else can
// have changed. At 10,000 trials a poll moves a few records instead of
// all of them. A Follower is not safe for concurrent use.
type Follower struct {
	cli   *clientv3.Client
	name  string
	sweep *coordinator.Sweep
	rev   int64
}

// NewFollower returns a Follower of the sweep called name.
func NewFollower(cli *clientv3.Client, name string) *Follower {
	return &Follower{cli: cli, name: name}
}

// Read returns the sweep as it is now, and whether it changed since the
// previous Read (true on the first). A returned Sweep is never modified
// afterwards: a change yields a new one. It returns an error wrapping
// coordinator.ErrNoSweep when there is no such sweep.
func (f *Follower) Read(ctx context.Context) (*coordinator.Sweep, bool, error) {
	if f.sweep == nil {
		s, err := coordinator.Read(ctx, f.cli, f.name)
		if err != nil {
			return nil, false, err
		}
		f.sweep, f.rev = s, s.Revision
		return s, true, nil
	}
	resp, err := f.cli.Txn(ctx).Then(
		clientv3.OpGet(wire.StatusKey(f.name)),
		clientv3.OpGet(wire.TrialsPrefix(f.name), clientv3.WithPrefix(), clientv3.WithMinModRev(f.rev+1)),
	).Commit()
	if err != nil {
		return nil, false, fmt.Errorf("dashboard: read %s: %w", f.name, err)
	}
	st := resp.Responses[0].GetResponseRange().Kvs
	changed := resp.Responses[1].GetResponseRange().Kvs
	if len(st) == 0 {
		return nil, false, fmt.Errorf("%w: %s", coordinator.ErrNoSweep, f.name)
	}
	if st[0].ModRevision <= f.rev && len(changed) == 0 {
		f.rev = resp.Header.Revision
		return f.sweep, false, nil
	}
	old := f.sweep
	s := &coordinator.Sweep{Spec: old.Spec, Revision: resp.Header.Revision, Records: slices.Clone(old.Records)}
	if err := json.Unmarshal(st[0].Value, &s.Status); err != nil {
		return nil, false, fmt.Errorf("dashboard: %s status: %w", f.name, err)
	}
	at := make(map[string]int, len(s.Records))
	for i, r := range s.Records {
		at[r.ID] = i
	}
	for _, kv := range changed {
		rec, err := wire.DecodeRecord(kv.Value)
		if err != nil {
			return nil, false, err
		}
		if i, ok := at[rec.ID]; ok {
			s.Records[i] = rec
		} else {
			at[rec.ID] = len(s.Records)
			s.Records = append(s.Records, rec)
		}
	}
	slices.SortStableFunc(s.Records, func(a, b *wire.TrialRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	f.sweep, f.rev = s, s.Revision
	return s, true, nil
}
