package search

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Dominates reports whether a Pareto-dominates b under the directions: a is
// no worse in every objective and better in one. NaN counts as the worst
// value. It returns false when the lengths differ.
func Dominates(a, b []float64, dirs []Direction) bool {
	if len(a) != len(dirs) || len(b) != len(dirs) {
		return false
	}
	better := false
	for j, d := range dirs {
		x, y := d.loss(a[j]), d.loss(b[j])
		if x > y {
			return false
		}
		if x < y {
			better = true
		}
	}
	return better
}

// toLosses converts points to minimization (NaN and ±Inf to +Inf) after
// checking shapes.
func toLosses(points [][]float64, dirs []Direction) ([][]float64, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no objective directions", ErrInvalidConfig)
	}
	out := make([][]float64, len(points))
	for i, p := range points {
		if len(p) != len(dirs) {
			return nil, fmt.Errorf("%w: point %d has %d objectives, want %d", ErrInvalidConfig, i, len(p), len(dirs))
		}
		out[i] = make([]float64, len(p))
		for j, d := range dirs {
			out[i][j] = d.loss(p[j])
		}
	}
	return out, nil
}

// NonDominatedSort ranks points (one row of objective values each) into
// Pareto fronts: fronts[0] holds the indices of the non-dominated points,
// fronts[1] those dominated only by fronts[0], and so on; indices ascend
// within a front. It is Deb et al.'s fast non-dominated sort, O(M·N²).
// Rows whose length differs from dirs give an ErrInvalidConfig error.
func NonDominatedSort(points [][]float64, dirs []Direction) ([][]int, error) {
	l, err := toLosses(points, dirs)
	if err != nil {
		return nil, err
	}
	return paretoFronts(l), nil
}

// paretoFronts is NonDominatedSort on losses (minimized).
func paretoFronts(l [][]float64) [][]int {
	n := len(l)
	if n == 0 {
		return nil
	}
	dominated := make([][]int, n) // dominated[p]: points p dominates
	count := make([]int, n)       // count[p]: points dominating p
	for p := range n {
		for q := p + 1; q < n; q++ {
			switch dominance(l[p], l[q]) {
			case 1:
				dominated[p] = append(dominated[p], q)
				count[q]++
			case -1:
				dominated[q] = append(dominated[q], p)
				count[p]++
			}
		}
	}
	var fronts [][]int
	var cur []int
	for p := range n {
		if count[p] == 0 {
			cur = append(cur, p)
		}
	}
	for len(cur) > 0 {
		fronts = append(fronts, cur)
		var next []int
		for _, p := range cur {
			for _, q := range dominated[p] {
				count[q]--
				if count[q] == 0 {
					next = append(next, q)
				}
			}
		}
		slices.Sort(next)
		cur = next
	}
	return fronts
}

// dominance returns 1 if a dominates b, -1 if b dominates a, else 0
// (minimization).
func dominance(a, b []float64) int {
	aBetter, bBetter := false, false
	for j := range a {
		switch {
		case a[j] < b[j]:
			aBetter = true
		case b[j] < a[j]:
			bBetter = true
		}
		if aBetter && bBetter {
			return 0
		}
	}
	switch {
	case aBetter:
		return 1
	case bBetter:
		return -1
	}
	return 0
}

// CrowdingDistance returns NSGA-II's crowding distance of each point of a
// front (rows of objective values): the sum over objectives of the
// normalized gap between its neighbours, +Inf at the extremes. Directions
// do not matter. Rows of unequal length give an ErrInvalidConfig error.
func CrowdingDistance(front [][]float64) ([]float64, error) {
	for i, p := range front {
		if len(p) != len(front[0]) {
			return nil, fmt.Errorf("%w: point %d has %d objectives, want %d", ErrInvalidConfig, i, len(p), len(front[0]))
		}
	}
	return crowding(front), nil
}

func crowding(front [][]float64) []float64 {
	n := len(front)
	d := make([]float64, n)
	if n == 0 {
		return d
	}
	if n <= 2 {
		for i := range d {
			d[i] = math.Inf(1)
		}
		return d
	}
	order := make([]int, n)
	for j := range front[0] {
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(front[a][j], front[b][j]) })
		lo, hi := front[order[0]][j], front[order[n-1]][j]
		d[order[0]], d[order[n-1]] = math.Inf(1), math.Inf(1)
		if !(hi > lo) || math.IsInf(hi-lo, 0) {
			continue
		}
		for k := 1; k < n-1; k++ {
			d[order[k]] += (front[order[k+1]][j] - front[order[k-1]][j]) / (hi - lo)
		}
	}
	return d
}

