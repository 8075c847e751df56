package packed

import (
	"fmt"
	"math"
)

// Scheme says how a weight matrix is quantized.
//
// Symmetric quantization maps a weight w to the code q = round(w/s) in
// [−(2^(b−1)−1), 2^(b−1)−1] with s = max|w|/(2^(b−1)−1) and dequantizes it
// to q·s. Asymmetric (affine) quantization widens [min w, max w] to include
// 0, takes s = (max−min)/(2^b−1) and the integer zero point
// z = round(−min/s), maps w to q = round(w/s)+z in [0, 2^b−1] and
// dequantizes it to (q−z)·s. Either way a zero weight gets a code that
// dequantizes to exactly 0, and every weight is within s/2 of its
// dequantized value. Rounding is half to even. Under a per-channel scheme
// of at most 8 bits each row's s is then rounded up to the log grid below
// the largest, s_max·2^(−k/32) for an integer k ≥ 0 (doc.go, "Compact
// metadata"), and z recomputed with it: still no weight clips.
type Scheme struct {
	// Bits is the bit-width of a weight code: 2, 3, 4, 5, 6, 8 or 16
	// quantize; 32 keeps the float32 weights. The zero value means 32.
	Bits int

	// Asymmetric selects affine quantization with a zero point; false
	// (the zero value) is symmetric. Ignored at 32 bits.
	Asymmetric bool

	// PerChannel gives every output channel (row of W) its own scale and
	// zero point; false (the zero value) uses one for the whole matrix.
	// Ignored at 32 bits.
	PerChannel bool
}

// Validate reports whether s.Bits is a supported width, wrapping
// ErrInvalid.
func (s Scheme) Validate() error {
	switch s.Bits {
	case 0, 2, 3, 4, 5, 6, 8, 16, 32:
		return nil
	}
	return fmt.Errorf("%w: scheme: %d bits (want 2, 3, 4, 5, 6, 8, 16 or 32)", ErrInvalid, s.Bits)
}

// Width returns the bit-width, 32 for the zero value.
func (s Scheme) Width() int {
	if s.Bits == 0 {
		return 32
	}
	return s.Bits
}

// IsFloat reports whether s keeps float32 weights (32 bits).
func (s Scheme) IsFloat() bool { return s.Width() == 32 }

// Range returns the smallest and largest code: −(2^(b−1)−1) and
// 2^(b−1)−1 for symmetric schemes, 0 and 2^b−1 for asymmetric ones. It
// returns 0, 0 for float schemes.
func (s Scheme) Range() (lo, hi int32) {
	b := s.Width()
	switch {
	case b >= 32:
		return 0, 0
	case s.Asymmetric:
		return 0, 1<<b - 1
	default:
		return -(1<<(b-1) - 1), 1<<(b-1) - 1
	}
}

// normal returns s with Bits 0 spelled 32 and the flags cleared at 32
// bits, the form a Model stores.
func (s Scheme) normal() Scheme {
	if s.IsFloat() {
		return Scheme{Bits: 32}
	}
	return s
}

// String formats s as for example "4-bit symmetric per-channel" or
// "float32".
func (s Scheme) String() string {
	if s.IsFloat() {
		return "float32"
	}
	kind, gran := "symmetric", "per-tensor"
	if s.Asymmetric {
		kind = "asymmetric"
	}
	if s.PerChannel {
		gran = "per-channel"
	}
	return fmt.Sprintf("%d-bit %s %s", s.Width(), kind, gran)
}

// QParams holds the quantization parameters of one weight matrix: one
// scale and zero point per row under a per-channel scheme, one in all
// otherwise. Params and FakeQuantize reuse the slices' capacity.
type QParams struct {
	// Scale holds the quantization steps, each positive and finite. A
	// group of weights that are all zero gets scale 1 — or, under a
	// per-channel scheme of at most 8 bits, the largest scale of the
	// matrix (1 when all weights are zero).
	Scale []float32

	// Zero holds the zero points, each in the code range; all zero under
	// a symmetric scheme.
	Zero []int32
}

