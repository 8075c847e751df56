package packed

import "math/bits"

// The entropy coder of the packed format: a binary adaptive range coder
// (the carry-less coder of LZMA, with 12-bit probabilities) and the models
// built on it. doc.go specifies the stream; this file is its reference
// implementation, and encoder and decoder mirror each other step by step.

// Coder constants.
const (
	probBits   = 16 // precision of a model's probability
	codeBits   = 12 // precision the coder multiplies by
	probInit   = 1 << (probBits - 1)
	rateLimit  = 64      // the slowest adaptation divides by this
	rcTop      = 1 << 24 // the coder renormalises below this range
	unaryLimit = 62      // Exp-Golomb classes above this are corrupt
	treeMax    = 8       // codes of at most this many bits use a bit tree
)

// prob is an adaptive binary model: p is the probability, in units of
// 2^−16, that the next bit is 0, and n counts the bits seen so far (capped).
// After a bit the estimate moves towards it by 1/min(n+2, rateLimit) of the
// distance, which starts as the Krichevsky–Trofimov estimate and becomes
// an exponential window once n is large.
type prob struct {
	p uint16
	n uint8
}

func newProb() prob { return prob{p: probInit} }

// p12 is the probability of a 0 bit at the coder's precision, in
// [1, 2^12 − 1].
func (m *prob) p12() uint32 {
	return min(max(uint32(m.p)>>(probBits-codeBits), 1), 1<<codeBits-1)
}

func (m *prob) update(bit uint32) {
	d := min(uint32(m.n)+2, rateLimit)
	p := uint32(m.p)
	if bit == 0 {
		p += (1<<probBits - p) / d
	} else {
		p -= p / d
	}
	m.p = uint16(min(max(p, 1), 1<<probBits-1))
	if m.n < rateLimit {
		m.n++
	}
}

func resetProbs(ps []prob) {
	for i := range ps {
		ps[i] = newProb()
	}
}

// rcEncoder appends a range-coded stream to out. Its first byte, always 0
// in LZMA's coder, is not written.
type rcEncoder struct {
	out       []byte
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int64
	skip      bool // the next byte shifted out is the implicit leading 0
}

func newEncoder(out []byte) rcEncoder {
	return rcEncoder{out: out, rng: 0xFFFFFFFF, cacheSize: 1, skip: true}
}

func (e *rcEncoder) emit(b byte) {
	if e.skip {
		e.skip = false
		return
	}
	e.out = append(e.out, b)
}

func (e *rcEncoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low >= 1<<32 {
		carry := byte(e.low >> 32)
		temp := e.cache
		for {
			e.emit(temp + carry)
			temp = 0xFF
			e.cacheSize--
			if e.cacheSize == 0 {
				break
			}
		}
		e.cache = byte(e.low >> 24)
	}
	e.cacheSize++
	e.low = (e.low & 0x00FFFFFF) << 8
}

func (e *rcEncoder) bit(m *prob, bit uint32) {
	bound := (e.rng >> codeBits) * m.p12()
	if bit == 0 {
		e.rng = bound
	} else {
		e.low += uint64(bound)
		e.rng -= bound
	}
	m.update(bit)
	for e.rng < rcTop {
		e.rng <<= 8
		e.shiftLow()
	}
}

// direct writes the low n bits of v, most significant first, each with
// probability 1/2.
func (e *rcEncoder) direct(v uint64, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		e.rng >>= 1
		if v>>uint(i)&1 != 0 {
			e.low += uint64(e.rng)
		}
		for e.rng < rcTop {
			e.rng <<= 8
			e.shiftLow()
		}
	}
}

// size returns the bytes written so far, counting those still pending.
func (e *rcEncoder) size() int {
	n := len(e.out) + int(e.cacheSize)
	if e.skip {
		n--
	}
	return n
}

// finish flushes the coder and returns the buffer.
func (e *rcEncoder) finish() []byte {
	for range 5 {
		e.shiftLow()
	}
	return e.out
}

// rcDecoder reads a range-coded stream from src. Reading past the end
// yields zero bytes and sets over; callers check it.
type rcDecoder struct {
	src  []byte
	pos  int
	rng  uint32
	code uint32
	over bool
}

func newDecoder(src []byte) rcDecoder {
	d := rcDecoder{src: src, rng: 0xFFFFFFFF}
	for range 4 {
		d.code = d.code<<8 | uint32(d.next())
	}
	return d
}

func (d *rcDecoder) next() byte {
	if d.pos < len(d.src) {
		b := d.src[d.pos]
		d.pos++
		return b
	}
	d.over = true
	return 0
}

