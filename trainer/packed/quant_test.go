package packed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// weightSets returns named rows×cols matrices covering the shapes and
// value distributions quantization meets.
func weightSets(rng *rand.Rand) []struct {
	name       string
	rows, cols int
	w          []float32
} {
	gen := func(rows, cols int, f func(i int) float32) []float32 {
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = f(i)
		}
		return w
	}
	return []struct {
		name       string
		rows, cols int
		w          []float32
	}{
		{"uniform", 8, 33, gen(8, 33, func(int) float32 { return 2*rng.Float32() - 1 })},
		{"gaussian outliers", 5, 40, gen(5, 40, func(i int) float32 {
			if i%37 == 0 {
				return float32(20 * rng.NormFloat64())
			}
			return float32(rng.NormFloat64())
		})},
		{"all positive", 4, 9, gen(4, 9, func(int) float32 { return 3 + rng.Float32() })},
		{"all negative", 4, 9, gen(4, 9, func(int) float32 { return -1e-3 - rng.Float32()*1e-3 })},
		{"pruned half", 6, 20, gen(6, 20, func(i int) float32 {
			if i%2 == 0 {
				return 0
			}
			return float32(rng.NormFloat64())
		})},
		{"zero rows", 4, 5, gen(4, 5, func(i int) float32 {
			if i/5 == 1 || i/5 == 3 {
				return 0
			}
			return float32(rng.NormFloat64())
		})},
		{"all zero", 3, 3, make([]float32, 9)},
		{"single", 1, 1, []float32{-0.37}},
		{"tiny", 2, 3, gen(2, 3, func(int) float32 { return float32(rng.NormFloat64() * 1e-30) })},
		{"huge", 2, 3, gen(2, 3, func(int) float32 { return float32(rng.NormFloat64() * 1e37) })},
	}
}

// TestFakeQuantizeErrorBound checks, for every scheme and weight set, that
// every weight is within scale/2 of its fake-quantized value (up to one
// float32 rounding of the product), that zeros stay exactly zero, that
// codes lie in range, and that FakeQuantize equals Dequantize∘Quantize.
func TestFakeQuantizeErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	sets := weightSets(rng)
	for _, s := range allSchemes() {
		for _, ws := range sets {
			t.Run(fmt.Sprintf("%v/%s", s, ws.name), func(t *testing.T) {
				var p QParams
				if err := Params(&p, ws.w, ws.rows, ws.cols, s); err != nil {
					t.Fatal(err)
				}
				codes := make([]int32, len(ws.w))
				Quantize(codes, ws.w, ws.rows, ws.cols, &p, s)
				deq := make([]float32, len(ws.w))
				Dequantize(deq, codes, ws.rows, ws.cols, &p, s)
				fq := make([]float32, len(ws.w))
				FakeQuantize(fq, ws.w, ws.rows, ws.cols, s, new(QParams))
				lo, hi := s.Range()
				for i, w := range ws.w {
					g := 0
					if s.PerChannel {
						g = i / ws.cols
					}
					sc := float64(p.Scale[g])
					if !(sc > 0) || math.IsInf(sc, 0) {
						t.Fatalf("scale %d = %v", g, sc)
					}
					if codes[i] < lo || codes[i] > hi {
						t.Fatalf("weight %d: code %d outside [%d, %d]", i, codes[i], lo, hi)
					}
					if math.Float32bits(fq[i]) != math.Float32bits(deq[i]) {
						t.Fatalf("weight %d: FakeQuantize %v, Dequantize(Quantize) %v", i, fq[i], deq[i])
					}
					if w == 0 && fq[i] != 0 {
						t.Fatalf("weight %d: zero fake-quantizes to %v", i, fq[i])
					}
					slack := math.Ldexp(max(math.Abs(float64(w)), math.Abs(float64(fq[i]))), -23)
					if err := math.Abs(float64(w) - float64(fq[i])); err > sc/2+slack {
						t.Fatalf("weight %d: |%v − %v| = %v > scale/2 = %v", i, w, fq[i], err, sc/2)
					}
				}
			})
		}
	}
}

