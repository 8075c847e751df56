package packed

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/consort-ml/consort/internal/vec"
)

// Layout is the in-memory weight layout a Session uses for a layer.
type Layout uint8

// The layouts.
const (
	// LayoutAuto picks, per layer, the layout expected to be faster: dense
	// unless the layer is sparse enough for CSR to win on this CPU.
	LayoutAuto Layout = iota
	// LayoutDense holds every weight: int8 rows (int16 when a code minus
	// its zero point does not fit int8) padded to a multiple of 16 for
	// integer layers, fed to an AVX2 kernel where the CPU has one; float32
	// rows multiplied with blas32.Gemv for float layers.
	LayoutDense
	// LayoutSparse holds the non-zero weights in CSR form: row pointers,
	// uint16 column indices (int32 for inputs wider than 65536) and int16
	// or float32 values.
	LayoutSparse
)

// String returns "auto", "dense" or "sparse".
func (l Layout) String() string {
	switch l {
	case LayoutAuto:
		return "auto"
	case LayoutDense:
		return "dense"
	case LayoutSparse:
		return "sparse"
	}
	return fmt.Sprintf("Layout(%d)", uint8(l))
}

// SessionOption configures NewSession and NewBundleSession.
type SessionOption func(*sessionConfig)

type sessionConfig struct {
	layout  Layout
	actBits int
}

// WithLayout forces every layer to one in-memory layout, as tests and
// benchmarks comparing them do. The default is LayoutAuto. Outputs do not
// depend on the layout: integer sums are exact, and float layers of either
// layout accumulate in float32 (results may differ in the last bits there).
func WithLayout(l Layout) SessionOption {
	return func(c *sessionConfig) { c.layout = l }
}

// WithActivationBits sets how many bits the dynamically quantized
// activations of integer layers get: 8 gives codes in ±127 (0…255 after a
// ReLU), as int8/uint8 inference engines use; 0, the default, gives each
// layer the widest codes (up to ±32767) for which its int32 sums cannot
// overflow, which costs nothing with int16 arithmetic and tracks the
// float model more closely. Layers with a static ActScale always use
// 8-bit codes. Values other than 0 and 8 are treated as 0.
func WithActivationBits(bits int) SessionOption {
	return func(c *sessionConfig) { c.actBits = bits }
}

// Crossover densities for LayoutAuto: CSR is chosen for a layer whose
// fraction of non-zero weights is below these. Measured per multiply-add on
// the 784-256-128-10 benchmark network: the AVX2 dense kernel costs about
// 0.02 ns per weight against 0.7 ns per stored weight for CSR, so CSR only
// pays below 2.5% density; without AVX2 the pure-Go dense kernel costs
// about 0.8 ns per weight against 1 ns for CSR; float32 Gemv costs about
// 0.1 ns per weight against 0.9 ns for float CSR.
const (
	csrDensityAVX2    = 1.0 / 40
	csrDensityGeneric = 3.0 / 4
	csrDensityFloat   = 1.0 / 9
)

type layerKind uint8

const (
	intDense layerKind = iota
	intCSR
	floatDense
	floatCSR
)

// cLayer is a layer compiled for inference. It is never modified.
type cLayer struct {
	in, out  int
	kind     layerKind
	unsigned bool    // input codes are never negative
	actScale float32 // static activation step, 0 for dynamic
	actMax   float32 // largest activation code
	wide     bool    // sums may overflow int32: accumulate in int64

	cols   int       // intDense: row stride, in rounded up to 16
	w8     []int8    // intDense: out×cols, zero-padded, code − zero point
	w16    []int16   // intDense when some code − zero point is outside int8
	rowPtr []int32   // CSR: out+1 offsets
	col16  []uint16  // CSR column indices when in ≤ 65536
	col32  []int32   // CSR column indices otherwise
	v16    []int16   // intCSR values, code − zero point
	vf     []float32 // floatCSR values
	wf     []float32 // floatDense: out×in
	sw     []float32 // integer layers: weight step of each row
	bias   []float32
}

// compiled is a Model prepared for inference, shared by Forked sessions.
type compiled struct {
	mean, scale []float32
	act         Activation
	layers      []cLayer
	in, classes int
	maxWidth    int
	maxCols     int
}

