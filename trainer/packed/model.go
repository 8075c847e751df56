package packed

import (
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// Activation is the hidden-layer non-linearity. Its values match package
// trainer's, so packed.Activation(trainer.ReLU) == packed.ReLU.
type Activation uint8

// The hidden activations.
const (
	// ReLU is max(0, x).
	ReLU Activation = iota
	// Tanh is the hyperbolic tangent.
	Tanh
)

// String returns "relu" or "tanh".
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// Limits on the shapes a Model may have. Encoding refuses larger models
// and decoding rejects files that claim them, with ErrTooLarge.
const (
	// MaxLayers is the most layers a model may have.
	MaxLayers = 1 << 10
	// MaxWidth is the widest a layer (or the input) may be.
	MaxWidth = 1 << 24
	// MaxLabelLen is the longest class label, in bytes.
	MaxLabelLen = 1 << 12
)

// Layer is one dense layer y = act(x·Wᵀ + b) of a packed Model, with its
// weights quantized (Codes) or kept in float32 (W).
type Layer struct {
	// In and Out are the layer's fan-in and fan-out, each in [1, MaxWidth].
	In, Out int

	// Scheme is how the weights are quantized, in normal form: Bits is
	// never 0, and a 32-bit scheme has neither flag set.
	Scheme Scheme

	// Scales holds the quantization steps, positive and finite: Out of
	// them under a per-channel scheme, one otherwise. Nil at 32 bits.
	Scales []float32

	// Zero holds the zero points, one per scale, in [0, 2^Bits−1]. Nil
	// under a symmetric scheme, whose zero points are all 0.
	Zero []int32

	// Codes holds the Out×In weight codes, row-major (row j feeds output
	// j): weight (j, i) is (Codes[j·In+i] − z)·s with s and z the scale
	// and zero point of row j's group. Every code lies in Scheme.Range().
	// A code equal to its zero point is a zero (pruned) weight. Nil at 32
	// bits.
	Codes []int32

	// W holds the Out×In float32 weights of a 32-bit layer, row-major and
	// finite. Nil for a quantized layer.
	W []float32

	// Bias holds the Out biases, finite.
	Bias []float32

	// ActScale is the static activation step of the layer's input for the
	// integer path (see InputUnsigned and FakeQuantizeActivations): positive
	// and finite, or zero for a step computed per sample from the input's
	// largest magnitude. Always zero for layers of 16 and 32 bits.
	ActScale float32
}

// group returns the index into Scales and Zero of row j.
func (l *Layer) group(j int) int {
	if l.Scheme.PerChannel {
		return j
	}
	return 0
}

// zero returns the zero point of row j.
func (l *Layer) zero(j int) int32 {
	if l.Zero == nil {
		return 0
	}
	return l.Zero[l.group(j)]
}

// Weights writes the layer's Out×In float32 weights — dequantized, or W as
// it is — into dst (reused when its capacity suffices) and returns it.
func (l *Layer) Weights(dst []float32) []float32 {
	dst = resize(dst, l.In*l.Out)
	if l.Scheme.IsFloat() {
		copy(dst, l.W)
		return dst
	}
	for j := range l.Out {
		g := l.group(j)
		s, z := l.Scales[g], l.zero(j)
		row := dst[j*l.In : (j+1)*l.In]
		for i, q := range l.Codes[j*l.In : (j+1)*l.In] {
			row[i] = dequant(q, z, s)
		}
	}
	return dst
}

// Nonzero counts the weights that are not zero: codes other than their
// zero point, or float32 weights other than +0 (a −0 weight counts, as it
// is stored).
func (l *Layer) Nonzero() int {
	n := 0
	if l.Scheme.IsFloat() {
		for _, w := range l.W {
			if math.Float32bits(w) != 0 {
				n++
			}
		}
		return n
	}
	for j := range l.Out {
		z := l.zero(j)
		for _, q := range l.Codes[j*l.In : (j+1)*l.In] {
			if q != z {
				n++
			}
		}
	}
	return n
}

// liveInputs reports in dst (reused when its capacity suffices) which of
// the layer's inputs some non-zero weight reads.
func (l *Layer) liveInputs(dst []bool) []bool {
	dst = resize(dst, l.In)
	clear(dst)
	for j := range l.Out {
		for i := range l.In {
			if !dst[i] && !l.isZero(j, i) {
				dst[i] = true
			}
		}
	}
	return dst
}

// roundStd rounds the standardisation of the live inputs onto the compact
// grids (doc.go): each scale to the nearest point of the log grid below
// the largest, each mean to a multiple of its rounded scale·2^meanExp. It
// leaves them unchanged when any is not finite, a scale is not positive,
// or a rounded value would not be representable.
func roundStd(mean, scale []float32, live []bool) {
	var top float32
	for i, ok := range live {
		if !ok {
			continue
		}
		s, mu := scale[i], mean[i]
		if !(s > 0) || math.IsInf(float64(s), 0) || math.IsNaN(float64(mu)) || math.IsInf(float64(mu), 0) {
			return
		}
		top = max(top, s)
	}
	if top == 0 {
		return
	}
	ns, nm := slices.Clone(scale), slices.Clone(mean)
	for i, ok := range live {
		if !ok {
			continue
		}
		s := gridValue(top, gridNearest(top, scale[i], stdStep), stdStep)
		if !(s > 0) {
			return
		}
		c := math.RoundToEven(math.Ldexp(float64(mean[i])/float64(s), -meanExp))
		if math.Abs(c) > maxMeanCode {
			return
		}
		ns[i], nm[i] = s, meanValue(int64(c), s)
		if math.IsInf(float64(nm[i]), 0) {
			return
		}
	}
	copy(scale, ns)
	copy(mean, nm)
}

// Model is a packed classifier: input standardisation, dense layers with
// quantized or float32 weights and Act between them, and a softmax over
// Classes. FromFloat and Unmarshal build valid Models; a hand-built one is
// checked by Validate, which MarshalBinary and NewSession call.
//
// A Model is not modified by any method, so it may be shared by
// goroutines; inference state lives in a Session.
type Model struct {
	// Act is the hidden-layer activation.
	Act Activation

	// Mean and Scale standardise raw inputs before the first layer:
	// x' = (x − Mean[i]) / Scale[i], in float32 as package trainer's
	// Standardizer does. Both nil means inputs are used as they are;
	// otherwise both have Layers[0].In entries, finite, Scale non-zero,
	// and an input no non-zero weight of layer 0 reads has Mean 0 and
	// Scale 1 (the file does not store them).
	Mean, Scale []float32

	// Classes names the output classes, one per output of the last layer:
	// valid UTF-8, at most MaxLabelLen bytes, distinct.
	Classes []string

	// Layers lists the layers from input to output; at least one, at most
	// MaxLayers, each Layers[l].In equal to Layers[l−1].Out.
	Layers []Layer
}

// LayerSpec is one float32 layer handed to FromFloat.
type LayerSpec struct {
	// W holds the Out×In weights, row-major (row j feeds output j), as in
	// trainer.Layer. Zero weights are pruned ones.
	W []float32
	// B holds the Out biases.
	B []float32
	// In and Out are the layer's fan-in and fan-out.
	In, Out int
	// Scheme is how to quantize W; the zero value keeps float32.
	Scheme Scheme
	// ActScale is the static activation step of the layer's input (see
	// Layer.ActScale); zero means dynamic. Only layers of at most 8 bits
	// may set it.
	ActScale float32
}

// FromFloat quantizes float32 layers into a Model. mean and scale are the
// input standardisation (both nil for none); classes names the outputs of
// the last layer. Inputs are copied, not retained. It returns an error
// wrapping ErrInvalid for inconsistent shapes, non-finite values or a bad
// scheme, naming the layer and field.
//
// Besides quantizing the weights (per-channel scales of at most 8 bits on
// their log grid, as Params computes them), FromFloat rounds what the file
// stores compactly (doc.go, "Compact metadata"): the biases of layers of
// at most 8 bits to a power-of-two step of at most max|bias|/127, and,
// when the first layer has at most 8 bits, the standardisation scales to
// 1/128 octave and the means to 1/128 of their scale. Inputs that no
// non-zero weight of the first layer reads get mean 0 and scale 1. Layers
// of 16 and 32 bits, and the standardisation of a model whose first layer
// has 16 or 32 bits, keep their float32 values.
func FromFloat(layers []LayerSpec, act Activation, mean, scale []float32, classes []string) (*Model, error) {
	m := &Model{Act: act, Classes: append([]string(nil), classes...)}
	if mean != nil || scale != nil {
		m.Mean = append([]float32{}, mean...)
		m.Scale = append([]float32{}, scale...)
	}
	var qp QParams
	for li, ls := range layers {
		if ls.In < 1 || ls.Out < 1 || len(ls.W) != ls.In*ls.Out || len(ls.B) != ls.Out {
			return nil, fmt.Errorf("%w: layer %d: %d weights and %d biases for %d inputs and %d outputs", ErrInvalid, li, len(ls.W), len(ls.B), ls.In, ls.Out)
		}
		if err := ls.Scheme.Validate(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", li, err)
		}
		l := Layer{In: ls.In, Out: ls.Out, Scheme: ls.Scheme.normal(), Bias: append([]float32{}, ls.B...), ActScale: ls.ActScale}
		if l.Scheme.Width() <= 8 && nonFinite(l.Bias) < 0 {
			roundBiases(l.Bias)
		}
		if l.Scheme.IsFloat() {
			l.W = append([]float32{}, ls.W...)
		} else {
			if err := Params(&qp, ls.W, ls.Out, ls.In, l.Scheme); err != nil {
				return nil, fmt.Errorf("layer %d: %w", li, err)
			}
			l.Codes = make([]int32, len(ls.W))
			Quantize(l.Codes, ls.W, ls.Out, ls.In, &qp, l.Scheme)
			l.Scales = append([]float32{}, qp.Scale...)
			if l.Scheme.Asymmetric {
				l.Zero = append([]int32{}, qp.Zero...)
			}
		}
		m.Layers = append(m.Layers, l)
	}
	if len(m.Layers) > 0 && len(m.Mean) == m.Inputs() && len(m.Scale) == m.Inputs() {
		live := m.Layers[0].liveInputs(nil)
		for i, ok := range live {
			if !ok {
				m.Mean[i], m.Scale[i] = 0, 1
			}
		}
		if m.Layers[0].Scheme.Width() <= 8 {
			roundStd(m.Mean, m.Scale, live)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Inputs returns the number of raw input features.
func (m *Model) Inputs() int {
	if len(m.Layers) == 0 {
		return 0
	}
	return m.Layers[0].In
}

// Labels returns the class labels (m.Classes, not a copy).
func (m *Model) Labels() []string { return m.Classes }

// Sparsity returns the fraction of weights (not biases) that are zero.
func (m *Model) Sparsity() float64 {
	var nz, total int
	for i := range m.Layers {
		nz += m.Layers[i].Nonzero()
		total += m.Layers[i].In * m.Layers[i].Out
	}
	if total == 0 {
		return 0
	}
	return 1 - float64(nz)/float64(total)
}

// Validate checks every invariant documented on Model and Layer and
// returns the first violation, wrapping ErrInvalid (or ErrTooLarge for the
// shape limits) and naming the layer and field.
func (m *Model) Validate() error {
	if len(m.Layers) == 0 {
		return fmt.Errorf("%w: no layers", ErrInvalid)
	}
	if len(m.Layers) > MaxLayers {
		return fmt.Errorf("%w: %d layers (limit %d)", ErrTooLarge, len(m.Layers), MaxLayers)
	}
	if m.Act != ReLU && m.Act != Tanh {
		return fmt.Errorf("%w: activation %d (want relu or tanh)", ErrInvalid, m.Act)
	}
	for li := range m.Layers {
		if err := m.Layers[li].validate(li); err != nil {
			return err
		}
		if li > 0 && m.Layers[li].In != m.Layers[li-1].Out {
			return fmt.Errorf("%w: layer %d: %d inputs after %d outputs", ErrInvalid, li, m.Layers[li].In, m.Layers[li-1].Out)
		}
	}
	if (m.Mean == nil) != (m.Scale == nil) || (m.Mean != nil && (len(m.Mean) != m.Inputs() || len(m.Scale) != m.Inputs())) {
		return fmt.Errorf("%w: standardisation: %d means and %d scales for %d inputs", ErrInvalid, len(m.Mean), len(m.Scale), m.Inputs())
	}
	if i := nonFinite(m.Mean); i >= 0 {
		return fmt.Errorf("%w: standardisation: mean %d is %v", ErrInvalid, i, m.Mean[i])
	}
	for i, s := range m.Scale {
		if s == 0 || math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("%w: standardisation: scale %d is %v (want finite, non-zero)", ErrInvalid, i, s)
		}
	}
	if m.Mean != nil {
		for i, ok := range m.Layers[0].liveInputs(nil) {
			if !ok && (math.Float32bits(m.Mean[i]) != 0 || m.Scale[i] != 1) {
				return fmt.Errorf("%w: standardisation: input %d, which no weight reads, has mean %v and scale %v (want 0 and 1)", ErrInvalid, i, m.Mean[i], m.Scale[i])
			}
		}
	}
	c := m.Layers[len(m.Layers)-1].Out
	if len(m.Classes) != c {
		return fmt.Errorf("%w: %d class labels for %d outputs", ErrInvalid, len(m.Classes), c)
	}
	seen := make(map[string]int, len(m.Classes))
	for i, s := range m.Classes {
		if len(s) > MaxLabelLen {
			return fmt.Errorf("%w: class %d: label of %d bytes (limit %d)", ErrTooLarge, i, len(s), MaxLabelLen)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: class %d: label %q is not valid UTF-8", ErrInvalid, i, s)
		}
		if j, dup := seen[s]; dup {
			return fmt.Errorf("%w: classes %d and %d are both %q", ErrInvalid, j, i, s)
		}
		seen[s] = i
	}
	return nil
}

func (l *Layer) validate(li int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: layer %d: "+format, append([]any{ErrInvalid, li}, args...)...)
	}
	if l.In < 1 || l.Out < 1 {
		return bad("%d inputs and %d outputs", l.In, l.Out)
	}
	if l.In > MaxWidth || l.Out > MaxWidth {
		return fmt.Errorf("%w: layer %d: %d×%d (limit %d)", ErrTooLarge, li, l.Out, l.In, MaxWidth)
	}
	if err := l.Scheme.Validate(); err != nil {
		return fmt.Errorf("layer %d: %w", li, err)
	}
	if l.Scheme != l.Scheme.normal() || l.Scheme.Bits == 0 {
		return bad("scheme %+v is not in normal form", l.Scheme)
	}
	n := l.In * l.Out
	if len(l.Bias) != l.Out {
		return bad("%d biases for %d outputs", len(l.Bias), l.Out)
	}
	if i := nonFinite(l.Bias); i >= 0 {
		return bad("bias %d is %v", i, l.Bias[i])
	}
	if a := l.ActScale; a < 0 || math.IsNaN(float64(a)) || math.IsInf(float64(a), 0) {
		return bad("activation scale %v (want finite, ≥ 0)", a)
	}
	if l.Scheme.IsFloat() {
		if len(l.W) != n || l.Codes != nil || l.Scales != nil || l.Zero != nil {
			return bad("float32 layer with %d weights, %d codes, %d scales, %d zero points (want %d, none, none, none)", len(l.W), len(l.Codes), len(l.Scales), len(l.Zero), n)
		}
		if i := nonFinite(l.W); i >= 0 {
			return bad("weight %d is %v", i, l.W[i])
		}
		if l.ActScale != 0 {
			return bad("a float32 layer has no activation scale")
		}
		return nil
	}
	if l.Scheme.Width() > 8 && l.ActScale != 0 {
		return bad("a %d-bit layer has no activation scale", l.Scheme.Width())
	}
	groups := 1
	if l.Scheme.PerChannel {
		groups = l.Out
	}
	if len(l.Codes) != n || l.W != nil || len(l.Scales) != groups {
		return bad("%d codes, %d float weights, %d scales (want %d, none, %d)", len(l.Codes), len(l.W), len(l.Scales), n, groups)
	}
	for i, s := range l.Scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return bad("scale %d is %v (want finite, > 0)", i, s)
		}
	}
	lo, hi := l.Scheme.Range()
	if l.Scheme.Asymmetric {
		if len(l.Zero) != groups {
			return bad("%d zero points for %d scales", len(l.Zero), groups)
		}
		for i, z := range l.Zero {
			if z < lo || z > hi {
				return bad("zero point %d is %d (want %d…%d)", i, z, lo, hi)
			}
		}
	} else if l.Zero != nil {
		return bad("a symmetric layer has no zero points")
	}
	for i, q := range l.Codes {
		if q < lo || q > hi {
			return bad("code %d is %d (want %d…%d)", i, q, lo, hi)
		}
	}
	return nil
}

// nonFinite returns the index of the first NaN or infinite value, or −1.
func nonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
