package data

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBuiltin(t *testing.T) {
	tests := []struct {
		name     string
		n, d     int
		classes  []string
		counts   []int
		features []string
	}{
		{
			name: "digits", n: 1797, d: 64,
			classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
			counts:  []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180},
		},
		{
			name: "iris", n: 150, d: 4,
			classes:  []string{"setosa", "versicolor", "virginica"},
			counts:   []int{50, 50, 50},
			features: []string{"sepal_length", "sepal_width", "petal_length", "petal_width"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Builtin(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if d.Name != tc.name || d.N != tc.n || d.D != tc.d {
				t.Errorf("got %s %d×%d, want %s %d×%d", d.Name, d.N, d.D, tc.name, tc.n, tc.d)
			}
			if !slices.Equal(d.Classes, tc.classes) || !slices.Equal(d.ClassCounts(), tc.counts) || !slices.Equal(d.Features, tc.features) {
				t.Errorf("classes %q counts %v features %q", d.Classes, d.ClassCounts(), d.Features)
			}
			// Each call is a fresh copy.
			d.X[0] = -1
			again, err := Builtin(tc.name)
			if err != nil || again.X[0] == -1 {
				t.Errorf("Builtin shares memory between calls (err %v)", err)
			}
		})
	}
	d, _ := Builtin("digits")
	if lo, hi := slices.Min(d.X), slices.Max(d.X); lo != 0 || hi != 16 {
		t.Errorf("digits pixels in [%v,%v], want [0,16]", lo, hi)
	}
	// First row of the file: label 0.
	if d.Y[0] != 0 || !slices.Equal(d.Row(0)[:8], []float32{0, 0, 5, 13, 9, 1, 0, 0}) {
		t.Errorf("digits row 0 = %v label %d", d.Row(0)[:8], d.Y[0])
	}
}

func TestBuiltinUnknown(t *testing.T) {
	_, err := Builtin("mnist")
	if !errors.Is(err, ErrUnknownBuiltin) {
		t.Fatalf("error %v, want ErrUnknownBuiltin", err)
	}
	if want := `data: unknown built-in dataset "mnist": want one of digits, iris`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if got := BuiltinNames(); !slices.Equal(got, []string{"digits", "iris"}) {
		t.Errorf("BuiltinNames() = %q", got)
	}
	if !strings.Contains(err.Error(), strings.Join(BuiltinNames(), ", ")) {
		t.Errorf("error %q does not list the names", err)
	}
}

func BenchmarkBuiltinDigits(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Builtin("digits"); err != nil {
			b.Fatal(err)
		}
	}
}
