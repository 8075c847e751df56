package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refStandardize is the scalar loop Standardize replaces.
func refStandardize(dst, x, mean, scale []float32) {
	d := len(mean)
	for i, v := range x {
		dst[i] = (v - mean[i%d]) / scale[i%d]
	}
}

// checkStandardize runs Standardize on every path, out of place and in
// place, and compares each output bit for bit with the scalar loop.
func checkStandardize(t *testing.T, x, mean, scale []float32) {
	t.Helper()
	want := make([]float32, len(x))
	refStandardize(want, x, mean, scale)
	has := useAVX2
	defer func() { useAVX2 = has }()
	for _, avx := range []bool{has, false} {
		useAVX2 = avx
		got := make([]float32, len(x))
		Standardize(got, x, mean, scale)
		checkSame(t, "Standardize", got, want)
		in := append([]float32(nil), x...)
		Standardize(in, in, mean, scale)
		checkSame(t, "Standardize in place", in, want)
	}
}

func TestStandardize(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		1e-45, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	for _, d := range []int{1, 7, 8, 9, 15, 16, 17, 64, 784, 785} {
		for _, rows := range []int{0, 1, 3} {
			x := make([]float32, rows*d)
			mean, scale := make([]float32, d), make([]float32, d)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 100)
				if i%13 == 5 {
					x[i] = special[i%len(special)]
				}
			}
			for j := range mean {
				mean[j] = float32(rng.NormFloat64())
				scale[j] = float32(rng.Float64() * 3)
				if j%11 == 3 {
					mean[j], scale[j] = special[j%len(special)], special[(j+4)%len(special)]
				}
			}
			checkStandardize(t, x, mean, scale)
		}
	}
}

func TestStandardizePanics(t *testing.T) {
	for _, tc := range []struct {
		name                string
		dst, x, mean, scale int
	}{
		{"ragged rows", 10, 10, 3, 3},
		{"scale length", 9, 9, 3, 2},
		{"dst length", 8, 9, 3, 3},
		{"no features", 3, 3, 0, 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			Standardize(make([]float32, tc.dst), make([]float32, tc.x), make([]float32, tc.mean), make([]float32, tc.scale))
		}()
	}
}

func TestStandardizeAllocs(t *testing.T) {
	x, mean, scale := make([]float32, 784), make([]float32, 784), make([]float32, 784)
	for i := range scale {
		scale[i] = 1
	}
	if n := testing.AllocsPerRun(20, func() { Standardize(x, x, mean, scale) }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

func FuzzStandardize(f *testing.F) {
	addWidthSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, width uint8) {
		v := floats(data)
		d := int(width)
		if d == 0 || 2*d > len(v) {
			return
		}
		mean, scale, rest := v[:d], v[d:2*d], v[2*d:]
		x := rest[:len(rest)/d*d]
		checkStandardize(t, x, mean, scale)
	})
}
