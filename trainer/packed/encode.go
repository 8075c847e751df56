package packed

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
)

// Format constants; doc.go lays the format out in full.
const (
	// Magic opens every packed file.
	Magic = "CSPK"
	// Version is the format version this build writes and reads.
	Version = 1

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
)

// String returns "dense", "bitmask" or "csr".
func (s Storage) String() string {
	switch s {
	case Dense:
		return "dense"
	case Bitmask:
		return "bitmask"
	case CSR:
		return "csr"
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
	flagStandard   = 1 << 0 // model flags
	flagLogProbs   = 1 << 0 // bundle flags
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LayerLayout describes how one layer's weights are stored.
type LayerLayout struct {
	// Storage is the layout the encoder chose.
	Storage Storage
	// Nonzero counts the stored non-zero weights.
	Nonzero int
	// Bytes is the length of the layer's weight section.
	Bytes int
}

// weightPlan is the encoder's analysis of one layer's weights.
type weightPlan struct {
	storage      Storage
	nnz          int
	countW, gapW uint // CSR field widths
	bytes        int
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
	dense := ceil8(n * b)
	mask := ceil8(n + nz*b)
	csr := 2 + ceil8(int64(l.Out)*int64(p.countW)+nz*(int64(p.gapW)+b))
	p.storage, p.bytes = Dense, int(dense)
	if mask < int64(p.bytes) {
		p.storage, p.bytes = Bitmask, int(mask)
	}
	if csr < int64(p.bytes) {
		p.storage, p.bytes = CSR, int(csr)
	}
	return p
}

func ceil8(bits int64) int64 { return (bits + 7) / 8 }

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

// Layout reports the storage the encoder chooses for each layer. It
// returns an error wrapping ErrInvalid when m is not valid.
func (m *Model) Layout() ([]LayerLayout, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	out := make([]LayerLayout, len(m.Layers))
	for i := range m.Layers {
		p := plan(&m.Layers[i])
		out[i] = LayerLayout{Storage: p.storage, Nonzero: p.nnz, Bytes: p.bytes}
	}
	return out, nil
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
func (m *Model) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(m.Layers)))
	b = binary.AppendUvarint(b, uint64(m.Layers[0].In))
	for i := range m.Layers {
		b = binary.AppendUvarint(b, uint64(m.Layers[i].Out))
	}
	b = append(b, byte(m.Act))
	if m.Mean == nil {
		b = append(b, 0)
	} else {
		b = append(b, flagStandard)
		b = appendF32s(b, m.Mean)
		b = appendF32s(b, m.Scale)
	}
	for _, c := range m.Classes {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	for i := range m.Layers {
		b = m.Layers[i].appendTo(b)
	}
	return b
}

func (l *Layer) appendTo(b []byte) []byte {
	p := plan(l)
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
	b = append(b, byte(bw), flags)
	if !l.Scheme.IsFloat() {
		b = appendF32s(b, l.Scales)
		if l.Scheme.Asymmetric {
			w := bitWriter{b: b}
			for _, z := range l.Zero {
				w.write(uint64(z), uint(bw))
			}
			b = w.flush()
		}
	}
	b = appendF32s(b, l.Bias)
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