// groups returns the number of parameter groups and the weights per group.
func groups(rows, cols int, s Scheme) (n, size int) {
	if s.PerChannel {
		return rows, cols
	}
	return 1, rows * cols
}

// Params computes in dst the scales and zero points that quantize w, a
// rows×cols row-major matrix, under s. It is the validating entry point:
// it returns an error wrapping ErrInvalid for an unsupported or float
// scheme, a shape that does not match len(w), or a NaN or infinite weight.
func Params(dst *QParams, w []float32, rows, cols int, s Scheme) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.IsFloat() {
		return fmt.Errorf("%w: params: a float32 scheme has no quantization parameters", ErrInvalid)
	}
	if rows < 0 || cols < 0 || rows*cols != len(w) {
		return fmt.Errorf("%w: params: %d weights for a %d×%d matrix", ErrInvalid, len(w), rows, cols)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: params: weight %d (row %d, column %d) is %v", ErrInvalid, i, i/max(cols, 1), i%max(cols, 1), v)
		}
	}
	params(dst, w, rows, cols, s)
	return nil
}

// params is Params without the checks.
func params(dst *QParams, w []float32, rows, cols int, s Scheme) {
	n, size := groups(rows, cols, s)
	dst.Scale = resize(dst.Scale, n)
	dst.Zero = resize(dst.Zero, n)
	b := s.Width()
	qa := float64(int64(1)<<b - 1)
	snap := s.PerChannel && b <= 8
	var top float32 // the largest scale of a group that is not all zero
	for g := range n {
		seg := w[g*size : g*size+size]
		var sc, lo float32
		if s.Asymmetric {
			var hi float32
			lo, hi = minMax(seg) // widened to include 0
			sc = float32((float64(hi) - float64(lo)) / qa)
		} else {
			m := math.Float32frombits(maxAbsBits(seg))
			sc = float32(float64(m) / float64(int64(1)<<(b-1)-1))
		}
		if !(sc > 0) || math.IsInf(float64(sc), 0) {
			sc = 0 // all zero: settled below
		}
		top = max(top, sc)
		dst.Scale[g], dst.Zero[g] = sc, 0
		if s.Asymmetric && !snap && sc > 0 {
			dst.Zero[g] = zeroPoint(lo, sc, qa)
		}
	}
	for g := range n {
		sc := dst.Scale[g]
		switch {
		case sc == 0 && snap && top > 0:
			sc = top
		case sc == 0:
			sc = 1
		case snap:
			// Round up onto the log grid below the largest scale, so no
			// weight clips; the packed file stores the grid index.
			sc = gridValue(top, gridCeil(top, sc, scaleStep), scaleStep)
			if s.Asymmetric {
				lo, _ := minMax(w[g*size : g*size+size])
				dst.Zero[g] = zeroPoint(lo, sc, qa)
			}
		}
		dst.Scale[g] = sc
	}
}

// zeroPoint returns round(−lo/sc) clamped to [0, qa].
func zeroPoint(lo, sc float32, qa float64) int32 {
	z := math.RoundToEven(-float64(lo) / float64(sc))
	return int32(min(max(z, 0), qa))
}

// roundMagic64 rounds a float64 of magnitude below 2^51 to an integer,
// half to even, when added and subtracted.
const roundMagic64 = 1.5 * (1 << 52)

// roundClamp returns round(v·inv) clamped to [lo, hi], integers: it clamps
// first (the same thing for integer bounds), so the rounding trick always
// applies. NaN input gives NaN.
func roundClamp(v float32, inv, lo, hi float64) float64 {
	r := float64(v) * inv
	if r < lo {
		r = lo
	} else if r > hi {
		r = hi
	}
	return (r + roundMagic64) - roundMagic64
}

