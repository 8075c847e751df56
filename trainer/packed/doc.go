// Package packed is consort's compressed model: the weight quantization
// maths, the versioned binary file a trained (pruned, quantized) network is
// shipped in, and inference on it in integer arithmetic.
//
// It stands alone on float32 slices — package trainer imports it, never
// the reverse — and has three parts.
//
// # Quantization
//
// Scheme names a bit-width (2, 3, 4, 5, 6, 8, 16, or 32 for float32) and
// whether quantization is symmetric or asymmetric (affine, with an integer
// zero point) and per tensor or per output channel (row of W). Params
// computes scales and zero points, validating its input; Quantize and
// Dequantize convert; FakeQuantize is dequant(quant(w)) for
// quantization-aware training and allocates nothing given a scratch
// QParams. A zero (pruned) weight always dequantizes to exactly 0, and every
// weight is within half a step of its dequantized value.
//
// Per-channel scales of at most 8 bits are rounded up onto a log grid
// below the matrix's largest scale, s_j = s_max·2^(−k_j/32), so that the
// file stores one small integer per row (see "Compact metadata"). Params
// does the rounding, so FakeQuantize — what quantization-aware training
// sees — is bit for bit what the packed model dequantizes to.
//
// # The packed file
//
// FromFloat quantizes float32 layers into a Model; MarshalBinary encodes
// it, and the length of that encoding is the model's size_bytes
// everywhere in consort. Unmarshal (ReadFile, Parse, Decode, Load) decodes
// it, verifying the checksum first and every length before allocating; it
// never panics on bad bytes. A Bundle holds several Models and a combiner
// (weighted average, majority vote or stacking) in one file.
//
// All integers are little-endian; "uvarint" is encoding/binary's unsigned
// varint; "f32" is an IEEE-754 float32, little-endian, never NaN or
// infinite. Bit fields are packed least significant bit first: field k of
// width b occupies bits [k·b, (k+1)·b) of the stream, bit i being bit i%8
// of byte i/8; every bit stream ends padded with zero bits to a whole byte.
//
//	File (format version 2; version 1 is no longer read)
//	offset   size  field
//	0        4     magic "CSPK"
//	4        1     format version = 2
//	5        1     kind: 1 = model, 2 = bundle
//	6        n     body: a Model body or a Bundle body
//	6+n      4     CRC-32C (Castagnoli) of bytes [0, 6+n), uint32
//
// The magic, version byte and trailing checksum keep their places in every
// version. A reader checks the magic, then the checksum, then the version.
//
// A model body is plain fields, then one range-coded stream holding
// whatever is entropy coded (present only when something is), then the
// float32 standardisation if it is not compact:
//
//	Model body
//	field                     encoding
//	L                         uvarint, number of layers, 1…1024
//	widths w0 … wL            L+1 uvarints, each 1…2^24: w0 = inputs,
//	                          layer l maps w(l) → w(l+1), wL = classes
//	activation                1 byte: 0 = ReLU, 1 = tanh (hidden layers)
//	model flags               1 byte: bit 0 standardisation present,
//	                          bit 1 compact standardisation (needs bit 0
//	                          and a first layer of at most 8 bits)
//	class labels              wL × (uvarint byte length ≤ 4096, UTF-8 bytes),
//	                          distinct
//	[σ_max]                   f32 > 0 (compact standardisation)
//	layers                    L × layer record (plain part)
//	[stream]                  the range-coded stream, when any layer has
//	                          grid scales, grid biases or Coded weights, or
//	                          the standardisation is compact
//	[mean]                    m × f32  } standardisation present, not
//	[scale]                   m × f32, } compact: m = live inputs, in order
//	                          non-zero }
//
// An input is live when some non-zero weight of layer 0 reads it (its
// column of layer 0 is not all zero). The standardisation
// x' = (x − mean)/scale before layer 0 is stored for live inputs only;
// every other input has mean 0 and scale 1, which is what a valid Model
// holds there (FromFloat sets them: such inputs do not affect the output).
//
//	Layer record, plain part (In = w(l), Out = w(l+1), b = bits)
//	field                     encoding
//	bits                      1 byte: 2, 3, 4, 5, 6, 8, 16 or 32
//	flags                     1 byte: bit 0 asymmetric, bit 1 per-channel,
//	                          bit 2 static activation scale present,
//	                          bits 3–4 storage (0 dense, 1 bitmask, 2 CSR,
//	                          3 coded), bit 5 grid scales (per-channel,
//	                          b ≤ 8), bit 6 grid biases (b ≤ 8), bit 7 zero.
//	                          At 32 bits bits 0–2 are zero; at 16 bits bits
//	                          2, 5 and 6 are zero.
//	[scales]                  b < 32: grid scales: f32 s_max > 0 (the
//	                          indices are in the stream); otherwise
//	                          S × f32, > 0; S = Out if per-channel else 1;
//	                          scale s of row j is scales[j] or scales[0]
//	[zero points]             S fields of b bits, unsigned, one bit stream
//	                          (asymmetric only)
//	bias                      grid biases: 1 byte, the step exponent e as
//	                          int8 (the codes are in the stream);
//	                          otherwise Out × f32
//	[activation scale]        f32, > 0 (if flag bit 2)
//	weights                   dense, bitmask, CSR: see below; coded:
//	                          uvarint nnz ≤ In·Out, then 1 byte, the
//	                          Exp-Golomb order r ≤ 48 of the gaps (the
//	                          weights are in the stream)
//
// A weight's b-bit field holds its code: two's complement in b bits for a
// symmetric scheme, with codes in [−(2^(b−1)−1), 2^(b−1)−1] (so
// −2^(b−1) is invalid); unsigned for an asymmetric one, codes in
// [0, 2^b−1]. Weight (j, i) is (code − z_j)·s_j with z_j = 0 for symmetric
// schemes; at 16 bits a field is an int16 code. At 32 bits a field is the
// float32's bit pattern and is the weight. A weight is zero when its code
// equals its row's zero point (a float32 when its bits are all zero, so
// −0 is stored). Weights are numbered k = j·In + i (row-major, row j
// feeding output j). The plain weight sections are one bit stream:
//
//	storage   stream content
//	dense     In·Out fields of b bits, k = 0, 1, …
//	bitmask   In·Out bits, bit k set iff weight k is non-zero; then the
//	          nnz non-zero weights' fields of b bits in order of k
//	CSR       two bytes first, before the stream: cw, gw ≤ 32 (field
//	          widths); then the stream: Out row counts of cw bits; nnz
//	          column gaps of gw bits, row by row (the first entry of a row
//	          stores its column, each next one column − previous column
//	          − 1); then the nnz fields of b bits in order of k
//
// Stored (sparse) fields are never zero weights. The encoder takes, per
// layer, the smallest of the four (ties: dense, bitmask, CSR, coded; a
// coded layer's cost includes the stream's 4-byte flush unless metadata
// needs the stream anyway), choosing cw and gw as the bit lengths of the
// largest row count and the largest gap, and r among
// ⌊log2(mean gap·ln 2)⌋ and its neighbours; a decoder accepts any of them.
//
//	Bundle body
//	field                     encoding
//	method                    1 byte: 0 average, 1 vote, 2 stack
//	bundle flags              1 byte: bit 0 log-probability features
//	                          (stack only), bit 1 equal weights (average
//	                          only)
//	M                         uvarint, members, 1…1024
//	members                   M × (uvarint n, n bytes of Model body)
//	[weights]                 M × f32 ≥ 0 summing to 1 ± 1e-4
//	                          (average without bit 1)
//	[coefficients]            C·M·C f32, C×(M·C) row-major (stack)
//	[intercepts]              C f32 (stack)
//
// Members of a bundle share their input width and class labels.
//
// # Compact metadata
//
// Three grids hold metadata in about a byte a number, each exact by
// construction: a value on a grid is stored as an integer and decoded by
// the arithmetic below, and FromFloat rounds to the grids, so the float32
// values a Model holds are the ones its file decodes to. The encoder uses
// a grid wherever every value of a section lies on it, and float32
// otherwise.
//
//   - Log grid. With T[p] the float64 nearest 2^(−p/128) for p in 0…127,
//     point p below top is float32(top·T[p mod 128]·2^(−⌊p/128⌋)) (the
//     product rounded to float64, then to float32). Grid scales store, per
//     row, an index k ≥ 0 with p = 4k (steps of 1/32 octave); compact
//     standardisation stores per live input an index k ≥ 0 with p = k (1/128
//     octave). p is at most 65535; every value is > 0; some index is 0
//     (s_max and σ_max are the largest values). Params rounds per-channel
//     scales of at most 8 bits up to the grid (no weight clips) and gives
//     an all-zero row s_max; FromFloat rounds a standardisation scale to
//     the nearest point.
//   - Bias grid (layers of at most 8 bits): bias j is
//     float32(c_j·2^e) for an integer |c_j| ≤ 2^20 − 1. The encoder takes
//     the largest e that works, FromFloat the smallest e with
//     127·2^e ≥ max|bias| (at least 2^−128), so codes have at most 8 bits.
//   - Mean grid (compact standardisation): mean i is
//     float32(c_i·scale_i·2^−7) for an integer |c_i| ≤ 2^24 — a step of
//     1/128 of the feature's standard deviation.
//
// # The range-coded stream
//
// The stream is LZMA's binary range coder (32-bit range, renormalised
// below 2^24 by shifting in a byte; a bit with probability p of 0, in
// units of 2^−12, splits the range at ⌊range/2^12⌋·p) without LZMA's
// always-zero first byte: the decoder starts with range 2^32−1 and code =
// the first 4 bytes big-endian, the encoder ends with LZMA's 5-byte flush,
// and a decoder reads exactly the bytes the encoder wrote and ends with
// code 0. Each adaptive model holds a 16-bit probability p16 of a 0 bit,
// initially 2^15, and a count n, initially 0; it codes with
// p = min(max(⌊p16/16⌋, 1), 4095), then moves p16 towards the bit by
// ⌊distance/min(n+2, 64)⌋ (distance to 2^16 for a 0, to 0 for a 1;
// p16 stays in [1, 2^16−1]) and increments n up to 64. Direct bits
// halve the range. Three codes build on these:
//
//   - EG(r), an adaptive Exp-Golomb code of order r for v ≥ 0: with
//     q = ⌊v/2^r⌋ + 1 and c = ⌊log2 q⌋ < 62, c one bits and a zero (bit i
//     with model unary[i]), then the c bits of q below its leading one,
//     the first with model first[c], the rest direct, most significant
//     first, then the low r bits of v, direct.
//   - SE, a signed integer: EG(0) of |v| then, when v ≠ 0, a sign bit
//     (1 negative) with its own model.
//   - Tree(b), a b-bit field (b ≤ 8): its bits from the most significant,
//     bit t with the model of node 2^t + (the bits before it) of a binary
//     tree of 2^b − 1 models.
//
// The stream codes, in order, with new models for each section:
//
//	for each layer l:
//	  grid scales     Out × EG(0): row indices k_j
//	  grid biases     Out × SE: codes c_j
//	  coded weights   nnz × (EG(r) of the gap from the previous non-zero
//	                  weight in order of k — k − k_prev − 1, with
//	                  k_prev = −1 first — then the field: Tree(b) for
//	                  b ≤ 8, else b direct bits)
//	compact std       per live input: EG(0) index k_i, then SE mean code c_i
//
// # Inference
//
// A Session unpacks a Model once and then runs Proba on raw inputs without
// allocating. Layers of at most 8 bits compute in integers: each layer
// input is quantized per sample to integer codes (unsigned after a ReLU,
// signed otherwise) with step max|a|/code_max — code_max being the widest
// the layer's int32 sums allow, up to 32767, or 127/255 under
// WithActivationBits(8) — or to 8-bit codes of the layer's static
// ActScale; these are multiplied by the weight codes minus their zero
// points (held as int8, int16 when they do not fit), accumulated in int32
// and scaled back in float32 before the bias and activation. Weights are
// held dense (fed to AVX-512 VNNI or AVX2 kernels on amd64 CPUs that have
// them) or in CSR,
// whichever is faster at the layer's sparsity. Layers of 16 and 32 bits
// compute in float32 (blas32.Gemv, or CSR when sparse). ReferenceProba
// evaluates the same model in float32 on the dequantized weights, the
// fake-quant model the trainer sees; the package tests bound the gap.
//
//	m, err := packed.FromFloat(layers, packed.ReLU, mean, scale, classes)
//	if err != nil { … }                   // errors.Is(err, packed.ErrInvalid)
//	size, err := packed.WriteFile("model.cpk", m)
//	…
//	c, err := packed.Load("model.cpk")   // a *Model or a *Bundle
//	if err != nil { … }                   // ErrCorrupt, ErrVersion, ErrTooLarge, I/O
//	s, err := packed.NewSession(c.(*packed.Model))
//	s.Proba(probs, x, n)                  // allocation-free after the first call
//
// Errors callers branch on: ErrInvalid (a model or input that cannot be
// packed), ErrCorrupt with its refinements ErrChecksum and ErrTruncated,
// ErrVersion, ErrKind, ErrTooLarge. Shape mismatches in the hot-path
// functions (FakeQuantize, Session.Proba) are programming errors and panic.
package packed
