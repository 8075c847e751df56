package packed

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// bundleMembers returns three small members sharing inputs and classes,
// of different schemes.
func bundleMembers(t testing.TB, rng *rand.Rand) []*Model {
	t.Helper()
	var ms []*Model
	for _, ns := range []netSpec{
		{sizes: []int{12, 10, 4}, sparsity: 0.8, scheme: Scheme{Bits: 4, PerChannel: true}, std: true, gain: 3},
		{sizes: []int{12, 6, 4}, sparsity: 0.5, scheme: Scheme{Bits: 8, Asymmetric: true}, act: Tanh, gain: 3},
		{sizes: []int{12, 8, 4}, scheme: Scheme{Bits: 32}, std: true, gain: 3},
	} {
		ms = append(ms, randomModel(t, rng, ns))
	}
	return ms
}

func bundleCases(ms []*Model) map[string]*Bundle {
	coef := make([]float32, 4*3*4)
	for i := range coef {
		coef[i] = float32(i%7) - 3
	}
	return map[string]*Bundle{
		"equal":     {Members: ms},
		"weighted":  {Members: ms, Weights: []float32{0.5, 0.25, 0.25}},
		"vote":      {Members: ms, Method: Vote},
		"stack":     {Members: ms, Method: Stack, Coef: coef, Intercept: []float32{0.1, -0.2, 0, 0.3}},
		"stack log": {Members: ms, Method: Stack, Coef: coef, Intercept: []float32{0, 0, 0, 0}, LogProbs: true},
		"single":    {Members: ms[:1], Method: Vote},
	}
}

func TestBundleRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 30))
	for name, b := range bundleCases(bundleMembers(t, rng)) {
		t.Run(name, func(t *testing.T) {
			enc := mustMarshal(t, b)
			got, err := UnmarshalBundle(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, b) {
				t.Fatal("decoded bundle differs")
			}
			if !bytes.Equal(mustMarshal(t, got), enc) {
				t.Fatal("re-encoding differs")
			}
			c, err := Parse(enc)
			if _, ok := c.(*Bundle); err != nil || !ok {
				t.Fatalf("Parse: %T, %v", c, err)
			}
			// A bundle costs its members' bodies plus header, checksum, three
			// bytes and a length varint per member.
			var members int
			for _, m := range b.Members {
				members += len(mustMarshal(t, m)) - headerLen - trailerLen
			}
			if over := len(enc) - members - 4*(len(b.Weights)+len(b.Coef)+len(b.Intercept)); over > headerLen+trailerLen+3+3*len(b.Members) {
				t.Errorf("%d bytes of overhead", over)
			}
		})
	}
}

