package packed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// modelCases covers every scheme, activation, storage and option.
func modelCases() []struct {
	name string
	ns   netSpec
} {
	type tc = struct {
		name string
		ns   netSpec
	}
	var out []tc
	for i, s := range allSchemes() {
		out = append(out, tc{s.String(), netSpec{sizes: []int{7, 9, 3}, sparsity: []float64{0, 0.5, 0.9}[i%3], scheme: s, act: Activation(i % 2), std: i%2 == 0, actScale: i%4 == 1}})
	}
	out = append(out,
		tc{"float32 dense", netSpec{sizes: []int{5, 4, 2}, scheme: Scheme{Bits: 32}, std: true}},
		tc{"float32 sparse", netSpec{sizes: []int{30, 20, 4}, sparsity: 0.95, scheme: Scheme{}, act: Tanh}},
		tc{"4-bit 90% wide", netSpec{sizes: []int{64, 64, 32, 10}, sparsity: 0.9, scheme: Scheme{Bits: 4, PerChannel: true}, std: true}},
		tc{"one layer", netSpec{sizes: []int{3, 2}, scheme: Scheme{Bits: 2}}},
		tc{"all pruned", netSpec{sizes: []int{6, 5, 3}, sparsity: 1, scheme: Scheme{Bits: 3, Asymmetric: true, PerChannel: true}}},
		tc{"all pruned standardised", netSpec{sizes: []int{6, 5, 3}, sparsity: 1, scheme: Scheme{Bits: 4, PerChannel: true}, std: true}},
		tc{"16-bit first layer standardised", netSpec{sizes: []int{12, 8, 3}, sparsity: 0.9, scheme: Scheme{Bits: 16}, std: true}},
	)
	return out
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, tc := range modelCases() {
		t.Run(tc.name, func(t *testing.T) {
			m := randomModel(t, rng, tc.ns)
			b := mustMarshal(t, m)
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("decoded model differs:\n got %+v\nwant %+v", got, m)
			}
			if b2 := mustMarshal(t, got); !bytes.Equal(b, b2) {
				t.Fatal("re-encoding differs")
			}
			var via Model
			if err := via.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(&via, m) {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			c, err := Parse(b)
			if err != nil || !reflect.DeepEqual(c, Classifier(m)) {
				t.Fatalf("Parse: %v", err)
			}
			// Every storage decodes to the same model; the encoder's
			// choice is the smallest.
			for st := Dense; st <= Coded; st++ {
				forced := appendTrailer(m.appendBodyStorage(appendHeader(nil, KindModel), int(st)), 0)
				got, err := Unmarshal(forced)
				if err != nil || !reflect.DeepEqual(got, m) {
					t.Fatalf("stored as %v: %v", st, err)
				}
				if len(forced) < len(b) {
					t.Fatalf("stored as %v: %d bytes, the encoder's choice %d", st, len(forced), len(b))
				}
			}
			// Weight sections add up with the fixed fields to the length.
			lays, err := m.Layout()
			if err != nil {
				t.Fatal(err)
			}
			var ws int
			for _, l := range lays {
				ws += l.Bytes
			}
			if ws >= len(b) {
				t.Fatalf("weights %d bytes of %d", ws, len(b))
			}
		})
	}
}

func TestStorageChoice(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	tests := []struct {
		sparsity float64
		bits     int
		want     Storage
	}{
		{0, 8, Dense},
		{0, 32, Dense},
		{0.5, 32, Bitmask},
		{0.5, 4, Coded},
		{0.9, 4, Coded},
		{0.9, 32, Coded},
		{0.99, 2, Coded},
		{1, 4, CSR},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%d", tc.sparsity, tc.bits), func(t *testing.T) {
			m := randomModel(t, rng, netSpec{sizes: []int{200, 100}, sparsity: tc.sparsity, scheme: Scheme{Bits: tc.bits}})
			lays, err := m.Layout()
			if err != nil {
				t.Fatal(err)
			}
			lay := lays[0]
			if lay.Storage != tc.want {
				t.Fatalf("storage %v, want %v", lay.Storage, tc.want)
			}
			p := plan(&m.Layers[0])
			for s, size := range p.sizes {
				if lay.Bytes > size {
					t.Fatalf("%d bytes chosen, %v takes %d", lay.Bytes, Storage(s), size)
				}
			}
			b := int64(tc.bits)
			n := int64(200 * 100)
			nz := int64(lay.Nonzero)
			for _, alt := range []int64{ceil8(n * b), ceil8(n + nz*b)} {
				if int64(lay.Bytes) > alt {
					t.Fatalf("%d bytes chosen, %d possible", lay.Bytes, alt)
				}
			}
		})
	}
}

