package packed

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"slices"
)

// Format constants; doc.go lays the format out in full.
const (
	// Magic opens every packed file.
	Magic = "CSPK"
	// Version is the format version this build writes and reads. Files of
	// version 1 are not read.
	Version = 2

	headerLen  = len(Magic) + 2 // magic, version, kind
	trailerLen = 4              // CRC-32C
)

// Kind is the kind byte of a packed file.
type Kind uint8

// The kinds of packed file.
const (
	// KindModel is a single Model.
	KindModel Kind = 1
	// KindBundle is an ensemble Bundle.
	KindBundle Kind = 2
)

// String returns "model" or "bundle".
func (k Kind) String() string {
	switch k {
	case KindModel:
		return "model"
	case KindBundle:
		return "bundle"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Storage is how a layer's weights are laid out in the file. The encoder
// picks, per layer, whichever is smallest (ties go to the earlier one).
type Storage uint8

// The weight storages.
const (
	// Dense stores every code, In·Out values of b bits.
	Dense Storage = 0
	// Bitmask stores one bit per weight (set for a non-zero weight)
	// followed by the non-zero codes.
	Bitmask Storage = 1
	// CSR stores per-row non-zero counts and column gaps at the narrowest
	// fixed widths that fit, followed by the non-zero codes.
	CSR Storage = 2
	// Coded entropy-codes the gaps between successive non-zero weights
	// and their codes in the model's range-coded stream.
	Coded Storage = 3
)

// String returns "dense", "bitmask", "csr" or "coded".
func (s Storage) String() string {
	switch s {
	case Dense:
		return "dense"
	case Bitmask:
		return "bitmask"
	case CSR:
		return "csr"
	case Coded:
		return "coded"
	}
	return fmt.Sprintf("Storage(%d)", uint8(s))
}

// Layer flag bits (doc.go).
const (
	flagAsymmetric = 1 << 0
	flagPerChannel = 1 << 1
	flagActScale   = 1 << 2
	storageShift   = 3
	storageMask    = 3 << storageShift
	flagGridScales = 1 << 5
	flagGridBias   = 1 << 6
	flagStandard   = 1 << 0 // model flags
	flagGridStd    = 1 << 1 // model flags
	flagLogProbs   = 1 << 0 // bundle flags
)

// maxOrder bounds a Coded layer's Exp-Golomb order; flushLen is the
// length of a range coder's flush.
const maxOrder, flushLen = 48, 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LayerLayout describes how one layer's weights are stored.
type LayerLayout struct {
	// Storage is the layout the encoder chose.
	Storage Storage
	// Nonzero counts the stored non-zero weights.
	Nonzero int
	// Bytes is the length of the layer's weight section. For Coded
	// storage, whose weights share the model's range-coded stream, it is
	// the length of its head plus that of a stream holding the weights
	// alone, flush included: their share of the model's stream to within
	// the flush's 4 bytes.
	Bytes int
}

// weightPlan is the encoder's analysis of one layer's weights.
type weightPlan struct {
	storage      Storage
	nnz          int
	countW, gapW uint // CSR field widths
	order        uint // Coded Exp-Golomb order
	bytes        int
	sizes        [4]int // bytes of each storage
}

// plan picks the smallest storage for l.
func plan(l *Layer) weightPlan {
	b := int64(l.Scheme.Width())
	n := int64(l.In) * int64(l.Out)
	var nnz, maxCount, maxGap int
	for j := range l.Out {
		count, prev := 0, -1
		for i := range l.In {
			if l.isZero(j, i) {
				continue
			}
			maxGap = max(maxGap, i-prev-1)
			prev = i
			count++
		}
		maxCount = max(maxCount, count)
		nnz += count
	}
	p := weightPlan{nnz: nnz, countW: uint(bits.Len(uint(maxCount))), gapW: uint(bits.Len(uint(maxGap)))}
	nz := int64(nnz)
	p.sizes[Dense] = int(ceil8(n * b))
	p.sizes[Bitmask] = int(ceil8(n + nz*b))
	p.sizes[CSR] = int(2 + ceil8(int64(l.Out)*int64(p.countW)+nz*(int64(p.gapW)+b)))
	p.sizes[Coded] = math.MaxInt
	head := uvarintLen(uint64(nnz)) + 1
	var scratch []byte
	// Try the order Rice's rule gives for geometric gaps of this mean,
	// ⌊log2(mean·ln 2)⌋, and its neighbours — unless direct-coded fields
	// alone outweigh a plain storage.
	mean := (n - nz) / max(nz, 1)
	r0 := uint(max(bits.Len64(uint64(mean*69/100))-1, 0))
	p.order = r0
	best := min(p.sizes[Dense], p.sizes[Bitmask], p.sizes[CSR])
	if b > treeMax && int64(head)+ceil8(nz*b) >= int64(best) {
		r0 = maxOrder + 2 // skip the loop
	}
	for r := r0 - min(r0, 1); r <= min(r0+1, maxOrder); r++ {
		e := newEncoder(scratch[:0])
		encodeWeights(&e, l, r)
		scratch = e.finish()
		if c := head + len(scratch); c < p.sizes[Coded] {
			p.sizes[Coded], p.order = c, r
		}
	}
	p.storage = Dense
	for s := Bitmask; s <= Coded; s++ {
		if p.sizes[s] < p.sizes[p.storage] {
			p.storage = s
		}
	}
	p.bytes = p.sizes[p.storage]
	return p
}

func ceil8(bits int64) int64 { return (bits + 7) / 8 }

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

// isZero reports whether weight (j, i) is a zero weight: its code equals
// its zero point, or its float32 bits are all zero.
func (l *Layer) isZero(j, i int) bool {
	k := j*l.In + i
	if l.Scheme.IsFloat() {
		return math.Float32bits(l.W[k]) == 0
	}
	return l.Codes[k] == l.zero(j)
}

// value returns the b-bit field stored for weight k.
func (l *Layer) value(k int) uint64 {
	if l.Scheme.IsFloat() {
		return uint64(math.Float32bits(l.W[k]))
	}
	return uint64(uint32(l.Codes[k])) & (1<<l.Scheme.Width() - 1)
}

// encodeWeights codes l's non-zero weights in order of k: the gap from
// the previous one with an Exp-Golomb code of order r, then the field in a
// bit tree (at most treeMax bits) or as direct bits.
func encodeWeights(e *rcEncoder, l *Layer, r uint) {
	var gaps egModel
	var tree treeModel
	gaps.reset()
	tree.reset()
	bw := uint(l.Scheme.Width())
	prev := -1
	for k := range l.In * l.Out {
		if l.isZero(k/l.In, k%l.In) {
			continue
		}
		gaps.encode(e, uint64(k-prev-1), r)
		prev = k
		if bw <= treeMax {
			tree.encode(e, l.value(k), bw)
		} else {
			e.direct(l.value(k), bw)
		}
	}
}

// layerMeta is the encoder's analysis of one layer's metadata: whether
// its scales and biases lie on the compact grids, and their indices.
type layerMeta struct {
	plan       weightPlan
	gridScales bool
	top        float32 // largest scale
	scaleK     []int
	gridBias   bool
	biasExp    int
}

func (l *Layer) meta() layerMeta {
	lm := layerMeta{plan: plan(l)}
	if l.Scheme.Width() > 8 {
		return lm
	}
	if l.Scheme.PerChannel {
		lm.top = slices.Max(l.Scales)
		lm.scaleK = make([]int, len(l.Scales))
		lm.gridScales = true
		for j, s := range l.Scales {
			k, ok := gridIndex(lm.top, s, scaleStep)
			if !ok {
				lm.gridScales = false
				break
			}
			lm.scaleK[j] = k
		}
	}
	lm.biasExp, lm.gridBias = biasGrid(l.Bias)
	return lm
}

// stdMeta is the encoder's analysis of the standardisation: which inputs
// are stored, and whether their scales and means lie on the grids.
type stdMeta struct {
	live  []bool
	grid  bool
	top   float32
	k     []int
	codes []int64
}

func (m *Model) stdMeta() stdMeta {
	sm := stdMeta{live: m.Layers[0].liveInputs(nil)}
	if m.Layers[0].Scheme.Width() > 8 {
		return sm
	}
	for i, ok := range sm.live {
		if ok {
			if !(m.Scale[i] > 0) {
				return sm
			}
			sm.top = max(sm.top, m.Scale[i])
		}
	}
	if sm.top == 0 {
		return sm // no input is stored
	}
	sm.k = make([]int, m.Inputs())
	sm.codes = make([]int64, m.Inputs())
	for i, ok := range sm.live {
		if !ok {
			continue
		}
		k, ok1 := gridIndex(sm.top, m.Scale[i], stdStep)
		c, ok2 := meanCode(m.Mean[i], m.Scale[i])
		if !ok1 || !ok2 {
			return sm
		}
		sm.k[i], sm.codes[i] = k, c
	}
	sm.grid = true
	return sm
}

// Layout reports the storage the encoder chooses for each layer. It
// returns an error wrapping ErrInvalid when m is not valid.
func (m *Model) Layout() ([]LayerLayout, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	metas, _ := m.metas(-1)
	out := make([]LayerLayout, len(m.Layers))
	for i, lm := range metas {
		out[i] = LayerLayout{Storage: lm.plan.storage, Nonzero: lm.plan.nnz, Bytes: lm.plan.bytes}
	}
	return out, nil
}

// metas analyses every layer and the standardisation of a valid m and
// settles each layer's storage: the smallest, where Coded weights are
// charged their stream's 4-byte flush only when nothing else needs the
// stream. A storage ≥ 0 forces that storage on every layer.
func (m *Model) metas(storage int) ([]layerMeta, stdMeta) {
	var sm stdMeta
	if m.Mean != nil {
		sm = m.stdMeta()
	}
	metas := make([]layerMeta, len(m.Layers))
	shared := sm.grid // the stream exists anyway
	for i := range m.Layers {
		metas[i] = m.Layers[i].meta()
		shared = shared || metas[i].gridScales || metas[i].gridBias
	}
	for i := range metas {
		p := &metas[i].plan
		if storage >= 0 {
			p.storage = Storage(storage)
		} else if shared && p.storage != Coded && p.sizes[Coded] != math.MaxInt && p.sizes[Coded]-flushLen < p.sizes[p.storage] {
			p.storage = Coded
		}
		p.bytes = p.sizes[p.storage]
	}
	return metas, sm
}

// Float32Size returns the length of the encoding of m's network with every
// layer's weights stored dense in float32 — same shapes, standardisation
// and labels — the uncompressed reference of a compression ratio:
// Float32Size()/len(MarshalBinary()). m must be valid (it does not
// validate; an invalid m gives a meaningless number).
func (m *Model) Float32Size() int {
	uv := func(v int) int { return len(binary.AppendUvarint(nil, uint64(v))) }
	n := headerLen + trailerLen + uv(len(m.Layers)) + uv(m.Inputs()) + 2
	if m.Mean != nil {
		n += 8 * len(m.Mean)
	}
	for _, c := range m.Classes {
		n += uv(len(c)) + len(c)
	}
	for _, l := range m.Layers {
		n += uv(l.Out) + 2 + 4*l.Out + 4*l.In*l.Out
	}
	return n
}

// MarshalBinary encodes m in the packed format (doc.go). Its length is the
// model's size_bytes. It returns an error wrapping ErrInvalid or
// ErrTooLarge when m is not valid.
func (m *Model) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(nil)
}

// AppendBinary appends the encoding of m to b.
func (m *Model) AppendBinary(b []byte) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	start := len(b)
	b = appendHeader(b, KindModel)
	b = m.appendBody(b)
	return appendTrailer(b, start), nil
}

