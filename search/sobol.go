package search

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// Sobol proposes the points of a scrambled Sobol' sequence, one dimension
// per (expanded) parameter in sampling order, with the Joe–Kuo direction
// numbers (up to 1024 dimensions). Scrambling is a nested uniform (Owen)
// scramble of each dimension, hashed from Seed with Burley's (2020)
// Laine–Karras permutation, so every prefix of 2^m points keeps the net
// properties of the unscrambled sequence. Point i is used for the i-th
// fresh configuration of the history (promotions do not count), so the
// proposal is a function of (Seed, history). Inactive conditional
// parameters leave their coordinate unused.
type Sobol struct {
	// Seed selects the scramble; the zero value is a valid seed. Use the
	// sweep seed.
	Seed uint64
}

// Sample implements Sampler. The source is not used.
func (s *Sobol) Sample(space *Space, history []Trial, _ *rand.Rand) (Params, error) {
	d := len(space.params)
	if d > sobolMaxDims {
		return nil, fmt.Errorf("%w: Sobol supports %d dimensions, the space has %d", ErrInvalidConfig, sobolMaxDims, d)
	}
	n := 0
	for i := range history {
		if history[i].fresh() {
			n++
		}
	}
	if n > 1<<32-1 {
		return nil, fmt.Errorf("%w: Sobol sequence supports 2^32 points", ErrExhausted)
	}
	u := make([]float64, d)
	sobolScrambled(u, uint32(n), s.Seed)
	return space.build(func(i int) any { return space.params[i].fromUnit(u[i]) }), nil
}

// sobolV holds the direction numbers V[d][k] = m_k·2^(32-k-1), k = 0…31.
var sobolV = sync.OnceValue(func() *[sobolMaxDims][32]uint32 {
	var v [sobolMaxDims][32]uint32
	for k := range 32 {
		v[0][k] = 1 << (31 - k)
	}
	off := 0
	for d := 1; d < sobolMaxDims; d++ {
		p := uint32(sobolPoly[d-1])
		s := bits.Len32(p) - 1
		a := (p >> 1) & (1<<(s-1) - 1)
		for k := range s {
			v[d][k] = uint32(sobolM[off+k]) << (31 - k)
		}
		off += s
		for k := s; k < 32; k++ {
			x := v[d][k-s] ^ v[d][k-s]>>s
			for j := 1; j < s; j++ {
				if a>>(s-1-j)&1 == 1 {
					x ^= v[d][k-j]
				}
			}
			v[d][k] = x
		}
	}
	return &v
})

// sobolPoint writes the unscrambled 32-bit coordinates of point i (Gray
// code order, as in Joe–Kuo and SciPy) into dst.
func sobolPoint(dst []uint32, i uint32) {
	v := sobolV()
	g := i ^ i>>1
	for d := range dst {
		var x uint32
		for k, gg := 0, g; gg != 0; k, gg = k+1, gg>>1 {
			if gg&1 == 1 {
				x ^= v[d][k]
			}
		}
		dst[d] = x
	}
}

// sobolScrambled writes the scrambled point i in [0, 1) into dst.
func sobolScrambled(dst []float64, i uint32, seed uint64) {
	raw := make([]uint32, len(dst))
	sobolPoint(raw, i)
	for d, x := range raw {
		ds := uint32(splitmix64(seed ^ splitmix64(uint64(d))))
		dst[d] = float64(owenScramble(x, ds)) / (1 << 32)
	}
}

// owenScramble applies a hashed nested uniform scramble to the binary
// digits of x (most significant first): each digit is flipped depending on
// the seed and the digits above it only (Burley 2020, "Practical Hash-based
// Owen Scrambling").
func owenScramble(x, seed uint32) uint32 {
	x = bits.Reverse32(x)
	x ^= x * 0x3d20adea
	x += seed
	x *= (seed >> 16) | 1
	x ^= x * 0x05526c56
	x ^= x * 0x53a22864
	return bits.Reverse32(x)
}