// Session runs inference for one Model with weights unpacked once and
// reusable scratch: after the first call, Proba allocates nothing. A
// Session is not safe for concurrent use; Fork gives each goroutine its
// own scratch over the same weights.
//
// Layers of at most 8 bits run in integer arithmetic. The layer input a is
// quantized per sample to codes q_a = round(a/s_a): with a static
// ActScale, s_a = ActScale and 8-bit codes (see InputUnsigned,
// ActMaxSigned); otherwise s_a = max|a|/code_max with code_max the widest
// the layer's int32 sums allow, up to 32767 (127, or 255 after a ReLU,
// under WithActivationBits(8)). The codes are multiplied by the weight
// codes minus their zero points, summed in int32 (int64 for layers whose
// sums could overflow) and scaled back with s_a·s_w[j] before the bias and
// activation. Subtracting the zero point once at load time — holding
// q_w − z, as int8 when it fits — is the zero-point correction
// Σ q_a(q_w − z) = Σ q_a·q_w − z·Σ q_a done ahead of time; it keeps a
// pruned weight (code z) exactly zero in sparse storage. Layers of 16 and
// 32 bits run in float32 on the dequantized weights.
type Session struct {
	c     *compiled
	a, b  []float32
	q     []int16
	acc   []int32
	acc64 []int64
}

// NewSession compiles m for inference. The session reads m's
// standardisation and biases in place, so m must not be modified while it
// is in use. It returns an error wrapping ErrInvalid (or ErrTooLarge) when
// m is not valid.
func NewSession(m *Model, opts ...SessionOption) (*Session, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var cfg sessionConfig
	for _, o := range opts {
		o(&cfg)
	}
	c := &compiled{mean: m.Mean, scale: m.Scale, act: m.Act, in: m.Inputs(), classes: len(m.Classes), maxWidth: m.Inputs()}
	c.layers = make([]cLayer, len(m.Layers))
	for li := range m.Layers {
		c.layers[li] = compileLayer(&m.Layers[li], InputUnsigned(li, m.Act), cfg)
		c.maxWidth = max(c.maxWidth, m.Layers[li].Out)
		c.maxCols = max(c.maxCols, c.layers[li].cols, m.Layers[li].In)
	}
	return c.session(), nil
}

func (c *compiled) session() *Session {
	return &Session{
		c:     c,
		a:     make([]float32, c.maxWidth),
		b:     make([]float32, c.maxWidth),
		q:     make([]int16, c.maxCols),
		acc:   make([]int32, c.maxWidth),
		acc64: make([]int64, c.maxWidth),
	}
}

// Fork returns a new Session sharing s's compiled weights, with its own
// scratch.
func (s *Session) Fork() *Session { return s.c.session() }

// Layouts reports the in-memory layout chosen for each layer (LayoutDense
// or LayoutSparse).
func (s *Session) Layouts() []Layout {
	out := make([]Layout, len(s.c.layers))
	for i, l := range s.c.layers {
		out[i] = LayoutDense
		if l.kind == intCSR || l.kind == floatCSR {
			out[i] = LayoutSparse
		}
	}
	return out
}

// Integer reports, per layer, whether it runs in integer arithmetic.
func (s *Session) Integer() []bool {
	out := make([]bool, len(s.c.layers))
	for i, l := range s.c.layers {
		out[i] = l.kind == intDense || l.kind == intCSR
	}
	return out
}

func compileLayer(l *Layer, unsigned bool, cfg sessionConfig) cLayer {
	layout := cfg.layout
	cl := cLayer{in: l.In, out: l.Out, unsigned: unsigned, actScale: l.ActScale, bias: l.Bias}
	nnz := l.Nonzero()
	dense := l.In * l.Out
	if l.Scheme.Width() <= 8 {
		cl.cols = (l.In + 15) &^ 15
		cl.sw = make([]float32, l.Out)
		var maxE int64
		for j := range l.Out {
			cl.sw[j] = l.Scales[l.group(j)]
			z := l.zero(j)
			for _, q := range l.Codes[j*l.In : (j+1)*l.In] {
				maxE = max(maxE, abs64(int64(q-z)))
			}
		}
		_, cl.actMax = actRange(unsigned)
		if l.ActScale == 0 && cfg.actBits != 8 {
			// The widest codes whose sums fit int32, at least 8 bits.
			widest := float32(math.MaxInt16)
			if maxE > 0 {
				widest = min(widest, float32(math.MaxInt32/(int64(l.In)*maxE)))
			}
			cl.actMax = max(cl.actMax, widest)
		}
		cl.wide = float64(l.In)*float64(maxE)*float64(cl.actMax) > math.MaxInt32
		sparse := float64(nnz) < float64(dense)*csrDensityGeneric
		if useAVX2 && !cl.wide {
			sparse = float64(nnz) < float64(cl.out*cl.cols)*csrDensityAVX2
		}
		if layout != LayoutAuto {
			sparse = layout == LayoutSparse
		}
		if !sparse {
			cl.kind = intDense
			if maxE <= math.MaxInt8 {
				cl.w8 = denseRows[int8](l, cl.cols)
			} else {
				cl.w16 = denseRows[int16](l, cl.cols)
			}
			return cl
		}
		cl.kind = intCSR
		cl.v16 = make([]int16, 0, nnz)
		cl.buildCSR(l, nnz, func(j, k int) bool {
			e := l.Codes[k] - l.zero(j)
			if e == 0 {
				return false
			}
			cl.v16 = append(cl.v16, int16(e))
			return true
		})
		return cl
	}
	w := l.Weights(nil)
	sparse := float64(nnz) < float64(dense)*csrDensityFloat
	if layout != LayoutAuto {
		sparse = layout == LayoutSparse
	}
	if !sparse {
		cl.kind, cl.wf = floatDense, w
		return cl
	}
	cl.kind = floatCSR
	cl.vf = make([]float32, 0, nnz)
	cl.buildCSR(l, nnz, func(_, k int) bool {
		if w[k] == 0 {
			return false
		}
		cl.vf = append(cl.vf, w[k])
		return true
	})
	return cl
}

