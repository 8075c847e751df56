package search

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

var (
	minMin = []Direction{Minimize, Minimize}
	maxMin = []Direction{Maximize, Minimize}
)

func TestDominates(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		dirs []Direction
		want bool
	}{
		{"better in both", []float64{1, 1}, []float64{2, 2}, minMin, true},
		{"better in one", []float64{1, 2}, []float64{2, 2}, minMin, true},
		{"equal", []float64{2, 2}, []float64{2, 2}, minMin, false},
		{"trade-off", []float64{1, 3}, []float64{2, 2}, minMin, false},
		{"worse", []float64{3, 3}, []float64{2, 2}, minMin, false},
		{"maximize first", []float64{0.9, 10}, []float64{0.8, 10}, maxMin, true},
		{"maximize first, worse", []float64{0.7, 10}, []float64{0.8, 10}, maxMin, false},
		{"NaN is worst", []float64{1, 1}, []float64{math.NaN(), 1}, minMin, true},
		{"NaN never dominates", []float64{math.NaN(), 0}, []float64{1, 1}, minMin, false},
		{"length mismatch", []float64{1}, []float64{2, 2}, minMin, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Dominates(tc.a, tc.b, tc.dirs); got != tc.want {
				t.Errorf("Dominates(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// peel computes fronts by brute force: repeatedly take the points no
// remaining point dominates.
func peel(pts [][]float64, dirs []Direction) [][]int {
	left := make(map[int]bool)
	for i := range pts {
		left[i] = true
	}
	var fronts [][]int
	for len(left) > 0 {
		var f []int
		for i := range pts {
			if !left[i] {
				continue
			}
			dominated := false
			for j := range pts {
				if left[j] && Dominates(pts[j], pts[i], dirs) {
					dominated = true
					break
				}
			}
			if !dominated {
				f = append(f, i)
			}
		}
		for _, i := range f {
			delete(left, i)
		}
		fronts = append(fronts, f)
	}
	return fronts
}

func TestNonDominatedSort(t *testing.T) {
	pts := [][]float64{{0.9, 30}, {0.8, 10}, {0.95, 50}, {0.7, 10}, {0.85, 40}, {0.9, 30}}
	got, err := NonDominatedSort(pts, maxMin)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1, 2, 5}, {3, 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fronts = %v, want %v", got, want)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 50 {
		m := 2 + trial%3
		dirs := make([]Direction, m)
		for j := range dirs {
			dirs[j] = Direction(rng.IntN(2))
		}
		pts := make([][]float64, 1+rng.IntN(60))
		for i := range pts {
			pts[i] = make([]float64, m)
			for j := range pts[i] {
				pts[i][j] = float64(rng.IntN(6)) // ties and duplicates
			}
			if rng.IntN(20) == 0 {
				pts[i][0] = math.NaN()
			}
		}
		got, err := NonDominatedSort(pts, dirs)
		if err != nil {
			t.Fatal(err)
		}
		if want := peel(pts, dirs); !reflect.DeepEqual(got, want) {
			t.Fatalf("points %v dirs %v:\n got %v\nwant %v", pts, dirs, got, want)
		}
	}
	if _, err := NonDominatedSort([][]float64{{1, 2}, {1}}, minMin); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ragged points: %v", err)
	}
	if f, err := NonDominatedSort(nil, minMin); err != nil || f != nil {
		t.Errorf("no points: %v, %v", f, err)
	}
}

func TestCrowdingDistance(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name  string
		front [][]float64
		want  []float64
	}{
		{"four", [][]float64{{0, 4}, {1, 2}, {2, 1}, {4, 0}}, []float64{inf, 1.25, 1.25, inf}},
		{"two", [][]float64{{0, 1}, {1, 0}}, []float64{inf, inf}},
		{"flat objective", [][]float64{{0, 1}, {1, 1}, {2, 1}}, []float64{inf, 1, inf}},
		{"empty", nil, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CrowdingDistance(tc.front)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := CrowdingDistance([][]float64{{1, 2}, {1}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ragged: %v", err)
	}
}

// hvInclusionExclusion is the exact hypervolume by inclusion–exclusion over
// subsets (minimization, points inside the box).
func hvInclusionExclusion(pts [][]float64, ref []float64) float64 {
	var in [][]float64
	for _, p := range pts {
		ok := true
		for j := range p {
			ok = ok && p[j] < ref[j]
		}
		if ok {
			in = append(in, p)
		}
	}
	total := 0.0
	for mask := 1; mask < 1<<len(in); mask++ {
		corner := make([]float64, len(ref))
		for j := range corner {
			corner[j] = math.Inf(-1)
		}
		bitsSet := 0
		for i := range in {
			if mask>>i&1 == 1 {
				bitsSet++
				for j := range corner {
					corner[j] = max(corner[j], in[i][j])
				}
			}
		}
		vol := 1.0
		for j := range corner {
			vol *= ref[j] - corner[j]
		}
		if bitsSet%2 == 1 {
			total += vol
		} else {
			total -= vol
		}
	}
	return total
}

func TestHypervolume(t *testing.T) {
	tests := []struct {
		name string
		pts  [][]float64
		ref  []float64
		dirs []Direction
		want float64
	}{
		{"staircase", [][]float64{{1, 3}, {2, 2}, {3, 1}}, []float64{4, 4}, minMin, 6},
		{"dominated point adds nothing", [][]float64{{1, 3}, {2, 2}, {3, 1}, {3, 3}}, []float64{4, 4}, minMin, 6},
		{"outside the box", [][]float64{{5, 1}, {1, 4}}, []float64{4, 4}, minMin, 0},
		{"accuracy and size", [][]float64{{0.9, 100}, {0.8, 50}}, []float64{0.5, 200}, maxMin, 0.4*100 + 0.3*50},
		{"one objective", [][]float64{{3}, {1}}, []float64{4}, []Direction{Minimize}, 3},
		{"one point 3d", [][]float64{{0, 0, 0}}, []float64{1, 2, 3}, []Direction{Minimize, Minimize, Minimize}, 6},
		{"two boxes 3d", [][]float64{{0, 0, 1}, {1, 1, 0}}, []float64{2, 2, 2}, []Direction{Minimize, Minimize, Minimize}, 5},
		{"none", nil, []float64{1, 1}, minMin, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Hypervolume(tc.pts, tc.ref, tc.dirs)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("got %g, want %g", got, tc.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := range 400 {
		m := 2 + trial%2
		dirs := make([]Direction, m)
		ref := make([]float64, m)
		minRef := make([]float64, m)
		for j := range dirs {
			dirs[j] = Direction(rng.IntN(2))
			ref[j] = 1
			minRef[j] = 1
			if dirs[j] == Maximize {
				ref[j] = -1
			}
		}
		pts := make([][]float64, 1+rng.IntN(9))
		losses := make([][]float64, len(pts))
		for i := range pts {
			pts[i] = make([]float64, m)
			losses[i] = make([]float64, m)
			for j := range pts[i] {
				losses[i][j] = rng.Float64()*1.2 - 0.1
				if trial%4 >= 2 { // ties on a coarse grid
					losses[i][j] = float64(rng.IntN(5)) / 4
				}
				pts[i][j] = losses[i][j]
				if dirs[j] == Maximize {
					pts[i][j] = -losses[i][j]
				}
			}
		}
		got, err := Hypervolume(pts, ref, dirs)
		if err != nil {
			t.Fatal(err)
		}
		if want := hvInclusionExclusion(losses, minRef); math.Abs(got-want) > 1e-9 {
			t.Fatalf("points %v dirs %v: got %g, want %g", pts, dirs, got, want)
		}
	}
	errTests := []struct {
		name string
		pts  [][]float64
		ref  []float64
		dirs []Direction
	}{
		{"four objectives", nil, []float64{1, 1, 1, 1}, []Direction{0, 0, 0, 0}},
		{"no objectives", nil, nil, nil},
		{"ref length", [][]float64{{1, 1}}, []float64{1}, minMin},
		{"point length", [][]float64{{1, 1, 1}}, []float64{1, 1}, minMin},
		{"NaN ref", nil, []float64{math.NaN(), 1}, minMin},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Hypervolume(tc.pts, tc.ref, tc.dirs); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestLeadingFronts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := range 30 {
		pts := make([][]float64, 1+rng.IntN(80))
		for i := range pts {
			pts[i] = []float64{float64(rng.IntN(7)), float64(rng.IntN(7)), rng.Float64()}[:2+trial%2]
		}
		all := paretoFronts(pts)
		need := rng.IntN(len(pts) + 1)
		got := leadingFronts(pts, need)
		n := 0
		for k, f := range got {
			if !reflect.DeepEqual(f, all[k]) {
				t.Fatalf("front %d: got %v, want %v", k, f, all[k])
			}
			n += len(f)
		}
		if n < need || len(got) > 0 && n-len(got[len(got)-1]) >= need {
			t.Fatalf("need %d: fronts %v hold %d", need, got, n)
		}
	}
}
