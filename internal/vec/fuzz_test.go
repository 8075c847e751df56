package vec

import (
	"encoding/binary"
	"math"
	"testing"
)

// floats decodes data as little-endian float32s, any bit pattern.
func floats(data []byte) []float32 {
	s := make([]float32, len(data)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return s
}

func fuzzSeed(vals ...float32) []byte {
	b := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// addWidthSeeds seeds the fuzz targets that take arbitrary floats and a
// row width: ordinary values over a width of 9, and NaN, infinities,
// signed zeros and subnormals over a width of 4.
func addWidthSeeds(f *testing.F) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	f.Add(fuzzSeed(1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 0.5, -0.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), uint8(9))
	f.Add(fuzzSeed(nan, -inf, 0, -0.0, inf, 3, -3, 1e-45, -1e-45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), uint8(4))
}

// FuzzAdam splits arbitrary bits into w, g, m, v and mask and checks Adam
// against the reference, and Adam, SGD and ReLUGrad on these vectors
// across paths.
func FuzzAdam(f *testing.F) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	f.Add(fuzzSeed(1, 2, 3, 4, 5, 0.5, -0.25, 1e-3, 2, 0.1, 1, 0, 1, 1, 0, 1, 7, 8, 9, 10), float32(0), float32(1e-3), false)
	f.Add(fuzzSeed(nan, -inf, 0, 1e-45, inf, 3, -3, -0.0, 1e38, 1), float32(1e-4), float32(0.01), true)
	f.Add(make([]byte, 4*5*17), float32(0.5), float32(1), true)
	f.Fuzz(func(t *testing.T, data []byte, l2, lr float32, masked bool) {
		x := floats(data)
		n := len(x) / 5
		c := &kernelCase{w: x[:n], g: x[n : 2*n], m: x[2*n : 3*n], v: x[3*n : 4*n], mask: x[4*n : 5*n],
			a: x[3*n : 4*n], l2: l2, lr: lr, mu: 0.9}
		if !masked {
			c.mask = nil
		}
		agree(t, c)
		w, m, v := clone(c.w), clone(c.m), clone(c.v)
		refAdam(w, c.g, m, v, c.mask, c.l2, c.lr, 1.25, 0.9, 0.999, 1e-8)
		got := runAll(t, paths()[len(paths())-1], c)
		checkSame(t, "Adam w", got.adamW, w)
		checkSame(t, "Adam m", got.adamM, m)
		checkSame(t, "Adam v", got.adamV, v)
	})
}

// FuzzBiasReLU cuts arbitrary bits into a block of rows and a bias of
// width w and checks BiasReLU (and BiasAdd and SumRows on the same block)
// against the reference and across paths.
func FuzzBiasReLU(f *testing.F) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	f.Add(fuzzSeed(1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 0.5, -0.5), uint8(3))
	f.Add(fuzzSeed(nan, -inf, 0, -0.0, inf, 3, -3, 1e-45, -1e-45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), uint8(9))
	f.Add(make([]byte, 4*11*4), uint8(10))
	f.Fuzz(func(t *testing.T, data []byte, width uint8) {
		x := floats(data)
		wd := int(width)
		if wd == 0 || wd > len(x) {
			return
		}
		b, rest := x[:wd], x[wd:]
		z := rest[:len(rest)/wd*wd]
		c := &kernelCase{w: z, g: z, m: z, v: z, a: z, z: z, b: b, lr: 1e-3, mu: 0.9}
		agree(t, c)
		want := clone(z)
		refBiasAct(want, b, true)
		got := runAll(t, paths()[len(paths())-1], c)
		for i := range want {
			if isNaN(z[i]) && isNaN(b[i%wd]) {
				continue // which NaN propagates is the compiler's choice
			}
			if !sameBits(got.relu[i], want[i]) {
				t.Fatalf("BiasReLU z[%d] = %#08x, want %#08x", i, math.Float32bits(got.relu[i]), math.Float32bits(want[i]))
			}
		}
		sum := make([]float32, wd)
		refSumRows(sum, z)
		checkSame(t, "SumRows", got.sum, sum)
	})
}