// TestSizeRatio reports the packed size of the reference network
// (64-64-32-10, digits-shaped inputs with standardisation, 90% sparsity,
// 4-bit per-channel symmetric) against the same encoding at 32 bits dense.
func TestSizeRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	ns := netSpec{sizes: []int{64, 64, 32, 10}, scheme: Scheme{Bits: 32}, std: true}
	layers := randomLayers(rng, ns)
	mean, scale := make([]float32, 64), make([]float32, 64)
	for i := range mean {
		mean[i], scale[i] = 16*rng.Float32(), 1+5*rng.Float32()
	}
	classes := labels(10)
	for i := range classes {
		classes[i] = fmt.Sprint(i)
	}
	dense, err := FromFloat(layers, ReLU, mean, scale, classes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range layers {
		prune(layers[i].W, 0.9)
		layers[i].Scheme = Scheme{Bits: 4, PerChannel: true}
	}
	small, err := FromFloat(layers, ReLU, mean, scale, classes)
	if err != nil {
		t.Fatal(err)
	}
	db, sb := len(mustMarshal(t, dense)), len(mustMarshal(t, small))
	if f := small.Float32Size(); f != db {
		t.Errorf("Float32Size %d, dense float32 encoding %d", f, db)
	}
	lays, err := small.Layout()
	if err != nil {
		t.Fatal(err)
	}
	var weights, nz int
	for _, l := range lays {
		if l.Storage != Coded {
			t.Errorf("storage %v, want coded", l.Storage)
		}
		weights += l.Bytes
		nz += l.Nonzero
	}
	t.Logf("float32 dense %d bytes; 90%%/4-bit %d bytes (ratio 1/%.1f): weights about %d bytes for %d non-zeros (%.1f bits each), "+
		"the rest %d bytes", db, sb, float64(db)/float64(sb), weights, nz, 8*float64(weights)/float64(nz), sb-weights)
	// The bar.
	if sb*25 > db {
		t.Errorf("packed %d bytes, more than 1/25 of %d", sb, db)
	}
	// Positions and codes cost at most 8 bits a non-zero: the entropy of
	// the positions is 4.7 bits, the codes' under 4.
	if weights > nz {
		t.Errorf("weights %d bytes for %d non-zeros", weights, nz)
	}
}

// withCRC returns b with its trailing checksum recomputed.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) >= trailerLen {
		n := len(b) - trailerLen
		binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], castagnoli))
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	m := randomModel(t, rng, netSpec{sizes: []int{20, 10, 3}, sparsity: 0.9, scheme: Scheme{Bits: 4, Asymmetric: true, PerChannel: true}, std: true})
	good := mustMarshal(t, m)
	bundle := mustMarshal(t, &Bundle{Members: []*Model{m, m}, Method: Vote})
	set := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return withCRC(b)
	}
	tests := []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "header"},
		{"magic only", []byte("CSPK"), ErrTruncated, "header"},
		{"not ours", []byte("PK\x03\x04 a zip file"), ErrCorrupt, "bad magic"},
		{"checksum", append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1), ErrChecksum, "checksum mismatch"},
		{"flipped body byte", func() []byte { b := bytes.Clone(good); b[20] ^= 0x10; return b }(), ErrChecksum, ""},
		{"future version", set(4, 7), ErrVersion, "packed: unsupported format version 7 (this build reads 2)"},
		{"unknown kind", set(5, 9), ErrCorrupt, "unknown kind 9"},
		{"bundle as model", bundle, ErrKind, "holds a bundle"},
		{"trailing bytes", withCRC(append(bytes.Clone(good[:len(good)-4]), 0, 0, 0, 0, 0)), ErrCorrupt, "unexpected bytes"},
		{"bad activation", set(headerLen+4, 7), ErrCorrupt, "activation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %q, want it to mention %q", err, tc.msg)
			}
		})
	}
	if _, err := UnmarshalBundle(good); !errors.Is(err, ErrKind) {
		t.Errorf("model as bundle: %v", err)
	}
}

