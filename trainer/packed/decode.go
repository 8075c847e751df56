package packed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"
)

// MaxDecodedBytes caps the memory a decoded file may claim: weights are
// held as one int32 code or float32 each, so a sparse file can describe
// far more than its own length (an all-zero layer costs a few bytes).
// 256 MiB holds some 60 million weights. Larger claims fail with
// ErrTooLarge before anything is allocated.
const MaxDecodedBytes = 256 << 20

// Unmarshal decodes a single model. It returns an error wrapping
// ErrCorrupt (ErrChecksum, ErrTruncated) for damaged bytes, ErrVersion for
// another format version, ErrKind for a bundle and ErrTooLarge for a
// model over the limits. It never panics, and the returned model is valid.
// The model does not retain b.
func Unmarshal(b []byte) (*Model, error) { return unmarshalModel(b, MaxDecodedBytes) }

// unmarshalModel is Unmarshal with a decoded-memory budget.
func unmarshalModel(b []byte, budget int64) (*Model, error) {
	body, kind, err := open(b, budget)
	if err != nil {
		return nil, err
	}
	if kind != KindModel {
		return nil, fmt.Errorf("%w: the file holds a %v, not a model", ErrKind, kind)
	}
	d := decoder{b: body, budget: budget}
	m, err := d.model()
	if err != nil {
		return nil, err
	}
	if err := d.end("model"); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalBinary decodes b into m, replacing its contents, as Unmarshal
// does.
func (m *Model) UnmarshalBinary(b []byte) error {
	d, err := Unmarshal(b)
	if err != nil {
		return err
	}
	*m = *d
	return nil
}

// open checks the header and checksum of a packed file and returns its
// body and kind. The checksum is verified before any field after the
// magic is interpreted; when it does not match, the body is parsed only
// to tell a truncated file (and where it stops) from a damaged one.
func open(b []byte, budget int64) ([]byte, Kind, error) {
	if len(b) < len(Magic) {
		if string(b) == Magic[:len(b)] {
			return nil, 0, fmt.Errorf("%w: header: file is %d bytes, the smallest is %d", ErrTruncated, len(b), headerLen+trailerLen)
		}
		return nil, 0, fmt.Errorf("%w: not a packed file (bad magic)", ErrCorrupt)
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, 0, fmt.Errorf("%w: not a packed file (bad magic %q)", ErrCorrupt, b[:len(Magic)])
	}
	if len(b) < headerLen+trailerLen {
		return nil, 0, fmt.Errorf("%w: header: file is %d bytes, the smallest is %d", ErrTruncated, len(b), headerLen+trailerLen)
	}
	n := len(b) - trailerLen
	stored := binary.LittleEndian.Uint32(b[n:])
	computed := crc32.Checksum(b[:n], castagnoli)
	version, kind := b[len(Magic)], Kind(b[len(Magic)+1])
	if stored != computed {
		if version == Version && (kind == KindModel || kind == KindBundle) {
			if err := diagnose(b[headerLen:], kind, budget); err != nil {
				return nil, 0, err
			}
		}
		return nil, 0, fmt.Errorf("%w: stored %#08x, computed %#08x", ErrChecksum, stored, computed)
	}
	if version != Version {
		return nil, 0, fmt.Errorf("%w %d (this build reads %d)", ErrVersion, version, Version)
	}
	if kind != KindModel && kind != KindBundle {
		return nil, 0, fmt.Errorf("%w: header: unknown kind %d", ErrCorrupt, kind)
	}
	return b[headerLen:n], kind, nil
}

// diagnose parses rest (a body and what remains of the checksum) of a file
// whose checksum does not match and returns an ErrTruncated error when the
// file ends early, or nil when it is merely damaged.
func diagnose(rest []byte, kind Kind, budget int64) error {
	d := decoder{b: rest, budget: budget}
	var err error
	if kind == KindModel {
		_, err = d.model()
	} else {
		_, err = d.bundle()
	}
	switch {
	case err != nil && errors.Is(err, ErrTruncated):
		return err
	case err == nil && d.left() < trailerLen:
		return fmt.Errorf("%w: checksum: need %d bytes, %d left", ErrTruncated, trailerLen, d.left())
	}
	return nil
}

// decoder reads a body. Every read checks the remaining length first, and
// every allocation is charged to budget first.
type decoder struct {
	b      []byte
	off    int
	budget int64
	prefix string // names the enclosing member in messages
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) truncated(what string, need int64) error {
	return fmt.Errorf("%w: %s%s: need %d bytes, %d left", ErrTruncated, d.prefix, what, need, d.left())
}

func (d *decoder) corrupt(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s%s: %s", ErrCorrupt, d.prefix, what, fmt.Sprintf(format, args...))
}

func (d *decoder) end(what string) error {
	if d.left() != 0 {
		return d.corrupt(what, "%d unexpected bytes after the end", d.left())
	}
	return nil
}

// charge reserves n bytes of decoded memory.
func (d *decoder) charge(n int64, what string) error {
	if n < 0 || n > d.budget {
		return fmt.Errorf("%w: %s%s: needs %d more bytes of memory, %d allowed (MaxDecodedBytes)", ErrTooLarge, d.prefix, what, n, d.budget)
	}
	d.budget -= n
	return nil
}

func (d *decoder) take(n int64, what string) ([]byte, error) {
	if n < 0 || n > int64(d.left()) {
		return nil, d.truncated(what, n)
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

func (d *decoder) u8(what string) (byte, error) {
	s, err := d.take(1, what)
	if err != nil {
		return 0, err
	}
	return s[0], nil
}

// count reads a uvarint in [lo, hi]; above hi is ErrTooLarge when tooLarge
// is set, else ErrCorrupt.
func (d *decoder) count(what string, lo, hi uint64, tooLarge bool) (int, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n == 0 {
		return 0, d.truncated(what, int64(d.left())+1)
	}
	if n < 0 {
		return 0, d.corrupt(what, "varint overflows 64 bits")
	}
	d.off += n
	switch {
	case v < lo:
		return 0, d.corrupt(what, "%d is below %d", v, lo)
	case v > hi && tooLarge:
		return 0, fmt.Errorf("%w: %s%s: %d (limit %d)", ErrTooLarge, d.prefix, what, v, hi)
	case v > hi:
		return 0, d.corrupt(what, "%d is above %d", v, hi)
	}
	return int(v), nil
}

// f32s reads n float32 values, all finite; with positive set they must be
// > 0, with nonzero set ≠ 0.
func (d *decoder) f32s(n int, what string, positive, nonzero bool) ([]float32, error) {
	if int64(n)*4 > int64(d.left()) {
		return nil, d.truncated(what, int64(n)*4)
	}
	if err := d.charge(int64(n)*4, what); err != nil {
		return nil, err
	}
	raw, _ := d.take(int64(n)*4, what)
	out := make([]float32, n)
	for i := range out {
		v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		switch {
		case math.IsNaN(float64(v)) || math.IsInf(float64(v), 0):
			return nil, d.corrupt(what, "value %d is %v", i, v)
		case positive && !(v > 0):
			return nil, d.corrupt(what, "value %d is %v (want > 0)", i, v)
		case nonzero && v == 0:
			return nil, d.corrupt(what, "value %d is 0", i)
		}
		out[i] = v
	}
	return out, nil
}

// model reads a model body.
func (d *decoder) model() (*Model, error) {
	nl, err := d.count("layer count", 1, MaxLayers, true)
	if err != nil {
		return nil, err
	}
	if err := d.charge(int64(nl+1)*8+int64(nl)*int64(192), "layers"); err != nil {
		return nil, err
	}
	widths := make([]int, nl+1)
	for i := range widths {
		if widths[i], err = d.count(fmt.Sprintf("width %d", i), 1, MaxWidth, true); err != nil {
			return nil, err
		}
	}
	m := &Model{Layers: make([]Layer, nl)}
	act, err := d.u8("activation")
	if err != nil {
		return nil, err
	}
	if m.Act = Activation(act); m.Act != ReLU && m.Act != Tanh {
		return nil, d.corrupt("activation", "unknown activation %d", act)
	}
	flags, err := d.u8("model flags")
	if err != nil {
		return nil, err
	}
	if flags&^flagStandard != 0 {
		return nil, d.corrupt("model flags", "unknown flags %#02x", flags)
	}
	if flags&flagStandard != 0 {
		if m.Mean, err = d.f32s(widths[0], "standardisation mean", false, false); err != nil {
			return nil, err
		}
		if m.Scale, err = d.f32s(widths[0], "standardisation scale", false, true); err != nil {
			return nil, err
		}
	}
	if m.Classes, err = d.labels(widths[nl]); err != nil {
		return nil, err
	}
	for li := range m.Layers {
		if err := d.layer(&m.Layers[li], li, widths[li], widths[li+1]); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil { // every check above should have caught it
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, nil
}

func (d *decoder) labels(c int) ([]string, error) {
	if err := d.charge(int64(c)*16, "class labels"); err != nil {
		return nil, err
	}
	if int64(c) > int64(d.left()) { // every label takes at least one byte
		return nil, d.truncated("class labels", int64(c))
	}
	out := make([]string, c)
	seen := make(map[string]int, c)
	for i := range out {
		what := fmt.Sprintf("class %d", i)
		n, err := d.count(what, 0, MaxLabelLen, true)
		if err != nil {
			return nil, err
		}
		s, err := d.take(int64(n), what)
		if err != nil {
			return nil, err
		}
		if err := d.charge(int64(n), what); err != nil {
			return nil, err
		}
		if !utf8.Valid(s) {
			return nil, d.corrupt(what, "label is not valid UTF-8")
		}
		out[i] = string(s)
		if j, dup := seen[out[i]]; dup {
			return nil, d.corrupt(what, "label %q repeats class %d", out[i], j)
		}
		seen[out[i]] = i
	}
	return out, nil
}

func (d *decoder) layer(l *Layer, li, in, out int) error {
	what := func(s string) string { return fmt.Sprintf("layer %d: %s", li, s) }
	l.In, l.Out = in, out
	bw, err := d.u8(what("bits"))
	if err != nil {
		return err
	}
	switch bw {
	case 2, 3, 4, 5, 6, 8, 16, 32:
	default:
		return d.corrupt(what("bits"), "%d bits (want 2, 3, 4, 5, 6, 8, 16 or 32)", bw)
	}
	flags, err := d.u8(what("flags"))
	if err != nil {
		return err
	}
	storage := Storage(flags & storageMask >> storageShift)
	if flags&^(flagAsymmetric|flagPerChannel|flagActScale|storageMask) != 0 || storage > CSR {
		return d.corrupt(what("flags"), "unknown flags %#02x", flags)
	}
	l.Scheme = Scheme{Bits: int(bw), Asymmetric: flags&flagAsymmetric != 0, PerChannel: flags&flagPerChannel != 0}
	isFloat := bw == 32
	if isFloat && flags&(flagAsymmetric|flagPerChannel|flagActScale) != 0 {
		return d.corrupt(what("flags"), "flags %#02x on a float32 layer", flags)
	}
	if bw > 8 && flags&flagActScale != 0 {
		return d.corrupt(what("flags"), "activation scale on a %d-bit layer", bw)
	}
	lo, hi := l.Scheme.Range()
	if !isFloat {
		groups := 1
		if l.Scheme.PerChannel {
			groups = out
		}
		if l.Scales, err = d.f32s(groups, what("scales"), true, false); err != nil {
			return err
		}
		if l.Scheme.Asymmetric {
			nb := ceil8(int64(groups) * int64(bw))
			if nb > int64(d.left()) {
				return d.truncated(what("zero points"), nb)
			}
			if err := d.charge(int64(groups)*4, what("zero points")); err != nil {
				return err
			}
			raw, _ := d.take(nb, what("zero points"))
			r := bitReader{b: raw}
			l.Zero = make([]int32, groups)
			for g := range l.Zero {
				l.Zero[g] = int32(r.read(uint(bw)))
			}
			if !r.paddingZero() {
				return d.corrupt(what("zero points"), "non-zero padding bits")
			}
		}
	}
	if l.Bias, err = d.f32s(out, what("bias"), false, false); err != nil {
		return err
	}
	if flags&flagActScale != 0 {
		s, err := d.f32s(1, what("activation scale"), true, false)
		if err != nil {
			return err
		}
		l.ActScale = s[0]
	}
	return d.weights(l, what("weights"), storage, lo, hi)
}

// weights reads a layer's weight section.
func (d *decoder) weights(l *Layer, what string, storage Storage, lo, hi int32) error {
	bw := uint(l.Scheme.Width())
	n := int64(l.In) * int64(l.Out)
	isFloat := l.Scheme.IsFloat()
	// value decodes one stored field into weight k, rejecting a stored
	// zero when sparse is set.
	var value func(k int, v uint64, sparse bool) error
	if isFloat {
		value = func(k int, v uint64, sparse bool) error {
			f := math.Float32frombits(uint32(v))
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return d.corrupt(what, "weight %d is %v", k, f)
			}
			if sparse && v == 0 {
				return d.corrupt(what, "weight %d is stored but zero", k)
			}
			l.W[k] = f
			return nil
		}
	} else {
		value = func(k int, v uint64, sparse bool) error {
			q := int32(v)
			if !l.Scheme.Asymmetric && v>>(bw-1) != 0 {
				q = int32(v) - int32(1)<<bw // sign-extend
			}
			if q < lo || q > hi {
				return d.corrupt(what, "code %d is %d (want %d…%d)", k, q, lo, hi)
			}
			if sparse && q == l.zero(k/l.In) {
				return d.corrupt(what, "code %d is stored but zero", k)
			}
			l.Codes[k] = q
			return nil
		}
	}
	// Check what the section needs before allocating the dense matrix.
	var head []byte
	switch storage {
	case Dense:
		if nb := ceil8(n * int64(bw)); nb > int64(d.left()) {
			return d.truncated(what, nb)
		}
	case Bitmask:
		if nb := ceil8(n); nb > int64(d.left()) {
			return d.truncated(what+" mask", nb)
		}
	case CSR:
		var err error
		if head, err = d.take(2, what+" widths"); err != nil {
			return err
		}
		if head[0] > 32 || head[1] > 32 {
			return d.corrupt(what, "field widths %d and %d (limit 32)", head[0], head[1])
		}
		if nb := ceil8(int64(l.Out) * int64(head[0])); nb > int64(d.left()) {
			return d.truncated(what+" row counts", nb)
		}
	}
	if err := d.charge(n*4, what); err != nil {
		return err
	}
	if isFloat {
		l.W = make([]float32, n)
	} else {
		l.Codes = make([]int32, n)
		if l.Zero != nil {
			for j := range l.Out {
				z := l.zero(j)
				row := l.Codes[j*l.In : (j+1)*l.In]
				for i := range row {
					row[i] = z
				}
			}
		}
	}
	rest := d.b[d.off:]
	var used int64 // bits
	switch storage {
	case Dense:
		r := bitReader{b: rest}
		for k := range int(n) {
			if err := value(k, r.read(bw), false); err != nil {
				return err
			}
		}
		used = r.pos
	case Bitmask:
		var nnz int64
		mask := rest[:ceil8(n)]
		for k := range int(n) {
			nnz += int64(mask[k>>3] >> (k & 7) & 1)
		}
		total := n + nnz*int64(bw)
		if nb := ceil8(total); nb > int64(len(rest)) {
			return d.truncated(what, nb)
		}
		vr := bitReader{b: rest, pos: n}
		for k := range int(n) {
			if mask[k>>3]>>(k&7)&1 != 0 {
				if err := value(k, vr.read(bw), true); err != nil {
					return err
				}
			}
		}
		used = total
	case CSR:
		cw, gw := uint(head[0]), uint(head[1])
		cr := bitReader{b: rest}
		var nnz int64
		for j := range l.Out {
			c := cr.read(cw)
			if c > uint64(l.In) {
				return d.corrupt(what, "row %d has %d entries for %d columns", j, c, l.In)
			}
			nnz += int64(c)
		}
		countBits := int64(l.Out) * int64(cw)
		total := countBits + nnz*int64(gw+bw)
		if nb := ceil8(total); nb > int64(len(rest)) {
			return d.truncated(what, nb)
		}
		cr = bitReader{b: rest}
		gr := bitReader{b: rest, pos: countBits}
		vr := bitReader{b: rest, pos: countBits + nnz*int64(gw)}
		for j := range l.Out {
			c := int(cr.read(cw))
			col := -1
			for range c {
				col += int(gr.read(gw)) + 1
				if col >= l.In {
					return d.corrupt(what, "row %d: column %d of %d", j, col, l.In)
				}
				if err := value(j*l.In+col, vr.read(bw), true); err != nil {
					return err
				}
			}
		}
		used = total
	}
	nb := ceil8(used)
	r := bitReader{b: rest[:nb], pos: used}
	if !r.paddingZero() {
		return d.corrupt(what, "non-zero padding bits")
	}
	d.off += int(nb)
	return nil
}

// bitReader reads fields of up to 32 bits, least significant bit first,
// from pos (in bits). Reading past the end yields zero bits; callers check
// lengths first.
type bitReader struct {
	b   []byte
	pos int64
}

func (r *bitReader) read(width uint) uint64 {
	i := r.pos >> 3
	var w uint64
	if i+8 <= int64(len(r.b)) {
		w = binary.LittleEndian.Uint64(r.b[i:])
	} else {
		for k := i; k < int64(len(r.b)) && k < i+8; k++ {
			w |= uint64(r.b[k]) << (8 * (k - i))
		}
	}
	v := (w >> (r.pos & 7)) & (1<<width - 1)
	r.pos += int64(width)
	return v
}

// paddingZero reports whether the bits from pos to the end of the last
// byte are zero.
func (r *bitReader) paddingZero() bool {
	if r.pos&7 == 0 || r.pos>>3 >= int64(len(r.b)) {
		return true
	}
	return r.b[r.pos>>3]>>(r.pos&7) == 0
}
