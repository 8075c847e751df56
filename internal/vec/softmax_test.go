package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// softmaxCases are logit blocks (rows of c) with ordinary values,
// large gaps, ties, signed zeros, infinities, NaNs and subnormals.
func softmaxCases(rng *rand.Rand) (cases []struct {
	z []float32
	c int
}) {
	add := func(z []float32, c int) {
		cases = append(cases, struct {
			z []float32
			c int
		}{z, c})
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for c := 1; c <= 40; c++ {
		for _, scale := range []float32{1e-3, 1, 10, 100, 400, 1000} {
			z := make([]float32, 7*c)
			for i := range z {
				z[i] = scale * float32(rng.NormFloat64())
			}
			add(z, c)
		}
		z := make([]float32, 5*c)
		for i := range z {
			z[i] = []float32{0, -0.0, 1e-40, -1e-40, 3, 3, 699.99, -700, 700.001, 88.7, -inf, inf, nan}[rng.IntN(13)]
		}
		add(z, c)
	}
	add(make([]float32, 300*2), 300) // wider than the AVX2 path takes
	return cases
}

// TestSoftmaxRowsExact checks SoftmaxRows on every path bit for bit
// against the trainer's loop (softmaxRowsGeneric, which calls math.Exp).
func TestSoftmaxRowsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	cases := softmaxCases(rng)
	for _, p := range paths() {
		use(t, p)
		for _, tc := range cases {
			want := slices.Clone(tc.z)
			softmaxRowsGeneric(want, tc.c)
			got := slices.Clone(tc.z)
			SoftmaxRows(got, tc.c)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: c=%d, z[%d] = %v: got %v, want %v", p.name, tc.c, i, tc.z[i], got[i], want[i])
				}
			}
		}
	}
}

// expStats compares expShiftedAVX2 with math.Exp on the float32 bit
// patterns lo, lo+step, … below hi (as arguments x − 0), counting the
// groups the kernel declined.
func expStats(t *testing.T, lo, hi, step uint64) (n, declined int) {
	t.Helper()
	const batch = 1024
	src := make([]float32, batch)
	dst := make([]float64, batch)
	for u := lo; u < hi; {
		k := 0
		for ; k < batch && u < hi; k++ {
			src[k] = math.Float32frombits(uint32(u))
			u += step
		}
		for g := 0; g+4 <= k; g += 4 {
			if !expShiftedAVX2(&dst[g], &src[g], 1, 0) {
				declined++
				continue
			}
			for i := g; i < g+4; i++ {
				n++
				if want := math.Exp(float64(src[i])); math.Float64bits(dst[i]) != math.Float64bits(want) {
					t.Fatalf("exp(%v) = %v, math.Exp gives %v", src[i], dst[i], want)
				}
			}
		}
	}
	return n, declined
}

// TestExpShifted checks the AVX2 exponential against math.Exp on a
// sample of every float32 and around the range's edges.
func TestExpShifted(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 kernels")
	}
	n, _ := expStats(t, 0, 1<<32, 1<<10+1)
	for _, x := range []float32{700, -700, 1, -1, 0x1p-30, 88.72, -87.33, -745} {
		u := uint64(math.Float32bits(x))
		n2, _ := expStats(t, u-4000, u+4000, 1)
		n += n2
	}
	if n < 2_000_000 {
		t.Fatalf("only %d arguments checked", n)
	}
	// A NaN, an infinity or an argument past 700 anywhere in a group
	// declines it.
	var dst [4]float64
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), -700.01, 701} {
		for lane := range 4 {
			src := [4]float32{-1, -2, -3, -4}
			src[lane] = bad
			if expShiftedAVX2(&dst[0], &src[0], 1, 0) {
				t.Errorf("argument %v in lane %d: group accepted", bad, lane)
			}
		}
	}
}

// TestExpExhaustive checks every float32 argument (run with
// -vec.exhaustive).
func TestExpExhaustive(t *testing.T) {
	if !*exhaustive || !haveAVX2 {
		t.Skip("run with -vec.exhaustive on a CPU with AVX2")
	}
	n, declined := expStats(t, 0, 1<<32, 1)
	t.Logf("%d arguments equal math.Exp; %d groups of four declined", n, declined)
}

func TestSoftmaxRowsAllocs(t *testing.T) {
	z := make([]float32, 32*10)
	for i := range z {
		z[i] = float32(i % 7)
	}
	for _, p := range paths() {
		use(t, p)
		if a := testing.AllocsPerRun(50, func() { SoftmaxRows(z, 10) }); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", p.name, a)
		}
	}
}

func TestSoftmaxRowsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for 7 logits in rows of 3")
		}
	}()
	SoftmaxRows(make([]float32, 7), 3)
}

// FuzzSoftmaxRows checks SoftmaxRows on arbitrary bits, across paths.
func FuzzSoftmaxRows(f *testing.F) {
	f.Add(fuzzSeed(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), uint8(10))
	f.Add(fuzzSeed(-800, 0, 1e30, -1e30, float32(math.NaN()), 3, 4, 5), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		z := floats(data)
		w := int(c)%64 + 1
		z = z[:len(z)/w*w]
		want := slices.Clone(z)
		softmaxRowsGeneric(want, w)
		for _, p := range paths() {
			use(t, p)
			got := slices.Clone(z)
			SoftmaxRows(got, w)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: c=%d, z[%d] = %v: got %v, want %v", p.name, w, i, z[i], got[i], want[i])
				}
			}
		}
	})
}