func appendHeader(b []byte, k Kind) []byte {
	b = append(b, Magic...)
	return append(b, Version, byte(k))
}

func appendTrailer(b []byte, start int) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// appendBody appends the model body (everything between header and
// checksum) of a valid m.
func (m *Model) appendBody(b []byte) []byte { return m.appendBodyStorage(b, -1) }

// appendBodyStorage is appendBody storing every layer's weights as
// storage, or as the encoder chooses when storage is negative (tests
// use it to reach every storage).
func (m *Model) appendBodyStorage(b []byte, storage int) []byte {
	b = binary.AppendUvarint(b, uint64(len(m.Layers)))
	b = binary.AppendUvarint(b, uint64(m.Layers[0].In))
	for i := range m.Layers {
		b = binary.AppendUvarint(b, uint64(m.Layers[i].Out))
	}
	b = append(b, byte(m.Act))
	metas, sm := m.metas(storage)
	var flags byte
	if m.Mean != nil {
		flags |= flagStandard
		if sm.grid {
			flags |= flagGridStd
		}
	}
	b = append(b, flags)
	for _, c := range m.Classes {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	if sm.grid {
		b = appendF32s(b, []float32{sm.top})
	}
	stream := sm.grid
	for i := range m.Layers {
		b = m.Layers[i].appendHead(b, &metas[i])
		stream = stream || metas[i].gridScales || metas[i].gridBias || metas[i].plan.storage == Coded
	}
	if stream {
		e := newEncoder(b)
		for i := range m.Layers {
			m.Layers[i].encodeStream(&e, &metas[i])
		}
		if sm.grid {
			var ks egModel
			var cs intModel
			ks.reset()
			cs.reset()
			for i, ok := range sm.live {
				if ok {
					ks.encode(&e, uint64(sm.k[i]), 0)
					cs.encode(&e, sm.codes[i])
				}
			}
		}
		b = e.finish()
	}
	if m.Mean != nil && !sm.grid {
		for _, v := range [][]float32{m.Mean, m.Scale} {
			for i, ok := range sm.live {
				if ok {
					b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v[i]))
				}
			}
		}
	}
	return b
}