func (d *rcDecoder) bit(m *prob) uint32 {
	bound := (d.rng >> codeBits) * m.p12()
	var bit uint32
	if d.code < bound {
		d.rng = bound
	} else {
		d.code -= bound
		d.rng -= bound
		bit = 1
	}
	m.update(bit)
	for d.rng < rcTop {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
	return bit
}

func (d *rcDecoder) direct(n uint) uint64 {
	var v uint64
	for range n {
		d.rng >>= 1
		var bit uint64
		if d.code >= d.rng {
			d.code -= d.rng
			bit = 1
		}
		v = v<<1 | bit
		for d.rng < rcTop {
			d.rng <<= 8
			d.code = d.code<<8 | uint32(d.next())
		}
	}
	return v
}

// finished reports whether the decoder ended where an encoder's flush
// leaves it: the flushed bytes are the low end of the final range, so the
// code is 0.
func (d *rcDecoder) finished() bool { return d.code == 0 }

// egModel codes unsigned integers with an adaptive Exp-Golomb code of
// order r: with q = (v >> r) + 1 and c = bits.Len(q) − 1, the class c in
// unary (c one bits and a zero, bit i modelled by unary[i]), then the c
// bits of q below its leading one — the first modelled by first[c], the
// others direct — then the low r bits of v, direct.
type egModel struct {
	unary [unaryLimit + 1]prob
	first [unaryLimit + 1]prob
}

func (m *egModel) reset() {
	resetProbs(m.unary[:])
	resetProbs(m.first[:])
}

func (m *egModel) encode(e *rcEncoder, v uint64, r uint) {
	q := v>>r + 1
	c := uint(bits.Len64(q) - 1)
	for i := range c {
		e.bit(&m.unary[i], 1)
	}
	e.bit(&m.unary[c], 0)
	if c > 0 {
		e.bit(&m.first[c], uint32(q>>(c-1)&1))
		e.direct(q, c-1)
	}
	e.direct(v, r)
}

// decode reads a value; ok is false for a class above unaryLimit or a
// value that overflows 64 bits.
func (m *egModel) decode(d *rcDecoder, r uint) (v uint64, ok bool) {
	c := uint(0)
	for d.bit(&m.unary[c]) != 0 {
		if c++; c > unaryLimit-1 {
			return 0, false
		}
	}
	q := uint64(1)
	if c > 0 {
		q = q<<1 | uint64(d.bit(&m.first[c]))
		q = q<<(c-1) | d.direct(c-1)
	}
	q--
	if r > 0 && q > (1<<(64-r)-1) {
		return 0, false
	}
	return q<<r | d.direct(r), true
}

// intModel codes signed integers: the magnitude with an egModel of order
// 0, then, when it is not zero, the sign (1 for negative) modelled by sign.
type intModel struct {
	mag  egModel
	sign prob
}

func (m *intModel) reset() {
	m.mag.reset()
	m.sign = newProb()
}

func (m *intModel) encode(e *rcEncoder, v int64) {
	mag := uint64(v)
	if v < 0 {
		mag = uint64(-v)
	}
	m.mag.encode(e, mag, 0)
	if mag != 0 {
		s := uint32(0)
		if v < 0 {
			s = 1
		}
		e.bit(&m.sign, s)
	}
}

// decode reads a value of magnitude at most limit; ok is false otherwise.
func (m *intModel) decode(d *rcDecoder, limit uint64) (int64, bool) {
	mag, ok := m.mag.decode(d, 0)
	if !ok || mag > limit {
		return 0, false
	}
	if mag != 0 && d.bit(&m.sign) != 0 {
		return -int64(mag), true
	}
	return int64(mag), true
}

// treeModel codes fields of b ≤ treeMax bits with a binary tree of
// adaptive models, most significant bit first: node 1 is the root, node
// 2i+bit follows node i.
type treeModel struct {
	node [1 << treeMax]prob
}

func (m *treeModel) reset() { resetProbs(m.node[:]) }

func (m *treeModel) encode(e *rcEncoder, v uint64, b uint) {
	i := uint64(1)
	for k := int(b) - 1; k >= 0; k-- {
		bit := v >> uint(k) & 1
		e.bit(&m.node[i], uint32(bit))
		i = i<<1 | bit
	}
}

func (m *treeModel) decode(d *rcDecoder, b uint) uint64 {
	i := uint64(1)
	for range b {
		i = i<<1 | uint64(d.bit(&m.node[i]))
	}
	return i - 1<<b
}
