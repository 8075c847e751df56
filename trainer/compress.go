package trainer

import (
	"fmt"
	"math"
	"time"

	"github.com/consort-ml/consort/trainer/data"
	"github.com/consort-ml/consort/trainer/packed"
)

// Scheme returns the weight quantization scheme cfg asks for.
func (c *Config) Scheme() packed.Scheme {
	return packed.Scheme{Bits: c.Bits, Asymmetric: c.Asymmetric, PerChannel: c.PerChannel}
}

// integer reports whether cfg's packed model infers in integer arithmetic.
func (c *Config) integer() bool { return c.Bits <= 8 }

func packedAct(a Activation) packed.Activation {
	if a == Tanh {
		return packed.Tanh
	}
	return packed.ReLU
}

// qat holds quantization-aware training state for the fake-quantized
// copies of the weights (the fitter's fw), refreshed after every update,
// which the forward and backward passes use while the optimizer updates
// the float weights (straight-through estimator).
type qat struct {
	scheme  packed.Scheme
	scratch packed.QParams
	// actScale holds static activation steps of each layer's input, when
	// 8-bit activations are on.
	actScale []float32
}

func (q *qat) refresh(f *fitter) {
	for li := range f.net.Layers {
		l := &f.net.Layers[li]
		packed.FakeQuantize(f.fw[li], l.W, l.Out, l.In, q.scheme, &q.scratch)
	}
}

// startQAT switches the fitter to quantization-aware training when cfg
// asks for it (QAT and bits < 32): from now on the passes see
// fake-quantized weights, and with 8-bit activations fake-quantized layer
// inputs on a grid calibrated on set. It reports whether it did.
func (f *fitter) startQAT(set *Set) bool {
	cfg := f.cfg
	if !cfg.QAT || cfg.Bits == 32 {
		return false
	}
	q := &qat{scheme: cfg.Scheme()}
	for li := range f.net.Layers {
		f.fw[li] = make([]float32, len(f.net.Layers[li].W))
	}
	q.refresh(f)
	if cfg.ActBits == 8 && cfg.integer() {
		q.actScale = calibrate(f.net, f.fw, set)
		f.actScale = q.actScale
	}
	prev := f.onStep
	f.onStep = func() {
		if prev != nil {
			prev()
		}
		q.refresh(f)
	}
	return true
}

// calibrate returns each layer's static 8-bit activation step: the largest
// input magnitude over set divided by the code range (see
// packed.InputUnsigned).
func calibrate(net *MLP, weights [][]float32, set *Set) []float32 {
	const chunk = 256
	w := net.maxWidth()
	a, b := make([]float32, chunk*w), make([]float32, chunk*w)
	peak := make([]float32, len(net.Layers))
	d := net.Inputs()
	for r0 := 0; r0 < set.N; r0 += chunk {
		rows := min(chunk, set.N-r0)
		in := set.X[r0*d : (r0+rows)*d]
		for li := range net.Layers {
			for _, v := range in {
				peak[li] = max(peak[li], abs32(v))
			}
			if li == len(net.Layers)-1 {
				break
			}
			l := &net.Layers[li]
			out := a[:rows*l.Out]
			denseForward(in, out, rows, l, weights[li], net.Act, false)
			in = out
			a, b = b, a
		}
	}
	scales := make([]float32, len(net.Layers))
	for li, p := range peak {
		lim := float32(packed.ActMaxSigned)
		if packed.InputUnsigned(li, packedAct(net.Act)) {
			lim = packed.ActMaxUnsigned
		}
		if p > 0 {
			scales[li] = p / lim
		}
	}
	return scales
}

// Pack quantizes a trained model into its packed form, the artifact that
// ships. actScale, when not nil, gives static 8-bit activation steps per
// layer.
func Pack(m *Model, cfg *Config, actScale []float32) (*packed.Model, error) {
	layers := make([]packed.LayerSpec, len(m.Net.Layers))
	for li, l := range m.Net.Layers {
		layers[li] = packed.LayerSpec{W: l.W, B: l.B, In: l.In, Out: l.Out, Scheme: cfg.Scheme()}
		if actScale != nil && cfg.integer() {
			layers[li].ActScale = actScale[li]
		}
	}
	var mean, scale []float32
	if m.Std != nil {
		mean, scale = m.Std.Mean, m.Std.Scale
	}
	pm, err := packed.FromFloat(layers, packedAct(m.Net.Act), mean, scale, m.Classes)
	if err != nil {
		return nil, fmt.Errorf("trainer: pack: %w", err)
	}
	return pm, nil
}

