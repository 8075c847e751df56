package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestFitStandardizerUsesOnlyGivenRows(t *testing.T) {
	// Rows 0..3 are training rows; rows 4 and 5 hold wild values that must
	// not leak into the fit.
	d := &Dataset{
		Name: "t", N: 6, D: 3, Classes: []string{"a"}, Y: make([]int32, 6),
		X: []float32{
			1, 10, 7,
			2, 20, 7,
			3, 30, 7,
			4, 40, 7,
			1e6, -1e6, 1e6,
			-5e5, 3e5, -2,
		},
	}
	idx := []int{3, 0, 2, 1}
	s := FitStandardizer(d, idx)
	sd := float32(math.Sqrt(1.25))
	wantMean := []float32{2.5, 25, 7}
	wantScale := []float32{sd, 10 * sd, 1}
	for j := range 3 {
		if !close32(s.Mean[j], wantMean[j]) || !close32(s.Scale[j], wantScale[j]) {
			t.Errorf("feature %d: mean %v scale %v, want %v %v", j, s.Mean[j], s.Scale[j], wantMean[j], wantScale[j])
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}

	// The training rows come out with mean 0 and standard deviation 1
	// (the constant feature with 0).
	train := d.Subset(idx)
	s.Apply(train.X, train.X)
	for j := range 3 {
		var sum, sq float64
		for i := range train.N {
			v := float64(train.Row(i)[j])
			sum += v
			sq += v * v
		}
		mean, std := sum/4, math.Sqrt(sq/4)
		wantStd := 1.0
		if j == 2 {
			wantStd = 0
		}
		if math.Abs(mean) > 1e-6 || math.Abs(std-wantStd) > 1e-6 {
			t.Errorf("feature %d after Apply: mean %v std %v", j, mean, std)
		}
	}

	all := FitStandardizer(d, nil)
	if close32(all.Mean[0], s.Mean[0]) {
		t.Error("a nil index list did not fit every row")
	}
}

// TestFitStandardizerExact pins FitStandardizer, whose passes run
// through vec's column kernels, to its plain two-pass loop bit for bit:
// 784 features (every kernel width and a tail), constant columns, columns
// of zeros of both signs, a column that is constant but for one row (the
// range floor), and a subset of rows.
func TestFitStandardizerExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	const n, dim = 301, 787
	d := &Dataset{Name: "t", N: n, D: dim, Classes: []string{"a"}, Y: make([]int32, n), X: make([]float32, n*dim)}
	for i := range n {
		row := d.Row(i)
		for j := range row {
			switch j % 7 {
			case 0:
				row[j] = 3 // constant
			case 1:
				row[j] = float32(math.Copysign(0, float64(rng.IntN(2)-1))) // ±0
			case 2:
				if i == 17 {
					row[j] = 5 // constant but for one row
				}
			default:
				row[j] = float32(rng.NormFloat64()*float64(j) + float64(j%5))
			}
		}
	}
	// plain is FitStandardizer as two plain loops.
	plain := func(idx []int) *Standardizer {
		sum, sq := make([]float64, dim), make([]float64, dim)
		lo, hi := slices.Clone(d.Row(idx[0])), slices.Clone(d.Row(idx[0]))
		for _, i := range idx {
			for j, v := range d.Row(i) {
				sum[j] += float64(v)
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
			}
		}
		for j := range sum {
			sum[j] /= float64(len(idx))
		}
		for _, i := range idx {
			for j, v := range d.Row(i) {
				dv := float64(v) - sum[j]
				sq[j] += float64(dv * dv)
			}
		}
		s := &Standardizer{Mean: make([]float32, dim), Scale: make([]float32, dim)}
		for j := range dim {
			s.Mean[j] = float32(sum[j])
			sd := float32(math.Sqrt(sq[j] / float64(len(idx))))
			if lo[j] == hi[j] || !(sd > 0) || math.IsInf(float64(sd), 0) {
				sd = 1
			} else if fl := float32(RangeFloor * (float64(hi[j]) - float64(lo[j]))); sd < fl {
				sd = fl
			}
			s.Scale[j] = sd
		}
		return s
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	some := rng.Perm(n)[:120]
	for _, idx := range [][]int{all, some} {
		got, want := FitStandardizer(d, idx), plain(idx)
		for j := range dim {
			if math.Float32bits(got.Mean[j]) != math.Float32bits(want.Mean[j]) || math.Float32bits(got.Scale[j]) != math.Float32bits(want.Scale[j]) {
				t.Fatalf("%d rows, feature %d: mean %v scale %v, want %v %v", len(idx), j, got.Mean[j], got.Scale[j], want.Mean[j], want.Scale[j])
			}
		}
	}
	if got, want := FitStandardizer(d, nil), FitStandardizer(d, all); !slices.Equal(got.Mean, want.Mean) || !slices.Equal(got.Scale, want.Scale) {
		t.Error("a nil index list fits differently from every row in order")
	}
}

func close32(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 1e-6*math.Max(1, math.Abs(float64(b)))
}

func TestStandardizerApply(t *testing.T) {
	s := &Standardizer{Mean: []float32{1, -2}, Scale: []float32{2, 0.5}}
	src := []float32{3, -2, 1, 0, -1, -3}
	want := []float32{1, 0, 0, 4, -1, -2}
	dst := make([]float32, len(src))
	s.Apply(dst, src)
	if !slices.Equal(dst, want) {
		t.Errorf("Apply = %v, want %v", dst, want)
	}
	s.Apply(src, src)
	if !slices.Equal(src, want) {
		t.Errorf("in place Apply = %v, want %v", src, want)
	}
	s.Apply(nil, nil) // no rows is fine

	for _, tc := range []struct {
		name     string
		dst, src []float32
	}{
		{"partial row", make([]float32, 3), make([]float32, 3)},
		{"short dst", make([]float32, 2), make([]float32, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Standardizer.Apply") {
					t.Errorf("recovered %v, want a Standardizer.Apply panic", r)
				}
			}()
			s.Apply(tc.dst, tc.src)
		})
	}
}