// Hypervolume returns the volume of objective space dominated by the points
// and bounded by the reference point ref, exactly, for one, two or three
// objectives. ref should be worse than every point of interest in every
// objective (below them for Maximize, above for Minimize); points not
// strictly better than ref in every objective add nothing. Other numbers of
// objectives and mismatched lengths give an ErrInvalidConfig error.
func Hypervolume(points [][]float64, ref []float64, dirs []Direction) (float64, error) {
	if len(dirs) < 1 || len(dirs) > 3 {
		return 0, fmt.Errorf("%w: exact hypervolume needs 1 to 3 objectives, got %d", ErrInvalidConfig, len(dirs))
	}
	if len(ref) != len(dirs) {
		return 0, fmt.Errorf("%w: reference point has %d objectives, want %d", ErrInvalidConfig, len(ref), len(dirs))
	}
	l, err := toLosses(points, dirs)
	if err != nil {
		return 0, err
	}
	r := make([]float64, len(ref))
	for j, d := range dirs {
		if math.IsNaN(ref[j]) {
			return 0, fmt.Errorf("%w: reference point has NaN", ErrInvalidConfig)
		}
		r[j] = ref[j]
		if d == Maximize {
			r[j] = -ref[j]
		}
	}
	return hypervolumeMin(l, r), nil
}

// hypervolumeMin is the hypervolume of minimized points below ref, for 1–3
// objectives.
func hypervolumeMin(points [][]float64, ref []float64) float64 {
	var pts [][]float64
	for _, p := range points {
		inside := true
		for j, v := range p {
			if !(v < ref[j]) {
				inside = false
				break
			}
		}
		if inside {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return 0
	}
	switch len(ref) {
	case 1:
		best := pts[0][0]
		for _, p := range pts {
			best = min(best, p[0])
		}
		return ref[0] - best
	case 2:
		return hv2(pts, ref[0], ref[1])
	}
	// Three objectives: sweep along z, keeping the 2-D staircase of the
	// points seen so far and its area up to date (O(n log n) plus splices).
	slices.SortStableFunc(pts, func(a, b []float64) int { return cmp.Compare(a[2], b[2]) })
	var st staircase
	total := 0.0
	for k, p := range pts {
		st.insert(p[0], p[1], ref[0], ref[1])
		top := ref[2]
		if k+1 < len(pts) {
			top = pts[k+1][2]
		}
		total += st.area * (top - p[2])
	}
	return total
}

// staircase is a 2-D non-dominated set (minimization) sorted by x
// ascending, y strictly descending, with the area it dominates inside the
// reference box.
type staircase struct {
	xs, ys []float64
	area   float64
}

// insert adds the point (x, y) and updates the area.
func (s *staircase) insert(x, y, rx, ry float64) {
	i, _ := slices.BinarySearch(s.xs, x) // first index with xs[i] >= x
	level := ry                          // staircase height just right of x
	if i > 0 {
		level = s.ys[i-1]
	}
	if level <= y || i < len(s.xs) && s.xs[i] == x && s.ys[i] <= y {
		return // dominated
	}
	added, x0, j := 0.0, x, i
	for ; j < len(s.xs) && s.ys[j] >= y; j++ { // points the new one dominates
		added += (s.xs[j] - x0) * (level - y)
		x0, level = s.xs[j], s.ys[j]
	}
	end := rx
	if j < len(s.xs) {
		end = s.xs[j]
	}
	s.area += added + (end-x0)*(level-y)
	s.xs = slices.Replace(s.xs, i, j, x)
	s.ys = slices.Replace(s.ys, i, j, y)
}

// hv2 is the 2-D hypervolume of points (first two coordinates, all inside
// the reference box).
func hv2(pts [][]float64, rx, ry float64) float64 {
	s := make([][2]float64, len(pts))
	for i, p := range pts {
		s[i] = [2]float64{p[0], p[1]}
	}
	slices.SortFunc(s, func(a, b [2]float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	area, y := 0.0, ry
	for _, p := range s {
		if p[1] < y {
			area += (rx - p[0]) * (y - p[1])
			y = p[1]
		}
	}
	return area
}