// Size describes a packed model: what `size_bytes` and its companions
// report everywhere in consort.
type Size struct {
	// Bytes is the length of the packed encoding.
	Bytes int64 `json:"size_bytes"`
	// Sparsity is the share of the configured dense architecture's
	// weights that the packed model does not store (pruned, or removed
	// with their neurons).
	Sparsity float64 `json:"sparsity"`
	// Bits is the weight bit-width.
	Bits int `json:"bits"`
	// CompressionRatio is the packed size of the dense float32 model of
	// the same architecture divided by Bytes.
	CompressionRatio float64 `json:"compression_ratio"`
	// LatencyUS is the mean time to classify one sample with the packed
	// model, in microseconds, measured one sample at a time.
	LatencyUS float64 `json:"latency_us"`
}

// Measure computes the Size of pm, trained with cfg on d features and
// classes classes, timing inference on the rows of x (raw features).
func Measure(pm *packed.Model, cfg *Config, d int, classNames []string, x []float32) (Size, error) {
	s, err := MeasureSize(pm, cfg, d, classNames)
	if err != nil {
		return Size{}, err
	}
	if s.LatencyUS, err = Latency(pm, x, d); err != nil {
		return Size{}, err
	}
	return s, nil
}

// MeasureSize is Measure without the latency (LatencyUS is 0): bytes,
// sparsity, bits and compression ratio only, which cost microseconds
// where timing inference costs at least 30 ms.
func MeasureSize(pm *packed.Model, cfg *Config, d int, classNames []string) (Size, error) {
	b, err := pm.MarshalBinary()
	if err != nil {
		return Size{}, err
	}
	dense, err := denseBytes(cfg.Sizes(d, len(classNames)), classNames, pm.Mean != nil)
	if err != nil {
		return Size{}, err
	}
	stored, total := 0, 0
	for _, l := range pm.Layers {
		stored += l.Nonzero()
	}
	s := cfg.Sizes(d, len(classNames))
	for i := 0; i+1 < len(s); i++ {
		total += s[i] * s[i+1]
	}
	return Size{
		Bytes:            int64(len(b)),
		Sparsity:         1 - float64(stored)/float64(total),
		Bits:             cfg.Bits,
		CompressionRatio: float64(dense) / float64(len(b)),
	}, nil
}

// denseBytes is the packed size of a dense float32 model of these sizes.
func denseBytes(sizes []int, classes []string, std bool) (int, error) {
	layers := make([]packed.LayerSpec, len(sizes)-1)
	for i := range layers {
		in, out := sizes[i], sizes[i+1]
		w := make([]float32, in*out)
		for j := range w {
			w[j] = 1
		}
		layers[i] = packed.LayerSpec{W: w, B: make([]float32, out), In: in, Out: out, Scheme: packed.Scheme{Bits: 32}}
	}
	var mean, scale []float32
	if std {
		mean, scale = make([]float32, sizes[0]), make([]float32, sizes[0])
		for i := range scale {
			scale[i] = 1
		}
	}
	pm, err := packed.FromFloat(layers, packed.ReLU, mean, scale, classes)
	if err != nil {
		return 0, err
	}
	b, err := pm.MarshalBinary()
	return len(b), err
}

// Latency returns the mean per-sample inference time of pm in
// microseconds: samples (rows of x, d features each, at most 1,000 used)
// classified one at a time, for at least 10 ms and at least once each; the
// fastest of three such rounds, so that a neighbour's burst of work is not
// counted as ours. (Rounds of 30 ms gave the same spread over repeated
// runs, 1.57–1.62 µs for a 64-90-45-10 network, and cost every trial
// 60 ms more: 12% of a 45-epoch digits trial.)
func Latency(pm *packed.Model, x []float32, d int) (float64, error) {
	n := min(len(x)/d, 1000)
	if n == 0 {
		return 0, nil
	}
	s, err := packed.NewSession(pm)
	if err != nil {
		return 0, err
	}
	dst := make([]float32, len(pm.Classes))
	for i := 0; i < min(n, 20); i++ { // warm up
		s.Proba(dst, x[i*d:(i+1)*d], 1)
	}
	best := math.Inf(1)
	for round := 0; round < 3; round++ {
		calls := 0
		start := time.Now()
		for time.Since(start) < 10*time.Millisecond || calls < n {
			for i := 0; i < n; i++ {
				s.Proba(dst, x[i*d:(i+1)*d], 1)
			}
			calls += n
		}
		best = min(best, float64(time.Since(start).Nanoseconds())/1e3/float64(calls))
	}
	return best, nil
}

// predictPacked returns pm's probabilities for rows idx of ds (raw).
func predictPacked(pm *packed.Model, ds *data.Dataset, idx []int) ([]float32, error) {
	sub := ds.Subset(idx)
	s, err := packed.NewSession(pm)
	if err != nil {
		return nil, err
	}
	probs := make([]float32, sub.N*ds.NumClasses())
	s.Proba(probs, sub.X, sub.N)
	if err := finiteProbs(probs); err != nil {
		return nil, err
	}
	return probs, nil
}

func finiteProbs(p []float32) error {
	for i, v := range p {
		if math.IsNaN(float64(v)) {
			return fmt.Errorf("trainer: prediction %d is NaN (training diverged)", i)
		}
	}
	return nil
}
