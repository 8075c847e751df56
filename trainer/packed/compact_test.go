package packed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestCompactMetadata checks which sections FromFloat's models store on
// the grids, that dead inputs are elided, and that every model round-trips
// exactly.
func TestCompactMetadata(t *testing.T) {
	rng := rand.New(rand.NewPCG(50, 50))
	tests := []struct {
		name      string
		ns        netSpec
		gridScale bool // every layer
		gridBias  bool
		gridStd   bool
	}{
		{"4-bit per-channel", netSpec{sizes: []int{64, 64, 32, 10}, sparsity: 0.9, scheme: Scheme{Bits: 4, PerChannel: true}, std: true}, true, true, true},
		{"8-bit asymmetric per-channel", netSpec{sizes: []int{20, 8, 3}, sparsity: 0.5, scheme: Scheme{Bits: 8, Asymmetric: true, PerChannel: true}, std: true}, true, true, true},
		{"2-bit per-tensor", netSpec{sizes: []int{20, 8, 3}, sparsity: 0.8, scheme: Scheme{Bits: 2}, std: true}, false, true, true},
		{"16-bit per-channel", netSpec{sizes: []int{20, 8, 3}, sparsity: 0.5, scheme: Scheme{Bits: 16, PerChannel: true}, std: true}, false, false, false},
		{"float32", netSpec{sizes: []int{20, 8, 3}, sparsity: 0.5, scheme: Scheme{Bits: 32}, std: true}, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := randomModel(t, rng, tc.ns)
			for li := range m.Layers {
				lm := m.Layers[li].meta()
				if lm.gridScales != tc.gridScale || lm.gridBias != tc.gridBias {
					t.Errorf("layer %d: grid scales %v, grid biases %v", li, lm.gridScales, lm.gridBias)
				}
			}
			sm := m.stdMeta()
			if sm.grid != tc.gridStd {
				t.Errorf("grid standardisation %v", sm.grid)
			}
			for i, ok := range sm.live {
				if !ok && (m.Mean[i] != 0 || m.Scale[i] != 1) {
					t.Errorf("dead input %d: mean %v scale %v", i, m.Mean[i], m.Scale[i])
				}
			}
			b := mustMarshal(t, m)
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatal("decoded model differs")
			}
		})
	}
}