// appendHead appends the plain part of the layer record.
func (l *Layer) appendHead(b []byte, lm *layerMeta) []byte {
	p := lm.plan
	bw := l.Scheme.Width()
	flags := byte(p.storage) << storageShift
	if l.Scheme.Asymmetric {
		flags |= flagAsymmetric
	}
	if l.Scheme.PerChannel {
		flags |= flagPerChannel
	}
	if l.ActScale != 0 {
		flags |= flagActScale
	}
	if lm.gridScales {
		flags |= flagGridScales
	}
	if lm.gridBias {
		flags |= flagGridBias
	}
	b = append(b, byte(bw), flags)
	if !l.Scheme.IsFloat() {
		if lm.gridScales {
			b = appendF32s(b, []float32{lm.top})
		} else {
			b = appendF32s(b, l.Scales)
		}
		if l.Scheme.Asymmetric {
			w := bitWriter{b: b}
			for _, z := range l.Zero {
				w.write(uint64(z), uint(bw))
			}
			b = w.flush()
		}
	}
	if lm.gridBias {
		b = append(b, byte(int8(lm.biasExp)))
	} else {
		b = appendF32s(b, l.Bias)
	}
	if l.ActScale != 0 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(l.ActScale))
	}
	n := l.In * l.Out
	switch p.storage {
	case Dense:
		w := bitWriter{b: b}
		for k := range n {
			w.write(l.value(k), uint(bw))
		}
		return w.flush()
	case Bitmask:
		w := bitWriter{b: b}
		for k := range n {
			if l.isZero(k/l.In, k%l.In) {
				w.write(0, 1)
			} else {
				w.write(1, 1)
			}
		}
		for k := range n {
			if !l.isZero(k/l.In, k%l.In) {
				w.write(l.value(k), uint(bw))
			}
		}
		return w.flush()
	case Coded:
		b = binary.AppendUvarint(b, uint64(p.nnz))
		return append(b, byte(p.order))
	}
	b = append(b, byte(p.countW), byte(p.gapW))
	w := bitWriter{b: b}
	for j := range l.Out {
		count := 0
		for i := range l.In {
			if !l.isZero(j, i) {
				count++
			}
		}
		w.write(uint64(count), p.countW)
	}
	for j := range l.Out {
		prev := -1
		for i := range l.In {
			if !l.isZero(j, i) {
				w.write(uint64(i-prev-1), p.gapW)
				prev = i
			}
		}
	}
	for k := range n {
		if !l.isZero(k/l.In, k%l.In) {
			w.write(l.value(k), uint(bw))
		}
	}
	return w.flush()
}

// encodeStream codes the layer's part of the model's stream: grid scale
// indices, bias codes and Coded weights, each section with fresh models.
func (l *Layer) encodeStream(e *rcEncoder, lm *layerMeta) {
	if lm.gridScales {
		var ks egModel
		ks.reset()
		for _, k := range lm.scaleK {
			ks.encode(e, uint64(k), 0)
		}
	}
	if lm.gridBias {
		var cs intModel
		cs.reset()
		for _, v := range l.Bias {
			cs.encode(e, int64(math.Ldexp(float64(v), -lm.biasExp)))
		}
	}
	if lm.plan.storage == Coded {
		encodeWeights(e, l, lm.plan.order)
	}
}

func appendF32s(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// bitWriter appends fields of up to 32 bits to b, least significant bit
// first.
type bitWriter struct {
	b   []byte
	acc uint64
	n   uint
}

func (w *bitWriter) write(v uint64, width uint) {
	w.acc |= (v & (1<<width - 1)) << w.n
	w.n += width
	for w.n >= 8 {
		w.b = append(w.b, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// flush pads the last byte with zero bits and returns the buffer.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.b = append(w.b, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.b
}
