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

// layerPending is what the plain part of a layer record leaves for the
// range-coded stream.
type layerPending struct {
	gridScales bool
	top        float32 // largest scale (grid scales)
	gridBias   bool
	biasExp    int
	coded      bool
	nnz        int
	order      uint
	lo, hi     int32 // code range
}

func (p *layerPending) inStream() bool { return p.gridScales || p.gridBias || p.coded }

// model reads a model body.
func (d *decoder) model() (*Model, error) {
	nl, err := d.count("layer count", 1, MaxLayers, true)
	if err != nil {
		return nil, err
	}
	if err := d.charge(int64(nl+1)*8+int64(nl)*int64(256), "layers"); err != nil {
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
	if flags&^(flagStandard|flagGridStd) != 0 || flags == flagGridStd {
		return nil, d.corrupt("model flags", "unknown flags %#02x", flags)
	}
	if m.Classes, err = d.labels(widths[nl]); err != nil {
		return nil, err
	}
	var stdTop float32
	if flags&flagGridStd != 0 {
		top, err := d.f32s(1, "standardisation scale maximum", true, false)
		if err != nil {
			return nil, err
		}
		stdTop = top[0]
	}
	pend := make([]layerPending, nl)
	stream := flags&flagGridStd != 0
	for li := range m.Layers {
		if err := d.layer(&m.Layers[li], &pend[li], li, widths[li], widths[li+1]); err != nil {
			return nil, err
		}
		stream = stream || pend[li].inStream()
	}
	if flags&flagGridStd != 0 && m.Layers[0].Scheme.Width() > 8 {
		return nil, d.corrupt("model flags", "compact standardisation with a %d-bit first layer", m.Layers[0].Scheme.Width())
	}
	var live []bool
	if flags&flagStandard != 0 {
		if err := d.charge(int64(widths[0])*9, "standardisation"); err != nil {
			return nil, err
		}
		m.Mean, m.Scale = make([]float32, widths[0]), make([]float32, widths[0])
		for i := range m.Scale {
			m.Scale[i] = 1
		}
	}
	if stream {
		rc := newDecoder(d.b[d.off:])
		for li := range m.Layers {
			if err := d.layerStream(&rc, &m.Layers[li], &pend[li], li); err != nil {
				return nil, err
			}
		}
		if flags&flagStandard != 0 {
			live = m.Layers[0].liveInputs(nil)
		}
		if flags&flagGridStd != 0 {
			if err := d.stdStream(&rc, m, live, stdTop); err != nil {
				return nil, err
			}
		}
		if rc.over {
			return nil, d.truncated("range-coded stream", int64(rc.pos))
		}
		if !rc.finished() {
			return nil, d.corrupt("range-coded stream", "does not end where a flush ends")
		}
		d.off += rc.pos
	}
	if flags&flagStandard != 0 && flags&flagGridStd == 0 {
		if live == nil {
			live = m.Layers[0].liveInputs(nil)
		}
		var n int
		for _, ok := range live {
			n += b2i(ok)
		}
		if int64(n)*8 > int64(d.left()) {
			return nil, d.truncated("standardisation", int64(n)*8)
		}
		mean, err := d.f32s(n, "standardisation mean", false, false)
		if err != nil {
			return nil, err
		}
		scale, err := d.f32s(n, "standardisation scale", false, true)
		if err != nil {
			return nil, err
		}
		for i, k := 0, 0; i < len(live); i++ {
			if live[i] {
				m.Mean[i], m.Scale[i] = mean[k], scale[k]
				k++
			}
		}
	}
	if err := m.Validate(); err != nil { // every check above should have caught it
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stdStream decodes the compact standardisation of the live inputs.
func (d *decoder) stdStream(rc *rcDecoder, m *Model, live []bool, top float32) error {
	const what = "range-coded stream: standardisation"
	var ks egModel
	var cs intModel
	ks.reset()
	cs.reset()
	minK := gridMaxK + 1
	for i, ok := range live {
		if !ok {
			continue
		}
		k, ok1 := ks.decode(rc, 0)
		c, ok2 := cs.decode(rc, maxMeanCode)
		if rc.over {
			return d.truncated(what, int64(rc.pos))
		}
		if !ok1 || k > gridMaxK/stdStep || !ok2 {
			return d.corrupt(what, "input %d: index or code out of range", i)
		}
		s := gridValue(top, int(k), stdStep)
		mu := meanValue(c, s)
		if !(s > 0) || math.IsInf(float64(mu), 0) {
			return d.corrupt(what, "input %d: scale %v, mean %v", i, s, mu)
		}
		m.Scale[i], m.Mean[i] = s, mu
		minK = min(minK, int(k))
	}
	if minK != 0 {
		return d.corrupt(what, "no scale is the maximum")
	}
	return nil
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

// layer reads the plain part of a layer record, allocating the layer's
// weights and leaving what the stream holds to layerStream.
func (d *decoder) layer(l *Layer, p *layerPending, li, in, out int) error {
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
	if flags&^(flagAsymmetric|flagPerChannel|flagActScale|storageMask|flagGridScales|flagGridBias) != 0 {
		return d.corrupt(what("flags"), "unknown flags %#02x", flags)
	}
	l.Scheme = Scheme{Bits: int(bw), Asymmetric: flags&flagAsymmetric != 0, PerChannel: flags&flagPerChannel != 0}
	isFloat := bw == 32
	if isFloat && flags&(flagAsymmetric|flagPerChannel|flagActScale) != 0 {
		return d.corrupt(what("flags"), "flags %#02x on a float32 layer", flags)
	}
	if bw > 8 && flags&(flagActScale|flagGridScales|flagGridBias) != 0 {
		return d.corrupt(what("flags"), "flags %#02x on a %d-bit layer", flags, bw)
	}
	if flags&flagGridScales != 0 && !l.Scheme.PerChannel {
		return d.corrupt(what("flags"), "grid scales on a per-tensor layer")
	}
	p.gridScales, p.gridBias = flags&flagGridScales != 0, flags&flagGridBias != 0
	p.lo, p.hi = l.Scheme.Range()
	if !isFloat {
		groups := 1
		if l.Scheme.PerChannel {
			groups = out
		}
		if p.gridScales {
			top, err := d.f32s(1, what("scale maximum"), true, false)
			if err != nil {
				return err
			}
			p.top = top[0]
			if err := d.charge(int64(groups)*4, what("scales")); err != nil {
				return err
			}
			l.Scales = make([]float32, groups)
		} else if l.Scales, err = d.f32s(groups, what("scales"), true, false); err != nil {
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
	if p.gridBias {
		e, err := d.u8(what("bias exponent"))
		if err != nil {
			return err
		}
		p.biasExp = int(int8(e))
		if err := d.charge(int64(out)*4, what("bias")); err != nil {
			return err
		}
		l.Bias = make([]float32, out)
	} else if l.Bias, err = d.f32s(out, what("bias"), false, false); err != nil {
		return err
	}
	if flags&flagActScale != 0 {
		s, err := d.f32s(1, what("activation scale"), true, false)
		if err != nil {
			return err
		}
		l.ActScale = s[0]
	}
	if storage == Coded {
		n := int64(in) * int64(out)
		nnz, err := d.count(what("weights: non-zero count"), 0, uint64(n), false)
		if err != nil {
			return err
		}
		order, err := d.u8(what("weights: order"))
		if err != nil {
			return err
		}
		if order > maxOrder {
			return d.corrupt(what("weights: order"), "%d (limit %d)", order, maxOrder)
		}
		p.coded, p.nnz, p.order = true, nnz, uint(order)
		return d.allocWeights(l, what("weights"))
	}
	return d.weights(l, what("weights"), storage, p.lo, p.hi)
}

// allocWeights charges and allocates the layer's weight matrix, every
// weight zero.
func (d *decoder) allocWeights(l *Layer, what string) error {
	n := int64(l.In) * int64(l.Out)
	if err := d.charge(n*4, what); err != nil {
		return err
	}
	if l.Scheme.IsFloat() {
		l.W = make([]float32, n)
		return nil
	}
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
	return nil
}

// valueFunc returns the function that stores one field into weight k,
// rejecting a stored zero when sparse is set.
func (d *decoder) valueFunc(l *Layer, what string, lo, hi int32) func(k int, v uint64, sparse bool) error {
	bw := uint(l.Scheme.Width())
	if l.Scheme.IsFloat() {
		return func(k int, v uint64, sparse bool) error {
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
	}
	return func(k int, v uint64, sparse bool) error {
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

// layerStream decodes the layer's part of the range-coded stream.
func (d *decoder) layerStream(rc *rcDecoder, l *Layer, p *layerPending, li int) error {
	what := func(s string) string { return fmt.Sprintf("range-coded stream: layer %d: %s", li, s) }
	if p.gridScales {
		var ks egModel
		ks.reset()
		minK := gridMaxK + 1
		for j := range l.Scales {
			k, ok := ks.decode(rc, 0)
			if rc.over {
				return d.truncated(what("scales"), int64(rc.pos))
			}
			if !ok || k > gridMaxK/scaleStep {
				return d.corrupt(what("scales"), "row %d: grid index out of range", j)
			}
			if l.Scales[j] = gridValue(p.top, int(k), scaleStep); !(l.Scales[j] > 0) {
				return d.corrupt(what("scales"), "row %d: scale underflows", j)
			}
			minK = min(minK, int(k))
		}
		if minK != 0 {
			return d.corrupt(what("scales"), "no scale is the maximum")
		}
	}
	if p.gridBias {
		var cs intModel
		cs.reset()
		for j := range l.Bias {
			c, ok := cs.decode(rc, maxBiasCode)
			if rc.over {
				return d.truncated(what("bias"), int64(rc.pos))
			}
			if !ok {
				return d.corrupt(what("bias"), "code %d out of range", j)
			}
			if l.Bias[j] = biasValue(c, p.biasExp); math.IsInf(float64(l.Bias[j]), 0) {
				return d.corrupt(what("bias"), "bias %d overflows", j)
			}
		}
	}
	if !p.coded {
		return nil
	}
	value := d.valueFunc(l, what("weights"), p.lo, p.hi)
	var gaps egModel
	var tree treeModel
	gaps.reset()
	tree.reset()
	bw := uint(l.Scheme.Width())
	n := uint64(l.In) * uint64(l.Out)
	k := uint64(0) // next free position
	for t := range p.nnz {
		g, ok := gaps.decode(rc, p.order)
		if rc.over {
			return d.truncated(what("weights"), int64(rc.pos))
		}
		if !ok || g >= n-k {
			return d.corrupt(what("weights"), "non-zero %d of %d lies past the %d weights", t, p.nnz, n)
		}
		k += g
		var v uint64
		if bw <= treeMax {
			v = tree.decode(rc, bw)
		} else {
			v = rc.direct(bw)
		}
		if err := value(int(k), v, true); err != nil {
			return err
		}
		k++
	}
	if rc.over {
		return d.truncated(what("weights"), int64(rc.pos))
	}
	return nil
}

// weights reads a plain (dense, bitmask or CSR) weight section.
func (d *decoder) weights(l *Layer, what string, storage Storage, lo, hi int32) error {
	bw := uint(l.Scheme.Width())
	n := int64(l.In) * int64(l.Out)
	value := d.valueFunc(l, what, lo, hi)
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
	if err := d.allocWeights(l, what); err != nil {
		return err
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