// TestCompactFallback hand-builds models whose scales, biases and
// standardisation are off the grids: they are stored in float32 and
// round-trip exactly.
func TestCompactFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 51))
	m := randomModel(t, rng, netSpec{sizes: []int{12, 6, 3}, sparsity: 0.5, scheme: Scheme{Bits: 4, PerChannel: true}, std: true})
	m.Layers[0].Scales[1] *= 1.001
	m.Layers[1].Bias[0] = 0.1
	for i := range m.Mean {
		if m.Scale[i] != 1 {
			m.Scale[i] *= 1.0001
		}
	}
	if lm := m.Layers[0].meta(); lm.gridScales || !lm.gridBias {
		t.Fatalf("layer 0: grid scales %v, grid biases %v", lm.gridScales, lm.gridBias)
	}
	if lm := m.Layers[1].meta(); !lm.gridScales || lm.gridBias {
		t.Fatalf("layer 1: grid scales %v, grid biases %v", lm.gridScales, lm.gridBias)
	}
	if m.stdMeta().grid {
		t.Fatal("standardisation on the grid")
	}
	got, err := Unmarshal(mustMarshal(t, m))
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestDeadInputs checks elision: a pruned column costs nothing in the
// standardisation and Validate insists on mean 0, scale 1 there.
func TestDeadInputs(t *testing.T) {
	layers := []LayerSpec{{
		W:  []float32{1, 0, -1, 0.5, 0, 0.25},
		B:  []float32{0.5, -0.5},
		In: 3, Out: 2, Scheme: Scheme{Bits: 32},
	}}
	m, err := FromFloat(layers, ReLU, []float32{1, 2, 3}, []float32{2, 3, 4}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Mean[1] != 0 || m.Scale[1] != 1 || m.Mean[0] != 1 || m.Scale[2] != 4 {
		t.Fatalf("standardisation %v %v", m.Mean, m.Scale)
	}
	full, err := FromFloat(layers, ReLU, nil, nil, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if d := len(mustMarshal(t, m)) - len(mustMarshal(t, full)); d != 2*2*4 {
		t.Errorf("standardisation of 2 live inputs costs %d bytes, want 16", d)
	}
	m.Mean[1] = 5
	if err := m.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "input 1") {
		t.Fatalf("Validate: %v", err)
	}
}

// body assembles a model file from raw parts for the decoder tests: one
// layer of the given widths, labels "0", "1", …, an optional range-coded
// stream and a tail.
type body struct {
	in, out int
	mflags  byte
	pre     []byte // after the labels (σ_max)
	layer   []byte // the plain layer record
	stream  func(e *rcEncoder)
	tail    []byte
}

func (c body) bytes() []byte {
	b := appendHeader(nil, KindModel)
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendUvarint(b, uint64(c.in))
	b = binary.AppendUvarint(b, uint64(c.out))
	b = append(b, 0, c.mflags)
	for i := range c.out {
		l := fmt.Sprint(i)
		b = binary.AppendUvarint(b, uint64(len(l)))
		b = append(b, l...)
	}
	b = append(b, c.pre...)
	b = append(b, c.layer...)
	if c.stream != nil {
		e := newEncoder(b)
		c.stream(&e)
		b = e.finish()
	}
	b = append(b, c.tail...)
	return appendTrailer(b, 0)
}

func f32(v ...float32) []byte { return appendF32s(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestCraftedErrors feeds the decoder well-checksummed files that break
// one rule of the version 2 layout each.
func TestCraftedErrors(t *testing.T) {
	coded := byte(Coded) << storageShift
	// A 2×2 4-bit per-tensor layer with grid biases and Coded weights.
	codedLayer := func(nnz int, order byte) []byte {
		return cat([]byte{4, coded | flagGridBias}, f32(0.5), []byte{0}, binary.AppendUvarint(nil, uint64(nnz)), []byte{order})
	}
	weights := func(gaps []uint64, fields []uint64) func(e *rcEncoder) {
		return func(e *rcEncoder) {
			var cs intModel
			cs.reset()
			cs.encode(e, 1)
			cs.encode(e, -1)
			var g egModel
			var tr treeModel
			g.reset()
			tr.reset()
			for i := range gaps {
				g.encode(e, gaps[i], 0)
				tr.encode(e, fields[i], 4)
			}
		}
	}
	good := body{in: 2, out: 2, layer: codedLayer(2, 0), stream: weights([]uint64{0, 2}, []uint64{1, 15})}
	if m, err := Unmarshal(good.bytes()); err != nil || m.Layers[0].Codes[3] != -1 || m.Layers[0].Bias[1] != -1 {
		t.Fatalf("the crafted baseline does not decode: %v", err)
	}
	// A 2×2 4-bit per-channel layer with grid scales and dense codes 1.
	stdLayer := cat([]byte{4, flagPerChannel | flagGridScales}, f32(1), f32(0.5, 0.5), []byte{0x11, 0x11})
	scales := func(ks ...uint64) func(e *rcEncoder) {
		return func(e *rcEncoder) {
			var g egModel
			g.reset()
			for _, k := range ks {
				g.encode(e, k, 0)
			}
		}
	}
	std := func(ks []uint64, cs []int64) func(e *rcEncoder) {
		return func(e *rcEncoder) {
			scales(0, 0)(e)
			var g egModel
			var c intModel
			g.reset()
			c.reset()
			for i := range ks {
				g.encode(e, ks[i], 0)
				c.encode(e, cs[i])
			}
		}
	}
	tests := []struct {
		name string
		b    body
		want error
		msg  string
	}{
		{"flag bit 7", body{in: 2, out: 2, layer: cat([]byte{4, 0x80}, f32(1, 0, 0))}, ErrCorrupt, "unknown flags"},
		{"grid scales per tensor", body{in: 2, out: 2, layer: cat([]byte{4, flagGridScales}, f32(1, 0, 0))}, ErrCorrupt, "per-tensor"},
		{"grid biases at 16 bits", body{in: 2, out: 2, layer: cat([]byte{16, flagGridBias}, f32(1), []byte{0})}, ErrCorrupt, "16-bit"},
		{"compact std without std", body{in: 2, out: 2, mflags: flagGridStd, layer: codedLayer(2, 0), stream: weights([]uint64{0, 2}, []uint64{1, 15})}, ErrCorrupt, "model flags"},
		{"compact std at 32 bits", body{in: 2, out: 2, mflags: flagStandard | flagGridStd, pre: f32(1), layer: cat([]byte{32, 0}, f32(0, 0), f32(1, 1, 1, 1)), stream: func(*rcEncoder) {}}, ErrCorrupt, "32-bit first layer"},
		{"order above 48", body{in: 2, out: 2, layer: codedLayer(2, 49)}, ErrCorrupt, "order"},
		{"too many non-zeros", body{in: 2, out: 2, layer: codedLayer(5, 0)}, ErrCorrupt, "non-zero count"},
		{"gap past the end", body{in: 2, out: 2, layer: codedLayer(2, 0), stream: weights([]uint64{0, 3}, []uint64{1, 1})}, ErrCorrupt, "past the 4 weights"},
		{"stored zero", body{in: 2, out: 2, layer: codedLayer(2, 0), stream: weights([]uint64{0, 0}, []uint64{1, 0})}, ErrCorrupt, "stored but zero"},
		{"code -8", body{in: 2, out: 2, layer: codedLayer(1, 0), stream: weights([]uint64{0}, []uint64{8})}, ErrCorrupt, "is -8"},
		{"stream cut", body{in: 2, out: 2, layer: codedLayer(2, 0), stream: weights([]uint64{0, 2}, []uint64{1, 15}), tail: nil}, nil, ""},
		{"stream trailing bytes", body{in: 2, out: 2, layer: codedLayer(2, 0), stream: weights([]uint64{0, 2}, []uint64{1, 15}), tail: []byte{0}}, ErrCorrupt, "unexpected bytes"},
		{"no scale index 0", body{in: 2, out: 2, layer: stdLayer, stream: scales(1, 2)}, ErrCorrupt, "maximum"},
		{"scale index too large", body{in: 2, out: 2, layer: stdLayer, stream: scales(0, 1<<15)}, ErrCorrupt, "out of range"},
		{"grid scales", body{in: 2, out: 2, layer: stdLayer, stream: scales(0, 32)}, nil, ""},
		{"compact std", body{in: 2, out: 2, mflags: flagStandard | flagGridStd, pre: f32(2), layer: stdLayer, stream: std([]uint64{0, 128}, []int64{128, -3})}, nil, ""},
		{"std index too large", body{in: 2, out: 2, mflags: flagStandard | flagGridStd, pre: f32(2), layer: stdLayer, stream: std([]uint64{0, 1 << 16}, []int64{0, 0})}, ErrCorrupt, "input 1: index or code out of range"},
		{"no std index 0", body{in: 2, out: 2, mflags: flagStandard | flagGridStd, pre: f32(2), layer: stdLayer, stream: std([]uint64{3, 1}, []int64{0, 0})}, ErrCorrupt, "standardisation: no scale is the maximum"},
		{"std mean overflows", body{in: 2, out: 2, mflags: flagStandard | flagGridStd, pre: f32(3e38), layer: stdLayer, stream: std([]uint64{0, 0}, []int64{1 << 24, 0})}, ErrCorrupt, "input 0: scale"},
		{"float std missing", body{in: 2, out: 2, mflags: flagStandard, layer: stdLayer, stream: scales(0, 0), tail: f32(1, 2)}, ErrTruncated, "standardisation"},
		{"float std zero scale", body{in: 2, out: 2, mflags: flagStandard, layer: stdLayer, stream: scales(0, 0), tail: f32(1, 2, 1, 0)}, ErrCorrupt, "value 1 is 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Unmarshal(tc.b.bytes())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if tc.name == "grid scales" && m.Layers[0].Scales[1] != 0.5 {
					t.Fatalf("scales %v", m.Layers[0].Scales)
				}
				if tc.name == "compact std" && (m.Scale[0] != 2 || m.Scale[1] != 1 || m.Mean[0] != 2 || m.Mean[1] != -3.0/128) {
					t.Fatalf("standardisation %v %v", m.Mean, m.Scale)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	// The good stream cut by a byte.
	b := good.bytes()
	cut := withCRC(append(bytes.Clone(b[:len(b)-5]), b[len(b)-4:]...))
	if _, err := Unmarshal(cut); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "range-coded stream") {
		t.Fatalf("cut stream: %v", err)
	}
}

// TestStreamBitFlips flips every bit of a model's range-coded stream,
// checksum repaired: each file must decode to a valid model or fail with
// ErrCorrupt, and most must fail.
func TestStreamBitFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(52, 52))
	m := randomModel(t, rng, netSpec{sizes: []int{16, 8, 3}, sparsity: 0.8, scheme: Scheme{Bits: 4, PerChannel: true}, std: true})
	b := mustMarshal(t, m)
	start := len(b) - trailerLen - 40 // the stream ends the body
	var failed, total int
	for i := start; i < len(b)-trailerLen; i++ {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			got, err := Unmarshal(withCRC(c))
			total++
			switch {
			case err != nil && !errors.Is(err, ErrCorrupt):
				t.Fatalf("byte %d bit %d: %v", i, bit, err)
			case err != nil:
				failed++
			case got.Validate() != nil:
				t.Fatalf("byte %d bit %d: invalid model", i, bit)
			}
		}
	}
	t.Logf("%d of %d flips rejected", failed, total)
	if failed < total/2 {
		t.Errorf("only %d of %d flips rejected", failed, total)
	}
}

// BenchmarkUnmarshal times decoding the two reference networks at
// 90% sparsity and 4 bits, as written (Coded) and with CSR weights, the
// densest plain alternative.
func BenchmarkUnmarshal(b *testing.B) {
	rng := rand.New(rand.NewPCG(53, 53))
	for _, sizes := range [][]int{{64, 64, 32, 10}, {784, 256, 128, 10}} {
		m := randomModel(b, rng, netSpec{sizes: sizes, sparsity: 0.9, scheme: Scheme{Bits: 4, PerChannel: true}, std: true})
		for _, st := range []int{-1, int(CSR)} {
			body := m.appendBodyStorage(appendHeader(nil, KindModel), st)
			enc := appendTrailer(body, 0)
			name := fmt.Sprintf("%d/%s", sizes[0], map[int]string{-1: "coded", int(CSR): "csr"}[st])
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					if _, err := Unmarshal(enc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