// code quantizes v with inverse step inv and zero point z to a code in
// [lo, hi]. NaN input gives an unspecified code.
func code(v float32, inv float64, z, lo, hi int32) int32 {
	return int32(roundClamp(v, inv, float64(lo-z), float64(hi-z))) + z
}

// dequant returns (q−z)·s rounded to float32, which equals the float32
// product float32(q−z)·s since both factors are exact in float32.
func dequant(q, z int32, s float32) float32 { return float32(q-z) * s }

// Quantize writes into codes the codes of w, a rows×cols row-major matrix,
// under s with the parameters p (from Params). codes and w must have
// rows·cols entries and p one group (or rows under a per-channel scheme);
// s must be a quantizing scheme. Those are programming errors and panic.
func Quantize(codes []int32, w []float32, rows, cols int, p *QParams, s Scheme) {
	n, size := checkShapes("Quantize", len(codes), w, rows, cols, p, s)
	lo, hi := s.Range()
	for g := range n {
		inv := 1 / float64(p.Scale[g])
		z := p.Zero[g]
		dst := codes[g*size : g*size+size]
		for i, v := range w[g*size : g*size+size] {
			dst[i] = code(v, inv, z, lo, hi)
		}
	}
}

// Dequantize writes into dst the weights the codes stand for: (q−z)·s.
// Shapes are checked as by Quantize.
func Dequantize(dst []float32, codes []int32, rows, cols int, p *QParams, s Scheme) {
	n, size := checkShapes("Dequantize", len(codes), dst, rows, cols, p, s)
	for g := range n {
		sc, z := p.Scale[g], p.Zero[g]
		out := dst[g*size : g*size+size]
		for i, q := range codes[g*size : g*size+size] {
			out[i] = dequant(q, z, sc)
		}
	}
}

func checkShapes(fn string, ncodes int, w []float32, rows, cols int, p *QParams, s Scheme) (n, size int) {
	if s.Validate() != nil || s.IsFloat() {
		panic(fmt.Sprintf("packed: %s: scheme %+v does not quantize", fn, s))
	}
	if rows < 0 || cols < 0 || ncodes != rows*cols || len(w) != rows*cols {
		panic(fmt.Sprintf("packed: %s: %d codes and %d weights for a %d×%d matrix", fn, ncodes, len(w), rows, cols))
	}
	n, size = groups(rows, cols, s)
	if len(p.Scale) != n || len(p.Zero) != n {
		panic(fmt.Sprintf("packed: %s: %d scales and %d zero points for %d groups", fn, len(p.Scale), len(p.Zero), n))
	}
	return n, size
}

// FakeQuantize writes dequant(quant(w)) into dst (which may alias w): the
// weights w, a rows×cols row-major matrix, rounded to the grid of s, as
// quantization-aware training uses in its forward pass. Under a float
// scheme it copies w. The parameters are computed into scratch, whose
// slices are reused, so with a non-nil scratch of sufficient capacity it
// allocates nothing; a nil scratch allocates.
//
// FakeQuantize is the hot path and does not validate: it assumes a
// supported scheme and finite weights (check them once with Params). A NaN
// or infinite weight gives unspecified values, never a panic. Shape
// mismatches are programming errors and panic.
func FakeQuantize(dst, w []float32, rows, cols int, s Scheme, scratch *QParams) {
	if rows < 0 || cols < 0 || len(w) != rows*cols || len(dst) != len(w) {
		panic(fmt.Sprintf("packed: FakeQuantize: %d weights into %d for a %d×%d matrix", len(w), len(dst), rows, cols))
	}
	if s.IsFloat() {
		copy(dst, w)
		return
	}
	if scratch == nil {
		scratch = new(QParams)
	}
	params(scratch, w, rows, cols, s)
	n, size := groups(rows, cols, s)
	lo, hi := s.Range()
	for g := range n {
		sc, z := scratch.Scale[g], scratch.Zero[g]
		inv := 1 / float64(sc)
		// dequant(code(v)) without the round trip through int32.
		fakeQuant(dst[g*size:g*size+size], w[g*size:g*size+size], inv, float64(lo-z), float64(hi-z), sc)
	}
}

