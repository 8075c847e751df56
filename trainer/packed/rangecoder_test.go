package packed

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// op is one coding step of a random script: which code, its argument and
// value.
type op struct {
	kind int // 0 adaptive bit, 1 direct bits, 2 EG(r), 3 SE, 4 tree
	arg  uint
	v    uint64
	s    int64
}

// models holds one of each model a script uses.
type models struct {
	bits  [4]prob
	eg    [3]egModel
	se    intModel
	trees [2]treeModel
}

func newModels() *models {
	m := new(models)
	resetProbs(m.bits[:])
	for i := range m.eg {
		m.eg[i].reset()
	}
	m.se.reset()
	for i := range m.trees {
		m.trees[i].reset()
	}
	return m
}

// randomScript draws n steps whose values follow skewed distributions, as
// the format's sections do, plus occasional extremes.
func randomScript(rng *rand.Rand, n int) []op {
	out := make([]op, n)
	for i := range out {
		o := op{kind: rng.IntN(5)}
		switch o.kind {
		case 0:
			o.arg = uint(rng.IntN(4))
			p := []float64{0.02, 0.3, 0.5, 0.97}[o.arg]
			if rng.Float64() < p {
				o.v = 1
			}
		case 1:
			o.arg = uint(rng.IntN(33))
			o.v = rng.Uint64() & (1<<o.arg - 1)
		case 2:
			o.arg = uint(rng.IntN(3)) // model index; order = 3·index
			o.v = uint64(rng.ExpFloat64() * 20)
			if rng.IntN(50) == 0 {
				o.v = rng.Uint64() >> 20 // up to 2^44
			}
		case 3:
			o.s = int64(rng.NormFloat64() * 40)
			if rng.IntN(50) == 0 {
				o.s = -(1<<40 + rng.Int64N(1<<20))
			}
		case 4:
			o.arg = uint(rng.IntN(2))
			b := []uint{2, 8}[o.arg]
			o.v = uint64(min(max(rng.NormFloat64()*float64(uint(1)<<b)/6+float64(uint(1)<<(b-1)), 0), float64(uint(1)<<b-1)))
		}
		out[i] = o
	}
	return out
}

func encodeScript(script []op) []byte {
	m := newModels()
	e := newEncoder(nil)
	for _, o := range script {
		switch o.kind {
		case 0:
			e.bit(&m.bits[o.arg], uint32(o.v))
		case 1:
			e.direct(o.v, o.arg)
		case 2:
			m.eg[o.arg].encode(&e, o.v, 3*o.arg)
		case 3:
			m.se.encode(&e, o.s)
		case 4:
			m.trees[o.arg].encode(&e, o.v, []uint{2, 8}[o.arg])
		}
	}
	return e.finish()
}

// decodeScript decodes src along script and reports the first step that
// differs, or −1.
func decodeScript(t *testing.T, src []byte, script []op) (*rcDecoder, int) {
	t.Helper()
	m := newModels()
	d := newDecoder(src)
	for i, o := range script {
		var v uint64
		var s int64
		ok := true
		switch o.kind {
		case 0:
			v = uint64(d.bit(&m.bits[o.arg]))
		case 1:
			v = d.direct(o.arg)
		case 2:
			v, ok = m.eg[o.arg].decode(&d, 3*o.arg)
		case 3:
			s, ok = m.se.decode(&d, math.MaxInt64)
		case 4:
			v = m.trees[o.arg].decode(&d, []uint{2, 8}[o.arg])
		}
		if !ok || v != o.v || s != o.s {
			return &d, i
		}
	}
	return &d, -1
}

// TestRangeCoderRoundTrip decodes random scripts and checks that the
// decoder reads exactly the bytes written and ends with code 0, and that
// a stream cut short is noticed.
func TestRangeCoderRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 30))
	for _, n := range []int{0, 1, 2, 10, 1000, 20000} {
		script := randomScript(rng, n)
		src := encodeScript(script)
		d, bad := decodeScript(t, src, script)
		if bad >= 0 {
			t.Fatalf("%d steps: step %d (%+v) decodes wrong", n, bad, script[bad])
		}
		if d.over || d.pos != len(src) || !d.finished() {
			t.Fatalf("%d steps: read %d of %d bytes (over %v), code %#x", n, d.pos, len(src), d.over, d.code)
		}
		if n == 0 && len(src) != 4 {
			t.Fatalf("empty stream is %d bytes, want 4", len(src))
		}
		if len(src) > 0 {
			d, _ = decodeScript(t, src[:len(src)-1], script)
			if !d.over {
				t.Fatalf("%d steps: a stream one byte short is not noticed", n)
			}
		}
	}
}

// TestRangeCoderGarbage decodes random bytes: it must stop within its
// bounds without panicking, whatever comes out.
func TestRangeCoderGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	for range 200 {
		src := make([]byte, rng.IntN(40))
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		m := newModels()
		d := newDecoder(src)
		for range 100 {
			m.eg[2].decode(&d, 6)
			m.se.decode(&d, 1<<20)
			m.trees[1].decode(&d, 8)
			d.direct(32)
		}
	}
}

// lgChoose returns log2 of n choose k.
func lgChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return (a - b - c) / math.Ln2
}

// TestGapCodingNearEntropy codes the positions of random sparse masks as
// a Coded layer does and compares the length with log2 C(n, nnz), the
// entropy of the positions given their count: within 4%.
func TestGapCodingNearEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	tests := []struct {
		n       int
		density float64
	}{
		{6144, 0.1},
		{6144, 0.05},
		{200704, 0.1},
		{200704, 0.01},
		{4096, 0.3},
	}
	for _, tc := range tests {
		var pos []int
		for k := range tc.n {
			if rng.Float64() < tc.density {
				pos = append(pos, k)
			}
		}
		n, nz := int64(tc.n), int64(len(pos))
		mean := (n - nz) / nz
		r0 := uint(max(bits.Len64(uint64(mean*69/100))-1, 0))
		best := math.MaxInt
		for r := r0 - min(r0, 1); r <= r0+1; r++ {
			var g egModel
			g.reset()
			e := newEncoder(nil)
			prev := -1
			for _, k := range pos {
				g.encode(&e, uint64(k-prev-1), r)
				prev = k
			}
			best = min(best, len(e.finish()))
		}
		bound := lgChoose(tc.n, len(pos)) / 8
		t.Logf("n %d, density %v: %d bytes, entropy bound %.0f (%.1f%% over)", tc.n, tc.density, best, bound, 100*(float64(best)/bound-1))
		if float64(best) > 1.04*bound+4 {
			t.Errorf("n %d, density %v: %d bytes, bound %.0f", tc.n, tc.density, best, bound)
		}
	}
}

func BenchmarkRangeDecode(b *testing.B) {
	rng := rand.New(rand.NewPCG(33, 33))
	script := randomScript(rng, 10000)
	src := encodeScript(script)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		m := newModels()
		d := newDecoder(src)
		for _, o := range script {
			switch o.kind {
			case 0:
				d.bit(&m.bits[o.arg])
			case 1:
				d.direct(o.arg)
			case 2:
				m.eg[o.arg].decode(&d, 3*o.arg)
			case 3:
				m.se.decode(&d, math.MaxInt64)
			case 4:
				m.trees[o.arg].decode(&d, []uint{2, 8}[o.arg])
			}
		}
	}
}