// TestBundleProba recomputes each combiner from the members' own
// probabilities.
func TestBundleProba(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	ms := bundleMembers(t, rng)
	n, c := 200, 4
	x := randomInputs(rng, n, 12, true)
	probs := make([][]float32, len(ms))
	for j, m := range ms {
		probs[j] = make([]float32, n*c)
		if err := m.Proba(probs[j], x, n); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range bundleCases(ms) {
		t.Run(name, func(t *testing.T) {
			got := make([]float32, n*c)
			if err := b.Proba(got, x, n); err != nil {
				t.Fatal(err)
			}
			nm := len(b.Members)
			for r := range n {
				want := make([]float64, c)
				switch b.Method {
				case Average:
					for j := range nm {
						w := 1 / float64(nm)
						if b.Weights != nil {
							w = float64(b.Weights[j])
						}
						for k := range c {
							want[k] += w * float64(probs[j][r*c+k])
						}
					}
				case Vote:
					votes := make([]float64, c)
					sum := make([]float64, c)
					for j := range nm {
						row := probs[j][r*c : (r+1)*c]
						votes[argmax(row)]++
						for k, p := range row {
							sum[k] += float64(p)
						}
					}
					d := 1 / (2 * float64(nm+1))
					for k := range c {
						want[k] = (1-d)*votes[k]/float64(nm) + d*sum[k]/float64(nm)
					}
				case Stack:
					f := nm * c
					var z float64
					logits := make([]float64, c)
					for k := range c {
						logits[k] = float64(b.Intercept[k])
						for u := range nm {
							for i := range c {
								v := float64(probs[u][r*c+i])
								if b.LogProbs {
									v = math.Log(max(v, LogFloor))
								}
								logits[k] += float64(b.Coef[k*f+u*c+i]) * v
							}
						}
					}
					for k := range c {
						want[k] = math.Exp(logits[k])
						z += want[k]
					}
					for k := range c {
						want[k] /= z
					}
				}
				for k := range c {
					if d := math.Abs(float64(got[r*c+k]) - want[k]); d > 1e-5 {
						t.Fatalf("row %d class %d: %v, want %v", r, k, got[r*c+k], want[k])
					}
				}
			}
		})
	}
}

// TestVoteTies pins the vote's tie rule: most votes, then the larger
// summed probability, then the lower class index.
func TestVoteTies(t *testing.T) {
	tests := []struct {
		name  string
		probs []float32 // members × 3 classes
		want  int
	}{
		{"majority", []float32{0.9, 0.1, 0, 0.4, 0.6, 0, 0.2, 0.8, 0}, 1},
		{"tie to summed probability", []float32{0.9, 0.1, 0, 0.45, 0.55, 0}, 0},
		{"tie to lower index", []float32{0.6, 0.4, 0, 0.4, 0.6, 0}, 0},
		{"member tie to lower class", []float32{0.5, 0.5, 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nm := len(tc.probs) / 3
			s := &BundleSession{b: &Bundle{Method: Vote}, members: make([]*Session, nm), probs: tc.probs, out: make([]float64, 3), feat: make([]float64, len(tc.probs))}
			s.combine()
			best := 0
			for k, v := range s.out {
				if v > s.out[best] {
					best = k
				}
			}
			if best != tc.want {
				t.Fatalf("winner %d (%v), want %d", best, s.out, tc.want)
			}
		})
	}
}

func TestBundleValidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	ms := bundleMembers(t, rng)
	other := randomModel(t, rng, netSpec{sizes: []int{12, 5, 4}, scheme: Scheme{Bits: 4}})
	other.Classes = []string{"a", "b", "c", "d"}
	wide := randomModel(t, rng, netSpec{sizes: []int{13, 5, 4}, scheme: Scheme{Bits: 4}})
	wide.Classes = ms[0].Classes
	tests := []struct {
		name string
		b    *Bundle
		msg  string
	}{
		{"no members", &Bundle{}, "no members"},
		{"nil member", &Bundle{Members: []*Model{ms[0], nil}}, "member 1 is nil"},
		{"classes differ", &Bundle{Members: []*Model{ms[0], other}}, "classes"},
		{"inputs differ", &Bundle{Members: []*Model{ms[0], wide}}, "13 inputs"},
		{"weights count", &Bundle{Members: ms, Weights: []float32{1}}, "1 weights for 3 members"},
		{"weights sum", &Bundle{Members: ms, Weights: []float32{0.5, 0.5, 0.5}}, "sum"},
		{"negative weight", &Bundle{Members: ms[:2], Weights: []float32{1.5, -0.5}}, "weight 1"},
		{"NaN weight", &Bundle{Members: ms[:2], Weights: []float32{float32(math.NaN()), 1}}, "weight 0"},
		{"vote weights", &Bundle{Members: ms, Method: Vote, Weights: []float32{1, 0, 0}}, "weights set"},
		{"stack shape", &Bundle{Members: ms, Method: Stack, Coef: make([]float32, 4), Intercept: make([]float32, 4)}, "coefficients"},
		{"stack NaN", &Bundle{Members: ms[:1], Method: Stack, Coef: append(make([]float32, 15), float32(math.Inf(1))), Intercept: make([]float32, 4)}, "coefficient 15"},
		{"log probs on average", &Bundle{Members: ms, LogProbs: true}, "stacking"},
		{"unknown method", &Bundle{Members: ms, Method: 9}, "unknown method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.msg)
			}
			if _, err := tc.b.MarshalBinary(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("MarshalBinary: %v", err)
			}
		})
	}
}

// TestBundleDecodeChecks encodes bundles that Validate would refuse and
// checks that the decoder refuses them too.
func TestBundleDecodeChecks(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 33))
	ms := bundleMembers(t, rng)
	other := randomModel(t, rng, netSpec{sizes: []int{12, 5, 4}, scheme: Scheme{Bits: 4}})
	other.Classes = []string{"a", "b", "c", "d"}
	wide := randomModel(t, rng, netSpec{sizes: []int{13, 5, 4}, scheme: Scheme{Bits: 4}})
	wide.Classes = ms[0].Classes
	raw := func(b *Bundle) []byte {
		enc := appendHeader(nil, KindBundle)
		enc = b.appendBody(enc)
		return appendTrailer(enc, 0)
	}
	tests := []struct {
		name string
		b    *Bundle
		msg  string
	}{
		{"classes differ", &Bundle{Members: []*Model{ms[0], other}}, "member 1: classes"},
		{"inputs differ", &Bundle{Members: []*Model{ms[0], wide}}, "member 1: 13 inputs"},
		{"weights sum", &Bundle{Members: ms, Weights: []float32{0.5, 0.5, 0.5}}, "sum"},
		{"log probs on vote", &Bundle{Members: ms, Method: Vote, LogProbs: true}, "bundle flags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := UnmarshalBundle(raw(tc.b))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrCorrupt mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestBundleFork(t *testing.T) {
	rng := rand.New(rand.NewPCG(34, 34))
	b := &Bundle{Members: bundleMembers(t, rng), Method: Vote}
	s, err := NewBundleSession(b)
	if err != nil {
		t.Fatal(err)
	}
	x := randomInputs(rng, 20, 12, true)
	want, got := make([]float32, 80), make([]float32, 80)
	s.Proba(want, x, 20)
	done := make(chan struct{})
	f := s.Fork()
	go func() {
		defer close(done)
		f.Proba(got, x, 20)
	}()
	s.Proba(want, x, 20)
	<-done
	if !reflect.DeepEqual(got, want) {
		t.Fatal("forked session disagrees")
	}
}