// Activation quantization. For a layer with a static ActScale s, the
// integer inference path rounds the layer input a to 8-bit codes
// q = round(a/s), clamped to [0, ActMaxUnsigned] when the input is a ReLU
// output (never negative, see InputUnsigned) and to
// [−ActMaxSigned, ActMaxSigned] otherwise; FakeQuantizeActivations
// computes the same grid in float for training and for ReferenceProba.
// Without a static scale the step is chosen per sample (see Session).
const (
	// ActMaxSigned is the largest code of a signed activation.
	ActMaxSigned = 127
	// ActMaxUnsigned is the largest code of a non-negative activation.
	ActMaxUnsigned = 255
)

// InputUnsigned reports whether the input of layer l (0 is the first) of a
// network with hidden activation act is never negative, so its activation
// codes are unsigned: true for every layer after the first under ReLU.
// A static ActScale for such a layer is calibrated as max a/ActMaxUnsigned,
// for the others as max|a|/ActMaxSigned.
func InputUnsigned(l int, act Activation) bool { return l > 0 && act == ReLU }

// actRange returns the activation code range.
func actRange(unsigned bool) (lo, hi float32) {
	if unsigned {
		return 0, ActMaxUnsigned
	}
	return -ActMaxSigned, ActMaxSigned
}

// roundMagic rounds a float32 of magnitude below 2^22 to an integer, half
// to even, when added and subtracted: the sum's unit in the last place is
// 1, and the magic number is even.
const roundMagic = 1.5 * (1 << 23)

// The activation grid of step s: the code of v is round(v/s) clamped to
// [lo, hi] (|lo|, |hi| < 2^22), computed as v·(1/s) in float32 and rounded
// half to even (gridCode) — or, when 1/s overflows float32, in float64
// (gridCode64). NaN input gives an unspecified code. Both the integer path
// and FakeQuantizeActivations use these, so they agree exactly.

// gridInv returns 1/s in float32 and whether it is finite.
func gridInv(s float32) (float32, bool) {
	inv := 1 / s
	return inv, !math.IsInf(float64(inv), 0)
}

func gridCode(v, inv, lo, hi float32) float32 {
	r := v * inv
	if r < lo {
		r = lo
	} else if r > hi {
		r = hi
	}
	return (r + roundMagic) - roundMagic
}

func gridCode64(v, s, lo, hi float32) float32 {
	r := math.RoundToEven(float64(v) / float64(s))
	if r < float64(lo) {
		r = float64(lo)
	} else if r > float64(hi) {
		r = float64(hi)
	}
	return float32(r)
}

// FakeQuantizeActivations writes into dst (which may alias a) the
// activations a rounded to the 8-bit grid of step scale — exactly what the
// integer inference path computes for a layer with static ActScale =
// scale — for use in quantization-aware training and in the float
// reference. unsigned selects the code range (see InputUnsigned). A scale
// that is not positive copies a unchanged. It allocates nothing.
func FakeQuantizeActivations(dst, a []float32, scale float32, unsigned bool) {
	if len(dst) != len(a) {
		panic(fmt.Sprintf("packed: FakeQuantizeActivations: %d activations into %d", len(a), len(dst)))
	}
	if !(scale > 0) {
		copy(dst, a)
		return
	}
	lo, hi := actRange(unsigned)
	dst = dst[:len(a)]
	if inv, ok := gridInv(scale); ok {
		for i, v := range a {
			dst[i] = gridCode(v, inv, lo, hi) * scale
		}
		return
	}
	for i, v := range a {
		dst[i] = gridCode64(v, scale, lo, hi) * scale
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// resize returns s with length n, reusing its capacity.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