// TestTruncation cuts a model and a bundle at every length: each must fail
// with ErrTruncated naming where the file ends.
func TestTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	m := randomModel(t, rng, netSpec{sizes: []int{12, 8, 3}, sparsity: 0.6, scheme: Scheme{Bits: 5, Asymmetric: true}, std: true, actScale: true})
	m2 := randomModel(t, rng, netSpec{sizes: []int{12, 4, 3}, sparsity: 0.95, scheme: Scheme{Bits: 3, PerChannel: true}})
	m2.Classes = m.Classes
	for _, enc := range []struct {
		name string
		b    []byte
	}{
		{"model", mustMarshal(t, m)},
		{"bundle", mustMarshal(t, &Bundle{Members: []*Model{m, m2}, Method: Stack, Coef: make([]float32, 3*2*3), Intercept: make([]float32, 3), LogProbs: true})},
	} {
		t.Run(enc.name, func(t *testing.T) {
			sections := map[string]bool{}
			for n := range len(enc.b) {
				c, err := Parse(enc.b[:n])
				if c != nil || !errors.Is(err, ErrTruncated) {
					t.Fatalf("cut at %d of %d: err = %v, want ErrTruncated", n, len(enc.b), err)
				}
				msg := err.Error()
				sections[msg[:strings.LastIndex(msg, ": need")+1]] = true
			}
			if len(sections) < 8 {
				t.Errorf("only %d distinct sections named: %v", len(sections), sections)
			}
		})
	}
}

