package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refColumns is the scalar loop ColumnStats and ColumnSquares replace,
// over whole rows of len(sum) features: the sums, extremes and squared
// deviations from mean.
func refColumns(sum []float64, lo, hi []float32, sq, mean []float64, rows []float32) {
	d := len(sum)
	for r := 0; r < len(rows); r += d {
		for j, v := range rows[r : r+d] {
			sum[j] += float64(v)
			if v < lo[j] {
				lo[j] = v
			}
			if v > hi[j] {
				hi[j] = v
			}
			dv := float64(v) - mean[j]
			sq[j] += float64(dv * dv)
		}
	}
}

// sameBits64 is sameBits for float64: equal bits, or both NaN (which NaN
// an operation on two NaNs returns may differ between paths).
func sameBits64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func checkSame64(t testing.TB, what string, got, want []float64) {
	t.Helper()
	for i := range got {
		if !sameBits64(got[i], want[i]) {
			t.Fatalf("%s[%d] = %v (%#016x), want %v (%#016x)", what, i,
				got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// checkColumns folds rows (of d = len(mean) features, the first also
// seeding lo and hi) through ColumnStats and ColumnSquares on every path
// and compares everything bit for bit with the scalar loop.
func checkColumns(t testing.TB, rows []float32, mean []float64) {
	t.Helper()
	d := len(mean)
	start := func() (sum []float64, lo, hi []float32, sq []float64) {
		sum, sq = make([]float64, d), make([]float64, d)
		lo, hi = append([]float32(nil), rows[:d]...), append([]float32(nil), rows[:d]...)
		for j := range sum {
			sum[j], sq[j] = float64(j)*0.25, float64(j%3) // running totals need not start at 0
		}
		return
	}
	wsum, wlo, whi, wsq := start()
	refColumns(wsum, wlo, whi, wsq, mean, rows)
	has := useAVX2
	defer func() { useAVX2 = has }()
	for _, avx := range []bool{has, false} {
		useAVX2 = avx
		sum, lo, hi, sq := start()
		for r := 0; r < len(rows); r += d {
			ColumnStats(sum, lo, hi, rows[r:r+d])
			ColumnSquares(sq, mean, rows[r:r+d])
		}
		checkSame64(t, "ColumnStats sum", sum, wsum)
		checkSame(t, "ColumnStats lo", lo, wlo)
		checkSame(t, "ColumnStats hi", hi, whi)
		checkSame64(t, "ColumnSquares", sq, wsq)
	}
}

func TestColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	negZero := float32(math.Copysign(0, -1))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, negZero,
		1e-45, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	for _, d := range []int{1, 7, 8, 9, 15, 16, 17, 64, 784, 785} {
		for _, n := range []int{1, 2, 5} {
			rows := make([]float32, n*d)
			for i := range rows {
				rows[i] = float32(rng.NormFloat64() * 100)
				if i%13 == 5 {
					rows[i] = special[i%len(special)]
				}
			}
			mean := make([]float64, d)
			for j := range mean {
				mean[j] = rng.NormFloat64() * 50
				if j%11 == 3 {
					mean[j] = float64(special[j%len(special)])
				}
			}
			checkColumns(t, rows, mean)
		}
	}
	// Ties of opposite sign keep the old extreme on every path.
	lo, hi := []float32{negZero, 0, 0, 0, 0, 0, 0, 0, 0}, []float32{0, negZero, 0, 0, 0, 0, 0, 0, 0}
	x := []float32{0, negZero, 0, 0, 0, 0, 0, 0, negZero}
	for _, avx := range []bool{useAVX2, false} {
		has := useAVX2
		useAVX2 = avx
		l, h := append([]float32(nil), lo...), append([]float32(nil), hi...)
		ColumnStats(make([]float64, 9), l, h, x)
		useAVX2 = has
		checkSame(t, "ColumnStats lo on ties", l, lo)
		checkSame(t, "ColumnStats hi on ties", h, hi)
	}
}

func TestColumnsPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"stats lo", func() { ColumnStats(make([]float64, 9), make([]float32, 8), make([]float32, 9), make([]float32, 9)) }},
		{"stats hi", func() { ColumnStats(make([]float64, 9), make([]float32, 9), make([]float32, 10), make([]float32, 9)) }},
		{"stats x", func() { ColumnStats(make([]float64, 9), make([]float32, 9), make([]float32, 9), make([]float32, 18)) }},
		{"squares mean", func() { ColumnSquares(make([]float64, 9), make([]float64, 8), make([]float32, 9)) }},
		{"squares x", func() { ColumnSquares(make([]float64, 9), make([]float64, 9), make([]float32, 8)) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

func TestColumnsAllocs(t *testing.T) {
	sum, sq, mean := make([]float64, 784), make([]float64, 784), make([]float64, 784)
	lo, hi, x := make([]float32, 784), make([]float32, 784), make([]float32, 784)
	if n := testing.AllocsPerRun(20, func() { ColumnStats(sum, lo, hi, x); ColumnSquares(sq, mean, x) }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

// FuzzColumns takes a width, then means and rows from arbitrary bits.
func FuzzColumns(f *testing.F) {
	addWidthSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, width uint8) {
		v := floats(data)
		d := int(width)
		if d == 0 || 2*d > len(v) {
			return
		}
		mean := make([]float64, d)
		for j, m := range v[:d] {
			mean[j] = float64(m)
		}
		rest := v[d:]
		checkColumns(t, rest[:len(rest)/d*d], mean)
	})
}

// BenchmarkColumns folds 1,000 rows of 784 features (Fashion-MNIST's)
// through both passes of data.FitStandardizer.
func BenchmarkColumns(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	const d, n = 784, 1000
	rows := make([]float32, n*d)
	benchFill(rng, rows, 1)
	sum, sq, mean := make([]float64, d), make([]float64, d), make([]float64, d)
	lo, hi := append([]float32(nil), rows[:d]...), append([]float32(nil), rows[:d]...)
	for _, im := range benchImpls() {
		b.Run(im.name, func(b *testing.B) {
			im.run(b, n*d, 4, func() {
				for r := 0; r < n*d; r += d {
					if im.p != nil {
						ColumnStats(sum, lo, hi, rows[r:r+d])
						ColumnSquares(sq, mean, rows[r:r+d])
						continue
					}
					// data.FitStandardizer's loops before ColumnStats.
					for j, v := range rows[r : r+d] {
						sum[j] += float64(v)
						lo[j] = min(lo[j], v)
						hi[j] = max(hi[j], v)
					}
					for j, v := range rows[r : r+d] {
						dv := float64(v) - mean[j]
						sq[j] += dv * dv
					}
				}
			})
		})
	}
}
