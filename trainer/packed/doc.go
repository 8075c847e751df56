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
//	File (format version 1)
//	offset   size  field
//	0        4     magic "CSPK"
//	4        1     format version = 1
//	5        1     kind: 1 = model, 2 = bundle
//	6        n     body: a Model body or a Bundle body
//	6+n      4     CRC-32C (Castagnoli) of bytes [0, 6+n), uint32
//
// The magic, version byte and trailing checksum keep their places in every
// version. A reader checks the magic, then the checksum, then the version.
//
//	Model body
//	field                     encoding
//	L                         uvarint, number of layers, 1…1024
//	widths w0 … wL            L+1 uvarints, each 1…2^24: w0 = inputs,
//	                          layer l maps w(l) → w(l+1), wL = classes
//	activation                1 byte: 0 = ReLU, 1 = tanh (hidden layers)
//	model flags               1 byte: bit 0 = standardisation present
//	[mean]                    w0 × f32   (if bit 0)
//	[scale]                   w0 × f32, non-zero   (if bit 0):
//	                          x' = (x − mean)/scale before layer 0
//	class labels              wL × (uvarint byte length ≤ 4096, UTF-8 bytes),
//	                          distinct
//	layers                    L × layer record
//
//	Layer record (In = w(l), Out = w(l+1), b = bits)
//	field                     encoding
//	bits                      1 byte: 2, 3, 4, 5, 6, 8, 16 or 32
//	flags                     1 byte: bit 0 asymmetric, bit 1 per-channel,
//	                          bit 2 static activation scale present,
//	                          bits 3–4 storage (0 dense, 1 bitmask, 2 CSR),
//	                          bits 5–7 zero. At 32 bits bits 0–2 are zero;
//	                          at 16 bits bit 2 is zero.
//	[scales]                  S × f32, > 0 (b < 32); S = Out if per-channel
//	                          else 1; scale s of row j is scales[j] or
//	                          scales[0]
//	[zero points]             S fields of b bits, unsigned, one bit stream
//	                          (asymmetric only)
//	bias                      Out × f32
//	[activation scale]        f32, > 0 (if flag bit 2)
//	weights                   see below
//
// A weight's b-bit field holds its code: two's complement in b bits for a
// symmetric scheme, with codes in [−(2^(b−1)−1), 2^(b−1)−1] (so
// −2^(b−1) is invalid); unsigned for an asymmetric one, codes in
// [0, 2^b−1]. Weight (j, i) is (code − z_j)·s_j with z_j = 0 for symmetric
// schemes; at 16 bits a field is an int16 code. At 32 bits a field is the
// float32's bit pattern and is the weight. A weight is zero when its code
// equals its row's zero point (a float32 when its bits are all zero, so
// −0 is stored). Weights are numbered k = j·In + i (row-major, row j
// feeding output j). The weight section is one bit stream:
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
// layer, the smallest of the three in whole bytes (ties: dense, bitmask,
// CSR), choosing cw and gw as the bit lengths of the largest row count and
// the largest gap; a decoder accepts any of them.
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
// held dense (fed to AVX2 kernels on amd64 CPUs that have them) or in CSR,
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