// TestAllocationCap crafts files whose few bytes claim huge layers: the
// decoder must refuse them before allocating.
func TestAllocationCap(t *testing.T) {
	craft := func(widths []int, storage Storage) []byte {
		if storage == Coded { // nnz 0, order 0, an empty stream
			return body{in: widths[0], out: widths[1], layer: cat([]byte{4, byte(Coded) << storageShift}, f32(1), make([]byte, 4*widths[1]), []byte{0, 0}), stream: func(*rcEncoder) {}}.bytes()
		}
		b := appendHeader(nil, KindModel)
		b = binary.AppendUvarint(b, uint64(len(widths)-1))
		for _, w := range widths {
			b = binary.AppendUvarint(b, uint64(w))
		}
		b = append(b, 0, 0) // relu, no standardisation
		for i := range widths[len(widths)-1] {
			l := fmt.Sprint(i)
			b = binary.AppendUvarint(b, uint64(len(l)))
			b = append(b, l...)
		}
		b = append(b, 4, byte(storage)<<storageShift)
		b = appendF32s(b, []float32{1})
		b = appendF32s(b, make([]float32, widths[1]))
		b = append(b, 0, 0) // CSR widths 0, 0: every row empty
		return appendTrailer(b, 0)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"huge sparse layer", craft([]int{1 << 24, 1 << 10}, CSR), ErrTooLarge},
		{"width over limit", craft([]int{1<<24 + 1, 2}, CSR), ErrTooLarge},
		{"huge dense layer", craft([]int{1 << 20, 1 << 10}, Dense), ErrTruncated},
		{"huge coded layer", craft([]int{1 << 24, 1 << 10}, Coded), ErrTooLarge},
		{"coded layer", craft([]int{1 << 10, 1 << 10}, Coded), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Unmarshal(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFromFloatErrors(t *testing.T) {
	ok := func() []LayerSpec {
		return []LayerSpec{
			{W: []float32{1, 0, -1, 0.5, 0.25, 0}, B: []float32{0, 0}, In: 3, Out: 2, Scheme: Scheme{Bits: 4}},
			{W: []float32{1, -1}, B: []float32{0}, In: 2, Out: 1, Scheme: Scheme{Bits: 8}},
		}
	}
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		edit    func(l []LayerSpec) []LayerSpec
		mean    []float32
		scale   []float32
		classes []string
		msg     string
	}{
		{"valid", func(l []LayerSpec) []LayerSpec { return l }, nil, nil, []string{"a"}, ""},
		{"no layers", func([]LayerSpec) []LayerSpec { return nil }, nil, nil, nil, "no layers"},
		{"bad bits", func(l []LayerSpec) []LayerSpec { l[0].Scheme.Bits = 7; return l }, nil, nil, []string{"a"}, "7 bits"},
		{"short weights", func(l []LayerSpec) []LayerSpec { l[0].W = l[0].W[:5]; return l }, nil, nil, []string{"a"}, "layer 0"},
		{"chain", func(l []LayerSpec) []LayerSpec { l[1].In, l[1].W = 1, l[1].W[:1]; return l }, nil, nil, []string{"a"}, "1 inputs after 2 outputs"},
		{"NaN weight", func(l []LayerSpec) []LayerSpec { l[1].W[1] = nan; return l }, nil, nil, []string{"a"}, "layer 1"},
		{"NaN float weight", func(l []LayerSpec) []LayerSpec { l[1].Scheme = Scheme{}; l[1].W[0] = nan; return l }, nil, nil, []string{"a"}, "weight 0"},
		{"Inf bias", func(l []LayerSpec) []LayerSpec { l[0].B[1] = float32(math.Inf(1)); return l }, nil, nil, []string{"a"}, "bias 1"},
		{"act scale on float", func(l []LayerSpec) []LayerSpec { l[1].Scheme, l[1].ActScale = Scheme{Bits: 32}, 1; return l }, nil, nil, []string{"a"}, "activation scale"},
		{"act scale on 16 bits", func(l []LayerSpec) []LayerSpec { l[1].Scheme, l[1].ActScale = Scheme{Bits: 16}, 1; return l }, nil, nil, []string{"a"}, "activation scale"},
		{"negative act scale", func(l []LayerSpec) []LayerSpec { l[0].ActScale = -1; return l }, nil, nil, []string{"a"}, "activation scale"},
		{"classes", func(l []LayerSpec) []LayerSpec { return l }, nil, nil, []string{"a", "b"}, "2 class labels for 1 outputs"},
		{"duplicate classes", func(l []LayerSpec) []LayerSpec {
			l[1].Out, l[1].W, l[1].B = 2, []float32{1, 1, 1, 1}, []float32{0, 0}
			return l
		}, nil, nil, []string{"a", "a"}, "both"},
		{"bad UTF-8", func(l []LayerSpec) []LayerSpec { return l }, nil, nil, []string{"\xff"}, "UTF-8"},
		{"mean only", func(l []LayerSpec) []LayerSpec { return l }, []float32{0, 0, 0}, nil, []string{"a"}, "standardisation"},
		{"zero scale", func(l []LayerSpec) []LayerSpec { return l }, []float32{0, 0, 0}, []float32{1, 0, 1}, []string{"a"}, "scale 1"},
		{"activation", func(l []LayerSpec) []LayerSpec { return l }, nil, nil, []string{"a"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromFloat(tc.edit(ok()), ReLU, tc.mean, tc.scale, tc.classes)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.msg)
			}
		})
	}
	if _, err := FromFloat(ok(), Activation(5), nil, nil, []string{"a"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("activation 5: %v", err)
	}
}

func TestFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	m := randomModel(t, rng, netSpec{sizes: []int{8, 6, 3}, sparsity: 0.5, scheme: Scheme{Bits: 6}, std: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "m.cpk")
	n, err := WriteFile(path, m)
	if err != nil {
		t.Fatal(err)
	}
	if b := mustMarshal(t, m); n != len(b) {
		t.Fatalf("WriteFile reported %d bytes, encoding is %d", n, len(b))
	}
	got, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("ReadFile: %v", err)
	}
	c, err := Load(path)
	if err != nil || !reflect.DeepEqual(c, Classifier(m)) {
		t.Fatalf("Load: %v", err)
	}
	if _, err := ReadBundleFile(path); !errors.Is(err, ErrKind) {
		t.Fatalf("ReadBundleFile on a model: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	b := mustMarshal(t, m)
	if _, err := Decode(bytes.NewReader(b), int64(len(b)-1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode over the cap: %v", err)
	}
	if c, err := Decode(bytes.NewReader(b), 0); err != nil || !reflect.DeepEqual(c, Classifier(m)) {
		t.Fatalf("Decode: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// seedEncodings returns real encodings of models and bundles of every
// scheme and storage.
func seedEncodings(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(16, 16))
	var out [][]byte
	var members []*Model
	for _, tc := range modelCases() {
		ns := tc.ns
		if ns.sizes[0] > 20 {
			continue
		}
		m := randomModel(t, rng, ns)
		out = append(out, mustMarshal(t, m))
		for st := Dense; st <= Coded; st++ { // every storage, whatever the encoder picks
			out = append(out, appendTrailer(m.appendBodyStorage(appendHeader(nil, KindModel), int(st)), 0))
		}
		if len(ns.sizes) == 3 && ns.sizes[0] == 7 && len(members) < 3 {
			members = append(members, m)
		}
	}
	for _, b := range []*Bundle{
		{Members: members},
		{Members: members[:2], Weights: []float32{0.25, 0.75}},
		{Members: members, Method: Vote},
		{Members: members[:1], Method: Stack, Coef: make([]float32, 9), Intercept: []float32{1, 2, 3}, LogProbs: true},
	} {
		out = append(out, mustMarshal(t, b))
	}
	return out
}

// FuzzUnmarshal feeds arbitrary bytes to the decoders, both as given and
// with the checksum repaired so that mutations reach the parser. Whatever
// decodes must re-encode to bytes that decode to an equal value and
// re-encode identically, and must run without panicking. The decoded-
// memory budget is 16 MiB rather than MaxDecodedBytes: a few bytes can
// claim the full budget, and decoding 256 MiB of weights per execution
// would stall the fuzzer (TestAllocationCap covers the real limit).
const fuzzBudget = 16 << 20

func FuzzUnmarshal(f *testing.F) {
	for _, b := range seedEncodings(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, withCRC(b)} {
			c, err := parse(in, fuzzBudget)
			if err != nil {
				if c != nil {
					t.Fatal("value with error")
				}
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error class: %v", err)
				}
				continue
			}
			enc, err := c.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded value does not encode: %v", err)
			}
			c2, err := Parse(enc)
			if err != nil {
				t.Fatalf("re-encoding does not decode: %v", err)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Fatal("re-decoded value differs")
			}
			if enc2, _ := c2.MarshalBinary(); !bytes.Equal(enc, enc2) {
				t.Fatal("second encoding differs")
			}
			if weights(c) <= 1<<16 {
				x := make([]float32, 2*c.Inputs())
				for i := range x {
					x[i] = float32(i%7) - 3
				}
				dst := make([]float32, 2*len(c.Labels()))
				if err := c.Proba(dst, x, 2); err != nil {
					t.Fatalf("Proba: %v", err)
				}
			}
		}
	})
}

// weights counts the weights a classifier holds.
func weights(c Classifier) int {
	var ms []*Model
	switch v := c.(type) {
	case *Model:
		ms = []*Model{v}
	case *Bundle:
		ms = v.Members
	}
	n := 0
	for _, m := range ms {
		for _, l := range m.Layers {
			n += l.In * l.Out
		}
	}
	return n
}