func TestParamsDegenerate(t *testing.T) {
	tests := []struct {
		name       string
		w          []float32
		rows, cols int
		s          Scheme
		scale      []float32
		zero       []int32
	}{
		// Per channel at ≤ 8 bits an all-zero row takes the largest scale
		// (grid index 0); per tensor, or when all is zero, scale 1.
		{"zero row symmetric", []float32{0, 0, 1, -2}, 2, 2, Scheme{Bits: 4, PerChannel: true}, []float32{2.0 / 7, 2.0 / 7}, []int32{0, 0}},
		{"zero row asymmetric", []float32{0, 0, 1, 2}, 2, 2, Scheme{Bits: 2, Asymmetric: true, PerChannel: true}, []float32{2.0 / 3, 2.0 / 3}, []int32{0, 0}},
		{"zero row 16 bits", []float32{0, 0, 1, -2}, 2, 2, Scheme{Bits: 16, PerChannel: true}, []float32{1, 2.0 / 32767}, []int32{0, 0}},
		{"all zero per channel", []float32{0, 0, 0, 0}, 2, 2, Scheme{Bits: 4, PerChannel: true}, []float32{1, 1}, []int32{0, 0}},
		// Rows below the largest round up onto its log grid: 1/7 is
		// 2^(−1) of 2/7, on the grid; 1.5/7 is not and rounds up to
		// 2/7·2^(−13/32).
		{"grid", []float32{2, 1, 1.5}, 3, 1, Scheme{Bits: 4, PerChannel: true}, []float32{2.0 / 7, 1.0 / 7, gridValue(2.0/7, 13, scaleStep)}, []int32{0, 0, 0}},
		{"single negative asymmetric", []float32{-3}, 1, 1, Scheme{Bits: 8, Asymmetric: true}, []float32{3.0 / 255}, []int32{255}},
		{"single positive symmetric", []float32{0.5}, 1, 1, Scheme{Bits: 2}, []float32{0.5}, []int32{0}},
		{"straddling zero", []float32{-1, 3}, 1, 2, Scheme{Bits: 2, Asymmetric: true}, []float32{4.0 / 3}, []int32{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p QParams
			if err := Params(&p, tc.w, tc.rows, tc.cols, tc.s); err != nil {
				t.Fatal(err)
			}
			for g := range tc.scale {
				if p.Scale[g] != tc.scale[g] || p.Zero[g] != tc.zero[g] {
					t.Errorf("group %d: scale %v zero %d, want %v and %d", g, p.Scale[g], p.Zero[g], tc.scale[g], tc.zero[g])
				}
			}
			codes := make([]int32, len(tc.w))
			Quantize(codes, tc.w, tc.rows, tc.cols, &p, tc.s)
			for i, w := range tc.w {
				if w == 0 && codes[i] != p.Zero[i/tc.cols%len(p.Zero)] {
					t.Errorf("zero weight %d: code %d", i, codes[i])
				}
			}
		})
	}
}

