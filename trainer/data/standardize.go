package data

import (
	"fmt"
	"math"

	"github.com/consort-ml/consort/internal/vec"
)

// Standardizer maps each feature to zero mean and unit variance:
// x' = (x − Mean[j]) / Scale[j]. Fit it on training rows only, apply it to
// everything. Its fields are exported so a model file can store it.
type Standardizer struct {
	// Mean is the per-feature mean of the rows it was fitted on.
	Mean []float32
	// Scale is the per-feature population standard deviation, floored at
	// RangeFloor times the feature's range, or 1 for a feature constant on
	// those rows (which then maps to 0). Never zero.
	Scale []float32
}

// RangeFloor bounds each feature's scale from below by this share of its
// range on the fitted rows. A feature that is almost always one value with
// rare departures (an edge pixel of a digit) has a tiny standard deviation,
// so plain standardisation turns its rare values into huge inputs that
// dominate training; the floor keeps them within ±1/RangeFloor. Ordinary
// features are untouched: their standard deviation is well above a tenth
// of their range (a normal sample of 1,000 spans about 6.5σ).
//
// Measured on digits, 64-64-32-10, 40 epochs, 5-fold CV over all 1797
// samples, mean over seeds 1–10: plain standardisation 0.9770 (worst seed
// 0.9727), with the floor 0.9780 (worst 0.9744).
const RangeFloor = 0.1

// FitStandardizer computes the per-feature mean and standard deviation of
// d over the rows idx (nil means every row), accumulating in float64. It
// panics if idx is empty but not nil, or holds an index outside d.
func FitStandardizer(d *Dataset, idx []int) *Standardizer {
	if idx != nil && len(idx) == 0 {
		panic("data: FitStandardizer on no rows")
	}
	rows := len(idx)
	if idx == nil {
		rows = d.N
	}
	row := func(r int) []float32 {
		if idx == nil {
			return d.Row(r)
		}
		return d.Row(idx[r])
	}
	sum := make([]float64, d.D)
	lo := make([]float32, d.D)
	hi := make([]float32, d.D)
	copy(lo, row(0))
	copy(hi, row(0))
	for r := range rows {
		vec.ColumnStats(sum, lo, hi, row(r))
	}
	mean := sum
	for j := range mean {
		mean[j] /= float64(rows)
	}
	sq := make([]float64, d.D)
	for r := range rows {
		vec.ColumnSquares(sq, mean, row(r))
	}
	s := &Standardizer{Mean: make([]float32, d.D), Scale: make([]float32, d.D)}
	for j := range s.Mean {
		s.Mean[j] = float32(mean[j])
		sd := float32(math.Sqrt(sq[j] / float64(rows)))
		if lo[j] == hi[j] || !(sd > 0) || math.IsInf(float64(sd), 0) {
			sd = 1
		} else if fl := float32(RangeFloor * (float64(hi[j]) - float64(lo[j]))); sd < fl {
			sd = fl
		}
		s.Scale[j] = sd
	}
	return s
}

// Dim reports the number of features s standardises.
func (s *Standardizer) Dim() int { return len(s.Mean) }

// Validate checks a Standardizer read back from a model file: matching
// lengths, finite means and finite non-zero scales.
func (s *Standardizer) Validate() error {
	if len(s.Mean) != len(s.Scale) {
		return fmt.Errorf("data: standardizer: %d means and %d scales", len(s.Mean), len(s.Scale))
	}
	for j := range s.Mean {
		m, sc := float64(s.Mean[j]), float64(s.Scale[j])
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(sc) || math.IsInf(sc, 0) || sc == 0 {
			return fmt.Errorf("data: standardizer: feature %d: mean %v, scale %v", j, m, sc)
		}
	}
	return nil
}

// Apply standardises a row-major block of whole rows from src into dst;
// dst may be src. It allocates nothing. It panics if len(dst) != len(src)
// or the length is not a multiple of s.Dim().
func (s *Standardizer) Apply(dst, src []float32) {
	d := len(s.Mean)
	if len(dst) != len(src) || len(s.Scale) != d || (len(src) > 0 && (d == 0 || len(src)%d != 0)) {
		panic(fmt.Sprintf("data: Standardizer.Apply: %d values into %d with %d features", len(src), len(dst), d))
	}
	vec.Standardize(dst, src, s.Mean, s.Scale)
}
