package packed

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// allSchemes lists every quantizing scheme.
func allSchemes() []Scheme {
	var out []Scheme
	for _, b := range []int{2, 3, 4, 5, 6, 8, 16} {
		for _, asym := range []bool{false, true} {
			for _, pc := range []bool{false, true} {
				out = append(out, Scheme{Bits: b, Asymmetric: asym, PerChannel: pc})
			}
		}
	}
	return out
}

// netSpec describes a random network for tests.
type netSpec struct {
	sizes    []int
	sparsity float64 // fraction of weights pruned per layer, by magnitude
	scheme   Scheme
	act      Activation
	std      bool    // include standardisation
	actScale bool    // set static activation scales (layers ≤ 8 bits)
	gain     float32 // multiplies the last layer's weights (sharper outputs); 0 means 1
}

// randomLayers draws He-uniform weights, prunes the smallest magnitudes of
// each layer to the sparsity and draws small biases.
func randomLayers(rng *rand.Rand, ns netSpec) []LayerSpec {
	var out []LayerSpec
	for l := 0; l+1 < len(ns.sizes); l++ {
		in, o := ns.sizes[l], ns.sizes[l+1]
		bound := float32(math.Sqrt(6 / float64(in)))
		w := make([]float32, in*o)
		for i := range w {
			w[i] = (2*rng.Float32() - 1) * bound
		}
		if l+2 == len(ns.sizes) && ns.gain != 0 {
			for i := range w {
				w[i] *= ns.gain
			}
		}
		prune(w, ns.sparsity)
		b := make([]float32, o)
		for i := range b {
			b[i] = 0.1 * (2*rng.Float32() - 1)
		}
		out = append(out, LayerSpec{W: w, B: b, In: in, Out: o, Scheme: ns.scheme})
	}
	return out
}

// prune zeroes the fraction s of w with the smallest magnitudes.
func prune(w []float32, s float64) {
	k := int(s * float64(len(w)))
	if k == 0 {
		return
	}
	mags := make([]float32, len(w))
	for i, v := range w {
		mags[i] = abs32(v)
	}
	slices.Sort(mags)
	thr := mags[k-1]
	n := 0
	for i, v := range w {
		if abs32(v) <= thr && n < k {
			w[i] = 0
			n++
		}
	}
}

func labels(c int) []string {
	out := make([]string, c)
	for i := range out {
		out[i] = "class-" + strconv.Itoa(i)
	}
	return out
}

// randomModel builds a Model from ns.
func randomModel(t testing.TB, rng *rand.Rand, ns netSpec) *Model {
	t.Helper()
	layers := randomLayers(rng, ns)
	var mean, scale []float32
	if ns.std {
		mean = make([]float32, ns.sizes[0])
		scale = make([]float32, ns.sizes[0])
		for i := range mean {
			mean[i] = 10 * rng.Float32()
			scale[i] = 0.5 + 5*rng.Float32()
		}
	}
	if ns.actScale && ns.scheme.Width() <= 8 {
		// Calibrate the static steps on random inputs through the
		// reference model.
		m, err := FromFloat(layers, ns.act, mean, scale, labels(ns.sizes[len(ns.sizes)-1]))
		if err != nil {
			t.Fatal(err)
		}
		x := randomInputs(rng, 200, ns.sizes[0], ns.std)
		for l, mx := range layerInputMax(m, x, 200) {
			hi := float32(ActMaxSigned)
			if InputUnsigned(l, ns.act) {
				hi = ActMaxUnsigned
			}
			layers[l].ActScale = mx / hi
		}
	}
	m, err := FromFloat(layers, ns.act, mean, scale, labels(ns.sizes[len(ns.sizes)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// layerInputMax returns, per layer, the largest |input| over the rows of x
// in the float reference (dequantized weights).
func layerInputMax(m *Model, x []float32, n int) []float32 {
	out := make([]float32, len(m.Layers))
	d := m.Inputs()
	for r := range n {
		a := slices.Clone(x[r*d : (r+1)*d])
		if m.Mean != nil {
			for i := range a {
				a[i] = (a[i] - m.Mean[i]) / m.Scale[i]
			}
		}
		for li := range m.Layers {
			l := &m.Layers[li]
			for _, v := range a {
				out[li] = max(out[li], abs32(v))
			}
			w := l.Weights(nil)
			next := make([]float32, l.Out)
			for j := range next {
				s := l.Bias[j]
				for i, v := range a {
					s += w[j*l.In+i] * v
				}
				next[j] = s
			}
			if li+1 < len(m.Layers) {
				activate(next, m.Act)
			}
			a = next
		}
	}
	return out
}

// randomInputs draws n rows of d raw features: around the standardisation
// means when std is set, standard normal otherwise.
func randomInputs(rng *rand.Rand, n, d int, std bool) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		if std {
			x[i] = 5 + 4*x[i]
		}
	}
	return x
}

// imageInputs draws n image-like rows of d raw pixels in 0…255: most
// pixels 0, a blob of bright ones, as Fashion-MNIST rows look.
func imageInputs(rng *rand.Rand, n, d int) []float32 {
	x := make([]float32, n*d)
	for r := range n {
		row := x[r*d : (r+1)*d]
		start := rng.IntN(d / 2)
		length := d/4 + rng.IntN(d/4)
		for i := start; i < start+length && i < d; i++ {
			row[i] = float32(rng.IntN(256))
		}
	}
	return x
}

// pixelStd returns standardisation parameters fitted on image rows.
func pixelStd(x []float32, n, d int) (mean, scale []float32) {
	mean = make([]float32, d)
	scale = make([]float32, d)
	for i := range d {
		var s, ss float64
		for r := range n {
			v := float64(x[r*d+i])
			s += v
			ss += v * v
		}
		mu := s / float64(n)
		sd := math.Sqrt(max(ss/float64(n)-mu*mu, 0))
		if sd == 0 {
			sd = 1
		}
		mean[i], scale[i] = float32(mu), float32(sd)
	}
	return mean, scale
}

func mustMarshal(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSession(t testing.TB, m *Model, opts ...SessionOption) *Session {
	t.Helper()
	s, err := NewSession(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// argmax32 returns the first index of the largest value.
func argmax32(p []float32) int { return argmax(p) }