func TestParamsErrors(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(-1))
	tests := []struct {
		name       string
		w          []float32
		rows, cols int
		s          Scheme
	}{
		{"NaN", []float32{1, nan}, 1, 2, Scheme{Bits: 4}},
		{"Inf", []float32{inf, 1}, 2, 1, Scheme{Bits: 8, Asymmetric: true}},
		{"7 bits", []float32{1}, 1, 1, Scheme{Bits: 7}},
		{"float", []float32{1}, 1, 1, Scheme{Bits: 32}},
		{"zero value is float", []float32{1}, 1, 1, Scheme{}},
		{"shape", []float32{1, 2, 3}, 2, 2, Scheme{Bits: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Params(new(QParams), tc.w, tc.rows, tc.cols, tc.s)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestFakeQuantizeNonFinite pins that the unvalidated hot path does not
// panic on NaN or infinite weights.
func TestFakeQuantizeNonFinite(t *testing.T) {
	w := []float32{float32(math.NaN()), 1, float32(math.Inf(1)), -2, float32(math.Inf(-1)), 0}
	for _, s := range allSchemes() {
		dst := make([]float32, len(w))
		FakeQuantize(dst, w, 2, 3, s, nil)
	}
}

func TestFakeQuantizeAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	w := make([]float32, 64*32)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	dst := make([]float32, len(w))
	for _, s := range []Scheme{{Bits: 4, PerChannel: true}, {Bits: 8, Asymmetric: true}, {Bits: 32}} {
		var scratch QParams
		FakeQuantize(dst, w, 64, 32, s, &scratch)
		if a := testing.AllocsPerRun(20, func() { FakeQuantize(dst, w, 64, 32, s, &scratch) }); a != 0 {
			t.Errorf("%v: %v allocations per call", s, a)
		}
	}
}

// TestFakeQuantizeActivations checks the activation grid against the
// codes the integer path computes.
func TestFakeQuantizeActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a := make([]float32, 300)
	for i := range a {
		a[i] = float32(rng.NormFloat64() * 2)
	}
	for _, unsigned := range []bool{false, true} {
		in := a
		if unsigned {
			in = append([]float32(nil), a...)
			activate(in, ReLU)
		}
		const scale = 0.01 // clips the tails
		q := make([]int16, len(in))
		if got := quantizeActs(q, in, scale, unsigned, 1000); got != scale {
			t.Fatalf("step %v, want %v", got, scale)
		}
		fq := make([]float32, len(in))
		FakeQuantizeActivations(fq, in, scale, unsigned)
		lo, hi := actRange(unsigned)
		for i, v := range in {
			if float32(q[i]) < lo || float32(q[i]) > hi {
				t.Fatalf("code %d outside [%v, %v]", q[i], lo, hi)
			}
			if fq[i] != float32(q[i])*scale {
				t.Fatalf("activation %d: fake %v, code %d", i, fq[i], q[i])
			}
			if c := float32(math.Max(float64(lo), math.Min(float64(hi), float64(v)/scale))) * scale; math.Abs(float64(c-fq[i])) > scale/2+1e-6 {
				t.Fatalf("activation %v: fake %v, clamped %v", v, fq[i], c)
			}
		}
	}
	// A non-positive scale copies.
	dst := make([]float32, len(a))
	FakeQuantizeActivations(dst, a, 0, false)
	for i := range a {
		if dst[i] != a[i] {
			t.Fatal("scale 0 changed the activations")
		}
	}
}

func BenchmarkFakeQuantize(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, sh := range [][2]int{{64, 64}, {256, 784}} {
		rows, cols := sh[0], sh[1]
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		dst := make([]float32, len(w))
		for _, s := range []Scheme{{Bits: 4, PerChannel: true}, {Bits: 8, Asymmetric: true}} {
			b.Run(fmt.Sprintf("%dx%d/%v", rows, cols, s), func(b *testing.B) {
				var scratch QParams
				b.ReportAllocs()
				for b.Loop() {
					FakeQuantize(dst, w, rows, cols, s, &scratch)
				}
			})
		}
	}
}

// TestFromFloatMatchesFakeQuantize pins that a packed model's weights are
// bit for bit the fake-quantized weights a quantization-aware trainer saw.
func TestFromFloatMatchesFakeQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range append(allSchemes(), Scheme{Bits: 32}) {
		layers := randomLayers(rng, netSpec{sizes: []int{30, 20, 4}, sparsity: 0.6, scheme: s})
		m, err := FromFloat(layers, ReLU, nil, nil, labels(4))
		if err != nil {
			t.Fatal(err)
		}
		for li, ls := range layers {
			fq := make([]float32, len(ls.W))
			FakeQuantize(fq, ls.W, ls.Out, ls.In, s, nil)
			got := m.Layers[li].Weights(nil)
			for i := range fq {
				if math.Float32bits(fq[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%v layer %d weight %d: packed %v, fake-quantized %v", s, li, i, got[i], fq[i])
				}
			}
		}
	}
}
