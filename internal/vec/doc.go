// Package vec holds the elementwise float32 kernels of the trainer's
// training step — the Adam and SGD updates, bias plus activation (ReLU,
// tanh or none), the activation gradients and the bias gradient — with
// AVX2 assembly on amd64 and a portable Go fallback that give
// bit-identical results.
//
// The matrix products of a step run through package gemm; once they are
// fast, these loops are a large share of what is left (on digits
// 64-64-32-10 at batch 32 the scalar Adam update alone took 28% of a step).
// Every function works in place on slices the caller owns and allocates
// nothing:
//
//	vec.BiasReLU(z, b)       // forward: z = max(z + b, 0), row by row
//	vec.ReLUGrad(delta, z)   // backward through the ReLU
//	vec.SumRows(gb, delta)   // bias gradient
//	vec.Adam(w, gw, m, v, mask, l2, step, rbc2, 0.9, 0.999, 1e-8)
//
// BiasTanh and TanhGrad do the same for tanh layers, BiasAdd for the
// output layer and SGD for momentum SGD; Standardize maps raw features to
// (x − mean)/scale for training data and packed inference, and
// ColumnStats and ColumnSquares fold rows into the float64 column sums,
// extremes and squared deviations that fit its mean and scale; SoftmaxRows
// is the output layer's softmax.
//
// # Paths
//
// The kernels are chosen once, at start-up, from the CPU's features as
// reported by golang.org/x/sys/cpu; Path names the choice for logs:
//
//   - "avx2": amd64 with AVX2 and FMA; hand-written Go assembly working on
//     8-float vectors. The last, partial vector of a row (BiasReLU,
//     BiasAdd, BiasTanh, SumRows) is an overlapping full vector ending at
//     the row's end; the last n mod 8 elements of a flat vector (Adam,
//     SGD, ReLUGrad, TanhGrad), the last d mod 8 features of a row
//     (Standardize, which may run in place; ColumnStats, ColumnSquares)
//     and rows narrower than 8 go through the Go loops. SoftmaxRows works
//     on groups of four exponentials in float64, a row's last c mod 4
//     padded to a full group; rows narrower than 4 or wider than 252 go
//     through the Go loop.
//   - "generic": plain Go everywhere else, and the only path when built
//     with the purego tag.
//
// # Results
//
// Each function documents its formula and the order of its float32
// operations (float64 in ColumnStats and ColumnSquares), every one rounded
// to its type (square root and division
// included: the assembly uses VSQRTPS and VDIVPS, which are correctly
// rounded). Neither path contracts a multiply and an add into an FMA: the
// Go loops wrap products in explicit float32 conversions, which the
// language specification says forbid fusion, and the assembly has no FMA
// instructions. So both paths give the same bits, on every architecture
// and GOAMD64 level, and the same bits as the trainer's original loops
// wherever the compiler did not fuse those (amd64 below GOAMD64=v3) and,
// for Adam and SGD, no subnormal arises (see below). The
// results do not depend on alignment, on where a vector boundary falls or
// on the goroutine: same inputs, same bits.
//
// SoftmaxRows is the exception to "no FMA": its exponentials are Go's
// math.Exp, whose amd64 assembly uses fused multiply-adds when the CPU has
// FMA, and its AVX2 kernel repeats those operations four lanes at a time,
// so each equals math.Exp's result (checked for every float32 argument it
// accepts); its generic path calls math.Exp itself.
//
// BiasTanh replaces the trainer's float64 math.Tanh with its own tanh
// (see BiasTanh), evaluated the same way on both paths; it is within
// 1 ulp of float32(math.Tanh(x)) by construction and, checked over all
// 2³² float32s, equal to it.
//
// One latitude remains, for NaNs: where an operation meets two NaNs, x86
// returns its first operand's, and which operand comes first in the Go
// loops is up to the compiler, so the two paths may return different NaNs
// (payload and sign). Where only one operand is a NaN it propagates
// identically. BiasReLU clears every sum whose sign bit is set, NaNs
// included, so a sum of two NaNs may be NaN on one path and +0 on the
// other.
//
// Adam and SGD flush subnormals, as x86 does with MXCSR's FTZ and DAZ
// bits (the AVX2 kernels set them for their own duration and restore the
// caller's mode; the Go loops do the same by hand): a subnormal operand
// reads as a zero of its sign, and a result that x86 finds tiny — below
// 2⁻¹²⁶ after rounding to 24 bits with an unbounded exponent — becomes a
// zero of its sign. Without it the first moment of a weight whose gradient
// stays exactly zero (a dead unit, or a weight on an always-zero input
// pixel) decays into the subnormals after about 800 steps and stays there,
// and on the Intel Xeon cores of the machine this was measured on every
// operation on one takes a microcode assist: on digits with one hidden
// layer of 200 at batch 16, 4% of the first moments were subnormal and
// Adam ran at 6 ns an element instead of 0.4; flushing cut `consort train`
// (45 epochs, 5 folds and the refit, one core) from 1.77 s to 0.72 s, and
// at batch 32 from 0.80 s to 0.58 s, with the same accuracy to every
// digit. The other kernels compute subnormals exactly.
//
// Both also set a new weight below 2⁻⁸⁰ in magnitude to a zero of its
// sign (DROPTINY in the assembly, dropTiny in the Go loops). Weights
// that small, which add under 10⁻²⁰ of an input to a unit, are what the
// weights of a dead unit decay to under L2 over long training; while they
// are normal floats the optimizers keep them, and the unit's sums in the
// forward and backward matrix products come out subnormal, each one a
// microcode assist in the gemm kernels. On digits with one hidden layer of
// 256 at batch 16 (L2 5e-4), an epoch took 1.9 ms at 45 epochs and 6.5 ms
// at 405; dropping them keeps it at 1.9 ms, and 405-epoch `consort train`
// runs (5 folds and the refit, one core) went from 16.9 to 4.9 s, with one
// layer of 200 (L2 1e-4) from 7.3 to 4.1 s, with the same CV accuracy.
//
// # Contracts
//
// Slice lengths that do not match are programmer errors, and the
// functions panic with a message naming the function and the lengths, as
// gonum's mat does for shapes; empty slices are fine. Outputs must not
// overlap other arguments except where a function says so.
package vec
