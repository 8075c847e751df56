package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestDatasetValidate(t *testing.T) {
	good := func() *Dataset {
		return &Dataset{
			Name: "t", N: 2, D: 2, X: []float32{1, 2, 3, math.MaxFloat32},
			Y: []int32{0, 1}, Classes: []string{"a", "b"}, Features: []string{"f", "g"},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid dataset (with the largest float32): %v", err)
	}
	tests := []struct {
		name   string
		modify func(d *Dataset)
		want   string
	}{
		{"no samples", func(d *Dataset) { d.N, d.X, d.Y = 0, nil, nil }, "empty dataset"},
		{"short X", func(d *Dataset) { d.X = d.X[:3] }, "shape mismatch"},
		{"feature names", func(d *Dataset) { d.Features = d.Features[:1] }, "1 feature names for 2 features"},
		{"label range", func(d *Dataset) { d.Y[1] = 2 }, "sample 1: label index 2 outside [0,2)"},
		{"NaN", func(d *Dataset) { d.X[2] = float32(math.NaN()) }, "sample 1 feature 0: not a finite number"},
		{"Inf", func(d *Dataset) { d.X[1] = float32(math.Inf(-1)) }, "sample 0 feature 1: not a finite number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			tc.modify(d)
			if err := d.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDatasetSubset(t *testing.T) {
	d := &Dataset{Name: "t", N: 3, D: 2, X: []float32{1, 2, 3, 4, 5, 6}, Y: []int32{0, 1, 1}, Classes: []string{"a", "b"}}
	s := d.Subset([]int{2, 0})
	if !slices.Equal(s.X, []float32{5, 6, 1, 2}) || !slices.Equal(s.Y, []int32{1, 0}) || s.N != 2 || s.D != 2 {
		t.Errorf("Subset = %v %v %d×%d", s.X, s.Y, s.N, s.D)
	}
	s.X[0] = -1
	if d.X[4] != 5 {
		t.Error("Subset shares X with its source")
	}
	if !slices.Equal(d.ClassCounts(), []int{1, 2}) || d.NumClasses() != 2 {
		t.Errorf("ClassCounts = %v", d.ClassCounts())
	}
}
