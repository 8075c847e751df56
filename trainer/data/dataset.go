package data

import (
	"fmt"
	"math"

	"github.com/consort-ml/consort/internal/vec"
)

// Dataset is a labelled classification dataset held in memory.
//
// Features are float32, row-major: sample i occupies X[i*D : (i+1)*D].
// Labels are class indices into Classes.
type Dataset struct {
	// Name says where the data came from: a built-in name, a file path or
	// an IDX directory. It prefixes error messages.
	Name string
	// X holds N*D features, row-major.
	X []float32
	// Y holds N class indices, each in [0, len(Classes)).
	Y []int32
	// N is the number of samples; D the number of features per sample.
	N, D int
	// Classes names each class; class k is called Classes[k]. Integer labels
	// keep their decimal spelling ("0", "1", …) and sort numerically; string
	// labels sort lexically.
	Classes []string
	// Features names each feature column; nil when the source has no header.
	Features []string
}

// NumClasses reports len(d.Classes).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Row returns sample i's features as a view into X.
func (d *Dataset) Row(i int) []float32 { return d.X[i*d.D : (i+1)*d.D : (i+1)*d.D] }

// Subset returns a new dataset holding the samples idx, in that order,
// copied. Classes and Features are shared with d.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.subsetOf(idx)
	for j, i := range idx {
		copy(s.X[j*d.D:(j+1)*d.D], d.Row(i))
	}
	return s
}

// StandardizedSubset is Subset with every copied row standardised by std
// on the way, in one pass: the same bits as std.Apply on Subset's rows.
func (d *Dataset) StandardizedSubset(idx []int, std *Standardizer) *Dataset {
	if std.Dim() != d.D {
		panic(fmt.Sprintf("data: StandardizedSubset: a standardizer of %d features for %d", std.Dim(), d.D))
	}
	s := d.subsetOf(idx)
	for j, i := range idx {
		vec.Standardize(s.X[j*d.D:(j+1)*d.D], d.Row(i), std.Mean, std.Scale)
	}
	return s
}

// subsetOf returns a dataset for the samples idx of d with their labels
// copied and room for their features.
func (d *Dataset) subsetOf(idx []int) *Dataset {
	s := &Dataset{
		Name:     d.Name,
		X:        make([]float32, len(idx)*d.D),
		Y:        make([]int32, len(idx)),
		N:        len(idx),
		D:        d.D,
		Classes:  d.Classes,
		Features: d.Features,
	}
	for j, i := range idx {
		s.Y[j] = d.Y[i]
	}
	return s
}

// Validate checks the dataset's internal consistency: shapes, label range
// and finite features. It names the first offending sample.
func (d *Dataset) Validate() error {
	if d.N <= 0 || d.D <= 0 {
		return fmt.Errorf("data: %s: empty dataset (%d samples, %d features)", d.Name, d.N, d.D)
	}
	if len(d.X) != d.N*d.D || len(d.Y) != d.N {
		return fmt.Errorf("data: %s: shape mismatch: %d features and %d labels for %d×%d", d.Name, len(d.X), len(d.Y), d.N, d.D)
	}
	if d.Features != nil && len(d.Features) != d.D {
		return fmt.Errorf("data: %s: %d feature names for %d features", d.Name, len(d.Features), d.D)
	}
	for i, y := range d.Y {
		if y < 0 || int(y) >= len(d.Classes) {
			return fmt.Errorf("data: %s: sample %d: label index %d outside [0,%d)", d.Name, i, y, len(d.Classes))
		}
	}
	for i, v := range d.X {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("data: %s: sample %d feature %d: not a finite number", d.Name, i/d.D, i%d.D)
		}
	}
	return nil
}

// ClassCounts returns how many samples each class has.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, y := range d.Y {
		c[y]++
	}
	return c
}
