package packed

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogGridTable pins the table against 2^(−r/128).
func TestLogGridTable(t *testing.T) {
	for r, v := range logGrid {
		if want := math.Exp2(-float64(r) / gridSteps); math.Abs(v-want) > 2e-16 {
			t.Errorf("logGrid[%d] = %v, want %v", r, v, want)
		}
	}
}

// TestGrid checks, for tops across float32's range, that the grid is
// non-increasing, that gridIndex inverts gridValue, that gridCeil never
// rounds down and takes the finest such point, and that gridNearest is
// within half a step in ratio.
func TestGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 40))
	tops := []float32{1, 0.2857143, 3e38, 1e-30, 1.2e-38, 3e-42}
	for _, top := range tops {
		for _, step := range []int{scaleStep, stdStep} {
			prev := float32(math.Inf(1))
			for k := 0; k <= gridMaxK/step; k += 1 + k/64 {
				v := gridValue(top, k, step)
				if v > prev || v < 0 {
					t.Fatalf("top %v step %d: value %d is %v after %v", top, step, k, v, prev)
				}
				prev = v
				if v == 0 {
					continue
				}
				if j, ok := gridIndex(top, v, step); !ok || gridValue(top, j, step) != v || j > k {
					t.Fatalf("top %v step %d: gridIndex(%v) = %d, %v (k %d)", top, step, v, j, ok, k)
				}
			}
			if gridValue(top, 0, step) != top {
				t.Fatalf("top %v: point 0 is %v", top, gridValue(top, 0, step))
			}
			ratio := math.Exp2(float64(step) / gridSteps)
			for range 200 {
				v := top * float32(math.Exp2(-20*rng.Float64()))
				if !(v > 0) || v < 1e-37 {
					continue
				}
				k := gridCeil(top, v, step)
				g := gridValue(top, k, step)
				if g < v {
					t.Fatalf("top %v: gridCeil(%v) = %d, value %v below", top, v, k, g)
				}
				if next := gridValue(top, k+1, step); next >= v && next != g {
					t.Fatalf("top %v: gridCeil(%v) = %d not the finest (%v ≥ v)", top, v, k, next)
				}
				n := gridValue(top, gridNearest(top, v, step), step)
				if r := max(float64(n)/float64(v), float64(v)/float64(n)); r > math.Sqrt(ratio)*(1+1e-6) {
					t.Fatalf("top %v: gridNearest(%v) is %v, ratio %v", top, v, n, r)
				}
			}
		}
	}
	if _, ok := gridIndex(1, 0.7, scaleStep); ok {
		t.Error("0.7 is on the 1/32-octave grid below 1")
	}
}

func TestBiasGrid(t *testing.T) {
	tests := []struct {
		name string
		b    []float32
		e    int
		ok   bool
	}{
		{"all zero", []float32{0, 0}, 0, true},
		{"halves", []float32{0.5, -1.5, 3}, -1, true},
		{"integers", []float32{4, 8, -12}, 2, true},
		{"negative zero", []float32{1, float32(math.Copysign(0, -1))}, 0, false},
		{"too fine", []float32{1, 1e-30}, 0, false},
		{"codes too large", []float32{1 << 21, 1}, 0, false},
		{"subnormal step", []float32{math.Float32frombits(3)}, 0, false},
		{"smallest step", []float32{float32(math.Ldexp(3, -128))}, -128, true},
		{"huge", []float32{float32(math.Ldexp(3, 120))}, 120, true},
		{"arbitrary float", []float32{3e38}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := biasGrid(tc.b)
			if ok != tc.ok || (ok && e != tc.e) {
				t.Fatalf("biasGrid = %d, %v; want %d, %v", e, ok, tc.e, tc.ok)
			}
			if !ok {
				return
			}
			for _, v := range tc.b {
				c := int64(math.Ldexp(float64(v), -e))
				if biasValue(c, e) != v {
					t.Fatalf("bias %v: code %d decodes to %v", v, c, biasValue(c, e))
				}
			}
		})
	}
}

// TestRoundBiases checks that rounded biases lie on their grid with codes
// of at most 127, within half a step of the originals, and that rounding
// again changes nothing.
func TestRoundBiases(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 41))
	for _, scale := range []float64{1e-40, 1e-20, 1e-3, 1, 1e3, 1e36} {
		b := make([]float32, 50)
		for i := range b {
			b[i] = float32(rng.NormFloat64() * scale)
		}
		orig := append([]float32(nil), b...)
		if !roundBiases(b) {
			t.Fatalf("scale %v: not rounded", scale)
		}
		e, ok := biasGrid(b)
		if !ok {
			t.Fatalf("scale %v: rounded biases off the grid", scale)
		}
		var peak float64
		for i := range b {
			peak = max(peak, math.Abs(float64(orig[i])))
		}
		step := math.Ldexp(1, max(int(math.Ceil(math.Log2(peak/biasLevels))), minBiasExp))
		for i := range b {
			if c := math.Abs(math.Ldexp(float64(b[i]), -e)); c > biasLevels {
				t.Fatalf("scale %v: code %v", scale, c)
			}
			if d := math.Abs(float64(b[i]) - float64(orig[i])); d > step/2*(1+1e-6) {
				t.Fatalf("scale %v: bias %v rounded to %v (step %v)", scale, orig[i], b[i], step)
			}
		}
		again := append([]float32(nil), b...)
		roundBiases(again)
		for i := range b {
			if math.Float32bits(again[i]) != math.Float32bits(b[i]) {
				t.Fatalf("scale %v: rounding again moved %v to %v", scale, b[i], again[i])
			}
		}
	}
	if b := []float32{3.4e38, -3.4e38}; roundBiases(b) && math.IsInf(float64(b[0]), 0) {
		t.Fatal("rounding overflowed")
	}
}

// TestMeanGrid checks that meanCode inverts meanValue and rejects means
// off the grid.
func TestMeanGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	for range 1000 {
		s := float32(math.Exp(rng.NormFloat64() * 5))
		c := int64(rng.NormFloat64() * 1000)
		m := meanValue(c, s)
		got, ok := meanCode(m, s)
		if !ok || meanValue(got, s) != m {
			t.Fatalf("scale %v code %d: mean %v gives code %d, %v", s, c, m, got, ok)
		}
	}
	if _, ok := meanCode(0.3, 1); ok {
		t.Error("0.3 is on the mean grid of scale 1")
	}
	if _, ok := meanCode(1e30, 1); ok {
		t.Error("1e30 has a mean code")
	}
}
