package reporttest

import (
	"cmp"
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/embedded/embeddedtest"
	"github.com/consort-ml/consort/internal/wire"
)

func TestSweepShape(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"finished", Options{Members: 300, Ensembles: 20, Seed: 1}},
		{"running", Options{Members: 50, Running: 4, Folds: 3, Seed: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Sweep("x", tc.o)
			if err := s.Spec.Validate(); err != nil {
				t.Fatalf("spec: %v", err)
			}
			kinds := map[wire.Kind]map[wire.TrialState]int{}
			ids := map[string]bool{}
			folds := cmp.Or(tc.o.Folds, 5)
			for _, r := range s.Records {
				if ids[r.ID] {
					t.Fatalf("duplicate id %s", r.ID)
				}
				ids[r.ID] = true
				if kinds[r.Kind] == nil {
					kinds[r.Kind] = map[wire.TrialState]int{}
				}
				kinds[r.Kind][r.State]++
				if r.State == wire.TrialDone && r.Kind != wire.Ensemble && len(r.Metrics.Folds) != folds {
					t.Fatalf("%s has %d folds", r.ID, len(r.Metrics.Folds))
				}
			}
			members := 0
			for _, n := range kinds[wire.Member] {
				members += n
			}
			if members != tc.o.Members {
				t.Errorf("%d members, want %d", members, tc.o.Members)
			}
			if got := kinds[wire.Member][wire.Running]; got != tc.o.Running {
				t.Errorf("%d running, want %d", got, tc.o.Running)
			}
			if got := kinds[wire.Ensemble][wire.TrialDone]; got != tc.o.Ensembles {
				t.Errorf("%d ensembles, want %d", got, tc.o.Ensembles)
			}
			if (s.Status.Best != nil) != (tc.o.Ensembles > 0) || (tc.o.Running > 0) != (s.Status.State == wire.SweepRunning) {
				t.Errorf("state %s best %v", s.Status.State, s.Status.Best)
			}
			rows := coordinator.Leaderboard(s, "cv")
			if len(rows) == 0 {
				t.Fatal("no leaderboard rows")
			}
		})
	}
}

func TestStoreRead(t *testing.T) {
	_, cli := embeddedtest.Etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := Sweep("stored", Options{Members: 500, Ensembles: 30, Seed: 3})
	if err := Store(ctx, cli, want); err != nil {
		t.Fatal(err)
	}
	got, err := coordinator.Read(ctx, cli, "stored")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(want.Records) || got.Status.Best.Trial != want.Status.Best.Trial {
		t.Fatalf("read %d records, best %s; stored %d, best %s", len(got.Records), got.Status.Best.Trial, len(want.Records), want.Status.Best.Trial)
	}
	a, b := coordinator.Leaderboard(got, "cv"), coordinator.Leaderboard(want, "cv")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the leaderboard of the stored sweep differs from the generated one's")
	}
}

func BenchmarkLeaderboard(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		s := Sweep("big", Options{Members: n, Ensembles: 200, Seed: 1})
		b.Run("trials="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				coordinator.Leaderboard(s, "cv")
			}
		})
	}
}