// denseRows returns the layer's codes minus their zero points, out rows of
// stride cols, zero-padded.
func denseRows[W int8 | int16](l *Layer, cols int) []W {
	w := make([]W, l.Out*cols)
	for j := range l.Out {
		z := l.zero(j)
		row := w[j*cols : j*cols+l.In]
		for i, q := range l.Codes[j*l.In : (j+1)*l.In] {
			row[i] = W(q - z)
		}
	}
	return w
}

// buildCSR fills the row pointers and column indices; keep appends the
// value of weight k of row j and reports whether it is non-zero.
func (cl *cLayer) buildCSR(l *Layer, nnz int, keep func(j, k int) bool) {
	cl.rowPtr = make([]int32, l.Out+1)
	small := l.In <= 1<<16
	if small {
		cl.col16 = make([]uint16, 0, nnz)
	} else {
		cl.col32 = make([]int32, 0, nnz)
	}
	n := 0
	for j := range l.Out {
		for i := range l.In {
			if !keep(j, j*l.In+i) {
				continue
			}
			if small {
				cl.col16 = append(cl.col16, uint16(i))
			} else {
				cl.col32 = append(cl.col32, int32(i))
			}
			n++
		}
		cl.rowPtr[j+1] = int32(n)
	}
}

// Proba writes class probabilities for the n raw (unstandardised) rows of
// x (n×Inputs, row-major) into dst (n×classes). Short buffers are a
// programming error and panic. NaN inputs give NaN outputs.
func (s *Session) Proba(dst, x []float32, n int) {
	c := s.c
	if n < 0 || len(x) < n*c.in || len(dst) < n*c.classes {
		panic(fmt.Sprintf("packed: Session.Proba: %d inputs and %d outputs for %d rows of %d features and %d classes", len(x), len(dst), n, c.in, c.classes))
	}
	for r := range n {
		s.one(dst[r*c.classes:(r+1)*c.classes], x[r*c.in:(r+1)*c.in])
	}
}

func (s *Session) one(dst, x []float32) {
	c := s.c
	cur, next := s.a, s.b
	a := cur[:c.in]
	if c.mean != nil {
		vec.Standardize(a, x[:len(a)], c.mean[:len(a)], c.scale[:len(a)])
	} else {
		copy(a, x)
	}
	for li := range c.layers {
		l := &c.layers[li]
		last := li == len(c.layers)-1
		out := next[:l.out]
		if last {
			out = dst[:l.out]
		}
		switch l.kind {
		case intDense, intCSR:
			s.intLayer(l, a, out)
		case floatDense:
			blas32.Gemv(blas.NoTrans, 1,
				blas32.General{Rows: l.out, Cols: l.in, Stride: l.in, Data: l.wf},
				blas32.Vector{N: l.in, Inc: 1, Data: a},
				0, blas32.Vector{N: l.out, Inc: 1, Data: out})
			addBias(out, l.bias)
		case floatCSR:
			if l.col32 == nil {
				csrFloat(out, l.rowPtr, l.col16, l.vf, a)
			} else {
				csrFloat(out, l.rowPtr, l.col32, l.vf, a)
			}
			addBias(out, l.bias)
		}
		if !last {
			activate(out, c.act)
		}
		a = out
		cur, next = next, cur
	}
	softmax(dst)
}

