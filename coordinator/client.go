package coordinator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/internal/wire"
)

// ErrExists is returned by Submit for a sweep name already in use.
var ErrExists = errors.New("coordinator: a sweep of that name exists")

// ErrNoSweep is returned for a sweep that is not in etcd.
var ErrNoSweep = errors.New("coordinator: no such sweep")

// Submit stores a validated sweep for the leading coordinator to run.
func Submit(ctx context.Context, cli *clientv3.Client, sw *configs.Sweep) error {
	if err := sw.Validate(); err != nil {
		return err
	}
	spec, err := json.Marshal(sw)
	if err != nil {
		return err
	}
	st, _ := json.Marshal(wire.SweepStatus{State: wire.SweepPending, Submitted: time.Now().UTC()})
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(wire.SpecKey(sw.Name)), "=", 0)).
		Then(clientv3.OpPut(wire.StatusKey(sw.Name), string(st)), clientv3.OpPut(wire.SpecKey(sw.Name), string(spec))).
		Commit()
	if err != nil {
		return fmt.Errorf("coordinator: submit %s: %w", sw.Name, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: %s", ErrExists, sw.Name)
	}
	return nil
}

// Cancel asks the leading coordinator to stop a sweep.
func Cancel(ctx context.Context, cli *clientv3.Client, name string) error {
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(wire.SpecKey(name)), ">", 0)).
		Then(clientv3.OpPut(wire.CancelKey(name), time.Now().UTC().Format(time.RFC3339))).
		Commit()
	if err != nil {
		return fmt.Errorf("coordinator: cancel %s: %w", name, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: %s", ErrNoSweep, name)
	}
	return nil
}

// Sweep is a sweep's full state as read from etcd.
type Sweep struct {
	Spec    *configs.Sweep
	Status  wire.SweepStatus
	Records []*wire.TrialRecord
	// Revision is the etcd revision the state was read at.
	Revision int64
}

// TopEpochs returns the epochs of ASHA's top rung for the sweep, or 0 when
// ASHA is off or the spec is missing: members trained for fewer are
// screens.
func (s *Sweep) TopEpochs() int {
	if s.Spec == nil {
		return 0
	}
	return s.Spec.ASHA.TopEpochs()
}

// Read loads a sweep's spec, status and trial records in one consistent
// snapshot.
func Read(ctx context.Context, cli *clientv3.Client, name string) (*Sweep, error) {
	resp, err := cli.Txn(ctx).Then(
		clientv3.OpGet(wire.SpecKey(name)),
		clientv3.OpGet(wire.StatusKey(name)),
		clientv3.OpGet(wire.TrialsPrefix(name), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("coordinator: read %s: %w", name, err)
	}
	spec := resp.Responses[0].GetResponseRange().Kvs
	if len(spec) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSweep, name)
	}
	s := &Sweep{Spec: &configs.Sweep{}, Revision: resp.Header.Revision}
	if err := json.Unmarshal(spec[0].Value, s.Spec); err != nil {
		return nil, fmt.Errorf("coordinator: %s spec: %w", name, err)
	}
	if st := resp.Responses[1].GetResponseRange().Kvs; len(st) > 0 {
		if err := json.Unmarshal(st[0].Value, &s.Status); err != nil {
			return nil, fmt.Errorf("coordinator: %s status: %w", name, err)
		}
	}
	for _, kv := range resp.Responses[2].GetResponseRange().Kvs {
		rec, err := wire.DecodeRecord(kv.Value)
		if err != nil {
			return nil, err
		}
		s.Records = append(s.Records, rec)
	}
	slices.SortFunc(s.Records, func(a, b *wire.TrialRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	return s, nil
}

// Summary is one line of a sweep listing.
type Summary struct {
	Name   string
	Status wire.SweepStatus
}

// List returns every sweep's status, by name. It reads the keys under
// the sweeps prefix (not the trial records' values), then the statuses.
func List(ctx context.Context, cli *clientv3.Client) ([]Summary, error) {
	keys, err := cli.Get(ctx, wire.SweepsPrefix(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("coordinator: list sweeps: %w", err)
	}
	var ops []clientv3.Op
	var names []string
	for _, kv := range keys.Kvs {
		if name, ok := sweepOf(string(kv.Key), "/status"); ok {
			names = append(names, name)
			ops = append(ops, clientv3.OpGet(string(kv.Key)))
		}
	}
	var out []Summary
	for len(ops) > 0 {
		n := min(len(ops), MaxOps)
		resp, err := cli.Txn(ctx).Then(ops[:n]...).Commit()
		if err != nil {
			return nil, fmt.Errorf("coordinator: list sweeps: %w", err)
		}
		for i, r := range resp.Responses {
			kvs := r.GetResponseRange().Kvs
			var st wire.SweepStatus
			if len(kvs) > 0 && json.Unmarshal(kvs[0].Value, &st) == nil {
				out = append(out, Summary{Name: names[i], Status: st})
			}
		}
		ops, names = ops[n:], names[n:]
	}
	return out, nil
}

// Workers returns the live workers' registrations.
func Workers(ctx context.Context, cli *clientv3.Client) ([]wire.WorkerInfo, error) {
	resp, err := cli.Get(ctx, wire.WorkersPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("coordinator: list workers: %w", err)
	}
	var out []wire.WorkerInfo
	for _, kv := range resp.Kvs {
		var w wire.WorkerInfo
		if json.Unmarshal(kv.Value, &w) == nil {
			out = append(out, w)
		}
	}
	return out, nil
}

// Wait blocks until the sweep reaches a final state and returns that
// status. progress, when not nil, is called with each status change.
func Wait(ctx context.Context, cli *clientv3.Client, name string, progress func(wire.SweepStatus)) (*wire.SweepStatus, error) {
	for {
		resp, err := cli.Get(ctx, wire.StatusKey(name))
		if err != nil {
			return nil, fmt.Errorf("coordinator: wait %s: %w", name, err)
		}
		if len(resp.Kvs) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNoSweep, name)
		}
		var st wire.SweepStatus
		if err := json.Unmarshal(resp.Kvs[0].Value, &st); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(st)
		}
		if st.State.Final() {
			return &st, nil
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		w := cli.Watch(wctx, wire.StatusKey(name), clientv3.WithRev(resp.Header.Revision+1))
		select {
		case <-w:
		case <-wctx.Done():
		}
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}
