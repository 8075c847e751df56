package vec

import "math"

// SoftmaxRows is the trainer's softmax. Each row of c logits becomes
// probabilities in place, exactly as this loop computes them:
//
//	m := max(row...)
//	e[j] = math.Exp(float64(row[j] - m)); row[j] = float32(e[j]); s += e[j]
//	row[j] *= float32(1 / s)
//
// The AVX2 kernel computes four of the exponentials at a time with the
// operations of Go's own math.Exp on amd64 (archExp's FMA path, from
// Shibata's SLEEF: Cody–Waite reduction by ln 2, a division of the
// argument by 16, a Taylor polynomial and four squarings), one for one
// and in its order, so each e[j] is bit for bit math.Exp's; it does so
// only where every argument of a group of four lies in [−700, 700], where
// math.Exp takes that path, and leaves the rest (an infinity, a NaN, a
// gap of more than 700 between logits) to math.Exp. The sum stays a
// sequential float64 sum. TestSoftmaxRowsExact and FuzzSoftmaxRows pin the
// results to the loop above, and TestExpExhaustive (-vec.exhaustive)
// checks every float32 argument in the kernel's range against math.Exp.
//
// len(z) must be a multiple of c (c ≥ 1 unless z is empty).
func SoftmaxRows(z []float32, c int) {
	checkRows("SoftmaxRows", len(z), c)
	if len(z) == 0 {
		return
	}
	if !useAVX2 || c < 4 || c > softmaxMaxWidth {
		softmaxRowsGeneric(z, c)
		return
	}
	var e [softmaxMaxWidth + 4]float64
	var tail [4]float32
	c4 := c &^ 3
	for r := 0; r+c <= len(z); r += c {
		row := z[r : r+c : r+c]
		m := rowMax(row)
		ok := expShiftedAVX2(&e[0], &row[0], c4/4, m)
		if ok && c4 < c {
			for j := range tail {
				tail[j] = m // exp(0) = 1: any argument in range will do
			}
			copy(tail[:], row[c4:])
			ok = expShiftedAVX2(&e[c4], &tail[0], 1, m)
		}
		if !ok {
			for j, v := range row {
				e[j] = math.Exp(float64(v - m))
			}
		}
		var s float64
		for j := range row {
			row[j] = float32(e[j])
			s += e[j]
		}
		scaleRow(row, s)
	}
}

// softmaxMaxWidth is the widest row the AVX2 path takes (its exponentials
// live on the stack); wider rows run the generic loop.
const softmaxMaxWidth = 252

func softmaxRowsGeneric(z []float32, c int) {
	for r := 0; r+c <= len(z); r += c {
		row := z[r : r+c : r+c]
		m := rowMax(row)
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			row[j] = float32(e)
			s += e
		}
		scaleRow(row, s)
	}
}

// rowMax returns the largest logit of a row (a NaN if it holds one).
func rowMax(row []float32) float32 {
	m := row[0]
	for _, v := range row[1:] {
		m = max(m, v)
	}
	return m
}

// scaleRow divides the exponentials of a row by their sum s, as one
// float32 multiplication by float32(1/s) each.
func scaleRow(row []float32, s float64) {
	inv := float32(1 / s)
	for j := range row {
		row[j] *= inv
	}
}

// expTable holds expShiftedAVX2's constants, each in the four lanes of a
// vector, at the byte offsets listed in arch_amd64.s. The decimal
// literals are those of Go's math/exp_amd64.s, so both round to the same
// float64s.
var expTable = func() (t [16][4]uint64) {
	set := func(i int, bits uint64) { t[i] = [4]uint64{bits, bits, bits, bits} }
	f := math.Float64bits
	set(0, f(1.4426950408889634073599246810018920))                  // log2e
	set(1, f(0.69314718055966295651160180568695068359375))           // ln 2, upper half
	set(2, f(0.28235290563031577122588448175013436025525412068e-12)) // ln 2, lower half
	set(3, f(0.0625))
	for i, c := range [...]float64{
		2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3,
		8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1,
		0.5, 1.0, 2.0,
	} {
		set(4+i, f(c))
	}
	set(13, 1023)
	set(14, 1<<63-1)
	set(15, f(700))
	return t
}()