// intLayer computes out = x·Wᵀ·s_a·s_w + b for an integer layer.
func (s *Session) intLayer(l *cLayer, a, out []float32) {
	q := s.q[:l.in]
	sa := quantizeActs(q, a, l.actScale, l.unsigned, l.actMax)
	switch {
	case sa == 0: // an all-zero input
		copy(out, l.bias)
		return
	case sa != sa: // a NaN input
		nan := float32(math.NaN())
		for j := range out {
			out[j] = nan
		}
		return
	}
	if l.wide {
		acc := s.acc64[:l.out]
		switch {
		case l.w8 != nil:
			gemvWide(acc, l.w8, q, l.cols)
		case l.w16 != nil:
			gemvWide(acc, l.w16, q, l.cols)
		case l.col32 != nil:
			csrIntWide(acc, l.rowPtr, l.col32, l.v16, q)
		default:
			csrIntWide(acc, l.rowPtr, l.col16, l.v16, q)
		}
		for j, v := range acc {
			out[j] = float32(v)*(sa*l.sw[j]) + l.bias[j]
		}
		return
	}
	acc := s.acc[:l.out]
	// The padding columns of dense rows are zero, so whatever q holds
	// there adds nothing.
	switch {
	case l.w8 != nil:
		gemv(acc, l.w8, s.q[:l.cols], l.cols)
	case l.w16 != nil:
		gemv(acc, l.w16, s.q[:l.cols], l.cols)
	case l.col32 != nil:
		csrInt(acc, l.rowPtr, l.col32, l.v16, q)
	default:
		csrInt(acc, l.rowPtr, l.col16, l.v16, q)
	}
	dequantRows(out, acc, l.sw, l.bias, sa)
}

// quantizeActs writes the codes of a into q and returns the step: static
// (with 8-bit codes) when positive, else max|a|/dynMax with codes up to
// ±dynMax (0…dynMax when unsigned). It returns 0 when a is all zero and
// NaN when a holds a NaN; q is then not written.
func quantizeActs(q []int16, a []float32, static float32, unsigned bool, dynMax float32) float32 {
	lo, hi := actRange(unsigned)
	if static == 0 {
		hi = dynMax
		if !unsigned {
			lo = -dynMax
		}
	}
	bits := maxAbsBits(a)
	switch {
	case bits == 0:
		return 0
	case bits > 0x7f800000:
		return float32(math.NaN())
	}
	sa := static
	if sa == 0 {
		if sa = math.Float32frombits(bits) / hi; sa == 0 { // underflow
			sa = math.SmallestNonzeroFloat32
		}
	}
	q = q[:len(a)]
	if inv, ok := gridInv(sa); ok {
		quantize(q, a, inv, lo, hi)
		return sa
	}
	for i, v := range a {
		q[i] = int16(gridCode64(v, sa, lo, hi))
	}
	return sa
}

// csrInt sets acc[j] to the sum over row j's stored entries of value·q.
func csrInt[C uint16 | int32](acc []int32, rowPtr []int32, col []C, val, q []int16) {
	for j := range acc {
		cs := col[rowPtr[j]:rowPtr[j+1]]
		vs := val[rowPtr[j]:rowPtr[j+1]]
		vs = vs[:len(cs)]
		var a0, a1 int32
		k := 0
		for ; k+2 <= len(cs); k += 2 {
			a0 += int32(vs[k]) * int32(q[cs[k]])
			a1 += int32(vs[k+1]) * int32(q[cs[k+1]])
		}
		if k < len(cs) {
			a0 += int32(vs[k]) * int32(q[cs[k]])
		}
		acc[j] = a0 + a1
	}
}

// csrIntWide is csrInt accumulating in int64.
func csrIntWide[C uint16 | int32](acc []int64, rowPtr []int32, col []C, val, q []int16) {
	for j := range acc {
		cs := col[rowPtr[j]:rowPtr[j+1]]
		vs := val[rowPtr[j]:rowPtr[j+1]]
		vs = vs[:len(cs)]
		var a int64
		for k, c := range cs {
			a += int64(vs[k]) * int64(q[c])
		}
		acc[j] = a
	}
}

// gemvWide is gemvGeneric accumulating in int64; x may be shorter than
// cols (the padding weights are zero).
func gemvWide[W int8 | int16](dst []int64, w []W, x []int16, cols int) {
	for j := range dst {
		row := w[j*cols : j*cols+len(x)]
		var a int64
		for k, v := range row {
			a += int64(v) * int64(x[k])
		}
		dst[j] = a
	}
}