func TestStandardizerApplyAllocatesNothing(t *testing.T) {
	d := randomDataset(256, 64, 1)
	s := FitStandardizer(d, nil)
	dst := make([]float32, len(d.X))
	if n := testing.AllocsPerRun(20, func() { s.Apply(dst, d.X) }); n != 0 {
		t.Errorf("Apply allocates %v times per call", n)
	}
}

func TestStandardizerValidate(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		s    Standardizer
		want string
	}{
		{"lengths", Standardizer{Mean: []float32{0}, Scale: []float32{1, 1}}, "1 means and 2 scales"},
		{"zero scale", Standardizer{Mean: []float32{0, 0}, Scale: []float32{1, 0}}, "feature 1"},
		{"NaN mean", Standardizer{Mean: []float32{nan}, Scale: []float32{1}}, "feature 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func randomDataset(n, d int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 2))
	ds := &Dataset{Name: "random", N: n, D: d, X: make([]float32, n*d), Y: make([]int32, n), Classes: []string{"0", "1"}}
	for i := range ds.X {
		ds.X[i] = float32(r.NormFloat64()*3 + 1)
	}
	for i := range ds.Y {
		ds.Y[i] = int32(r.IntN(2))
	}
	return ds
}

func BenchmarkStandardizerApply(b *testing.B) {
	for _, size := range []struct{ n, d int }{{128, 64}, {128, 784}, {4096, 784}} {
		b.Run(fmt.Sprintf("%dx%d", size.n, size.d), func(b *testing.B) {
			ds := randomDataset(size.n, size.d, 1)
			s := FitStandardizer(ds, nil)
			dst := make([]float32, len(ds.X))
			b.ReportAllocs()
			b.SetBytes(int64(4 * len(ds.X)))
			for b.Loop() {
				s.Apply(dst, ds.X)
			}
		})
	}
}

func TestStandardizedSubset(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	const n, dim = 40, 19
	d := &Dataset{Name: "t", N: n, D: dim, Classes: []string{"a", "b"}, Y: make([]int32, n), X: make([]float32, n*dim)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64() * 9)
	}
	for i := range d.Y {
		d.Y[i] = int32(i % 2)
	}
	idx := []int{5, 3, 39, 0, 3}
	std := FitStandardizer(d, idx[:3])
	want := d.Subset(idx)
	std.Apply(want.X, want.X)
	got := d.StandardizedSubset(idx, std)
	if got.N != want.N || got.D != want.D || !slices.Equal(got.Y, want.Y) || got.Name != d.Name {
		t.Fatalf("shape or labels: got %d×%d %v, want %d×%d %v", got.N, got.D, got.Y, want.N, want.D, want.Y)
	}
	for i := range want.X {
		if math.Float32bits(got.X[i]) != math.Float32bits(want.X[i]) {
			t.Fatalf("X[%d] = %v, want %v", i, got.X[i], want.X[i])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a standardizer of the wrong width did not panic")
		}
	}()
	d.StandardizedSubset(idx, &Standardizer{Mean: make([]float32, 3), Scale: make([]float32, 3)})
}
