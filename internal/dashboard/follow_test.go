package dashboard_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/dashboard"
	"github.com/consort-ml/consort/internal/embedded/embeddedtest"
	"github.com/consort-ml/consort/internal/report/reporttest"
)

// TestFollower checks that each incremental read equals a full
// coordinator.Read of the same sweep.
func TestFollower(t *testing.T) {
	_, cli := embeddedtest.Etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := dashboard.NewFollower(cli, "f")
	if _, _, err := f.Read(ctx); !errors.Is(err, coordinator.ErrNoSweep) {
		t.Fatalf("a missing sweep: %v, want ErrNoSweep", err)
	}
	f = dashboard.NewFollower(cli, "f")
	var prev *coordinator.Sweep
	for i, o := range []*reporttest.Options{
		{Members: 30, Running: 5, Seed: 8},   // first, full read
		nil,                                  // nothing written
		{Members: 45, Running: 3, Seed: 8},   // running ones done, new ones
		{Members: 45, Ensembles: 6, Seed: 8}, // finished: status, ensembles, student
	} {
		if o != nil {
			store(t, cli, reporttest.Sweep("f", *o))
		}
		got, changed, err := f.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := coordinator.Read(ctx, cli, "f")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Records, want.Records) || !reflect.DeepEqual(got.Status, want.Status) {
			t.Fatalf("step %d: the followed sweep differs from a full read (%d records, want %d)", i, len(got.Records), len(want.Records))
		}
		wantChanged := i != 1
		if changed != wantChanged || (!changed && got != prev) {
			t.Fatalf("step %d: changed %v, want %v", i, changed, wantChanged)
		}
		if changed && prev != nil && got == prev {
			t.Fatalf("step %d: a change modified the previous snapshot in place", i)
		}
		prev = got
	}
}