// csrFloat sets out[j] to the sum over row j's stored entries of value·a.
func csrFloat[C uint16 | int32](out []float32, rowPtr []int32, col []C, val, a []float32) {
	for j := range out {
		cs := col[rowPtr[j]:rowPtr[j+1]]
		vs := val[rowPtr[j]:rowPtr[j+1]]
		vs = vs[:len(cs)]
		var s float32
		for k, c := range cs {
			s += vs[k] * a[c]
		}
		out[j] = s
	}
}

func addBias(out, b []float32) {
	b = b[:len(out)]
	for j := range out {
		out[j] += b[j]
	}
}

// activate applies the hidden activation in place.
func activate(z []float32, act Activation) {
	if act == ReLU {
		for j, v := range z {
			// Clear v when its sign bit is set, as the trainer's ReLU does
			// (internal/vec): without a branch, which would mispredict on
			// half the units.
			u := math.Float32bits(v)
			z[j] = math.Float32frombits(u &^ uint32(int32(u)>>31))
		}
		return
	}
	for j, v := range z {
		z[j] = float32(math.Tanh(float64(v)))
	}
}

// softmax turns logits into probabilities in place, as package trainer
// does: exponentials and their sum in float64 (vec.SoftmaxRows).
func softmax(row []float32) { vec.SoftmaxRows(row, len(row)) }

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Proba writes class probabilities for the n raw rows of x into dst, as
// Session.Proba does, through a Session made for the call; use a Session
// for repeated calls. It returns an error wrapping ErrInvalid when m is
// not valid; short buffers panic.
func (m *Model) Proba(dst, x []float32, n int) error {
	s, err := NewSession(m)
	if err != nil {
		return err
	}
	s.Proba(dst, x, n)
	return nil
}

// ReferenceProba evaluates m in float32 arithmetic on the dequantized
// weights — the fake-quant model a quantization-aware trainer evaluates —
// and writes the class probabilities of the n raw rows of x into dst. A
// layer with a static ActScale has its input rounded to that activation
// grid first (FakeQuantizeActivations), as the integer path does; dynamic
// activation quantization, an implementation detail of the integer path,
// is not applied. Products run through blas32.Gemm. It allocates, and
// returns an error wrapping ErrInvalid when m is not valid.
func (m *Model) ReferenceProba(dst, x []float32, n int) error {
	if err := m.Validate(); err != nil {
		return err
	}
	d, c := m.Inputs(), len(m.Classes)
	if n < 0 || len(x) < n*d || len(dst) < n*c {
		panic(fmt.Sprintf("packed: Model.ReferenceProba: %d inputs and %d outputs for %d rows of %d features and %d classes", len(x), len(dst), n, d, c))
	}
	width := d
	weights := make([][]float32, len(m.Layers))
	for li := range m.Layers {
		weights[li] = m.Layers[li].Weights(nil)
		width = max(width, m.Layers[li].Out)
	}
	const chunk = 256
	bufA := make([]float32, chunk*width)
	bufB := make([]float32, chunk*width)
	for r0 := 0; r0 < n; r0 += chunk {
		rows := min(chunk, n-r0)
		in := bufA[:rows*d]
		for r := range rows {
			xr := x[(r0+r)*d : (r0+r+1)*d]
			ir := in[r*d : (r+1)*d]
			for i, v := range xr {
				if m.Mean != nil {
					v = (v - m.Mean[i]) / m.Scale[i]
				}
				ir[i] = v
			}
		}
		cur, next := bufA, bufB
		for li := range m.Layers {
			l := &m.Layers[li]
			last := li == len(m.Layers)-1
			if l.ActScale > 0 {
				FakeQuantizeActivations(in, in, l.ActScale, InputUnsigned(li, m.Act))
			}
			out := next[:rows*l.Out]
			if last {
				out = dst[r0*c : (r0+rows)*c]
			}
			blas32.Gemm(blas.NoTrans, blas.Trans, 1,
				blas32.General{Rows: rows, Cols: l.In, Stride: l.In, Data: in},
				blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: weights[li]},
				0, blas32.General{Rows: rows, Cols: l.Out, Stride: l.Out, Data: out})
			for r := range rows {
				row := out[r*l.Out : (r+1)*l.Out]
				addBias(row, l.Bias)
				if last {
					softmax(row)
				} else {
					activate(row, m.Act)
				}
			}
			in = out
			cur, next = next, cur
		}
	}
	return nil
}
