package packed

import (
	"fmt"
	"math"
)

// BundleSession runs inference for a Bundle: a Session per member and the
// combiner's scratch. After the first call Proba allocates nothing. It is
// not safe for concurrent use; Fork gives each goroutine its own.
type BundleSession struct {
	b       *Bundle
	members []*Session
	probs   []float32 // M×C member probabilities of one row
	out     []float64 // C
	feat    []float64 // M·C stacking features
}

// NewBundleSession compiles every member of b (opts apply to each). It
// returns an error wrapping ErrInvalid (or ErrTooLarge) when b is not
// valid.
func NewBundleSession(b *Bundle, opts ...SessionOption) (*BundleSession, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	s := &BundleSession{b: b, members: make([]*Session, len(b.Members))}
	for j, m := range b.Members {
		ms, err := NewSession(m, opts...)
		if err != nil {
			return nil, fmt.Errorf("bundle: member %d: %w", j, err)
		}
		s.members[j] = ms
	}
	s.alloc()
	return s, nil
}

func (s *BundleSession) alloc() {
	c, nm := len(s.b.Labels()), len(s.b.Members)
	s.probs = make([]float32, nm*c)
	s.out = make([]float64, c)
	s.feat = make([]float64, nm*c)
}

// Fork returns a BundleSession sharing s's compiled members, with its own
// scratch.
func (s *BundleSession) Fork() *BundleSession {
	f := &BundleSession{b: s.b, members: make([]*Session, len(s.members))}
	for j, m := range s.members {
		f.members[j] = m.Fork()
	}
	f.alloc()
	return f
}

// Proba writes the combined class probabilities for the n raw rows of x
// (n×Inputs) into dst (n×classes). Short buffers panic.
func (s *BundleSession) Proba(dst, x []float32, n int) {
	d, c := s.b.Inputs(), len(s.out)
	if n < 0 || len(x) < n*d || len(dst) < n*c {
		panic(fmt.Sprintf("packed: BundleSession.Proba: %d inputs and %d outputs for %d rows of %d features and %d classes", len(x), len(dst), n, d, c))
	}
	for r := range n {
		xr := x[r*d : (r+1)*d]
		for j, m := range s.members {
			m.Proba(s.probs[j*c:(j+1)*c], xr, 1)
		}
		s.combine()
		row := dst[r*c : (r+1)*c]
		for k, v := range s.out {
			row[k] = float32(v)
		}
	}
}

// combine fills s.out from s.probs.
func (s *BundleSession) combine() {
	b, c, nm := s.b, len(s.out), len(s.members)
	out := s.out
	clear(out)
	switch b.Method {
	case Average:
		var sum float64
		for j := range nm {
			w := 1.0
			if b.Weights != nil {
				w = float64(b.Weights[j])
			}
			sum += w
			for k, p := range s.probs[j*c : (j+1)*c] {
				out[k] += w * float64(p)
			}
		}
		for k := range out {
			out[k] /= sum
		}
	case Vote:
		// Votes and summed probabilities apart, so that equal counts and
		// equal sums give exactly equal outputs and the tie goes to the
		// lower class index.
		fm := float64(nm)
		delta := 1 / (2 * (fm + 1))
		voteW, avgW := (1-delta)/fm, delta/fm
		sum := s.feat[:c]
		clear(sum)
		for j := range nm {
			p := s.probs[j*c : (j+1)*c]
			out[argmax(p)]++
			for k, v := range p {
				sum[k] += float64(v)
			}
		}
		for k := range out {
			out[k] = voteW*out[k] + avgW*sum[k]
		}
	case Stack:
		f := len(s.feat)
		for i, p := range s.probs {
			if b.LogProbs {
				s.feat[i] = math.Log(max(float64(p), LogFloor))
			} else {
				s.feat[i] = float64(p)
			}
		}
		for k := range out {
			z := float64(b.Intercept[k])
			for i, w := range b.Coef[k*f : (k+1)*f] {
				z += float64(w) * s.feat[i]
			}
			out[k] = z
		}
		mx := out[0]
		for _, v := range out[1:] {
			mx = max(mx, v)
		}
		var sum float64
		for k, v := range out {
			out[k] = math.Exp(v - mx)
			sum += out[k]
		}
		for k := range out {
			out[k] /= sum
		}
	}
}

// argmax returns the index of the largest value, the first among ties.
func argmax(p []float32) int {
	best := 0
	for k, v := range p {
		if v > p[best] {
			best = k
		}
	}
	return best
}

// Proba writes the combined class probabilities for the n raw rows of x
// into dst through a BundleSession made for the call; use a BundleSession
// for repeated calls. It returns an error wrapping ErrInvalid when b is
// not valid; short buffers panic.
func (b *Bundle) Proba(dst, x []float32, n int) error {
	s, err := NewBundleSession(b)
	if err != nil {
		return err
	}
	s.Proba(dst, x, n)
	return nil
}
