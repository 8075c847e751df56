// AVX2 elementwise kernels for package vec (see doc.go).
//
// No kernel uses FMA: every product is rounded before it is added, as in
// the generic Go loops, so both paths give bit-identical results. The
// operands of each addition and product are in the order the Go loops
// write them (the first source is the left operand); which NaN comes out
// of an operation on two NaNs can still differ, as the Go compiler may
// commute them (see doc.go).

// Adam and SGD run with MXCSR's flush-to-zero and denormals-are-zero bits
// set (FTZON and FTZOFF below): subnormal inputs read as zero and tiny
// results become zero, as the Go loops do by hand (see doc.go). MXCSR is
// per thread and assembly functions are not preempted, so the caller's
// mode is restored before RET and nothing else ever runs with it.

//go:build !purego

#include "textflag.h"

// FTZON saves MXCSR in the frame's first word and sets FTZ (bit 15) and
// DAZ (bit 6); FTZOFF restores it. BX is scratch.
#define FTZON \
	STMXCSR saved-8(SP); \
	MOVL    saved-8(SP), BX; \
	ORL     $0x8040, BX; \
	MOVL    BX, ftz-4(SP); \
	LDMXCSR ftz-4(SP)

#define FTZOFF LDMXCSR saved-8(SP)

// TINYCONSTS puts |x|'s mask (0x7fffffff) in every lane of Y7 and 2⁻⁸⁰
// (bits 0x17800000) in every lane of Y6, for DROPTINY. BX is scratch.
#define TINYCONSTS \
	MOVL         $0x7fffffff, BX; \
	VMOVD        BX, X7; \
	VPBROADCASTD X7, Y7; \
	MOVL         $0x17800000, BX; \
	VMOVD        BX, X6; \
	VPBROADCASTD X6, Y6

// DROPTINY(X, T) clears the magnitude of every lane of X whose magnitude
// is below 2⁻⁸⁰ (a NaN's is not), leaving a zero of its sign, as the Go
// loops' dropTiny; T is scratch.
#define DROPTINY(X, T) \
	VANDPS  Y7, X, T; \
	VCMPPS  $1, Y6, T, T; \
	VANDPS  Y7, T, T; \
	VANDNPS X, T, X

// Adam on one 8-float vector at byte offset AX; constants in Y8–Y15 (see
// adamAVX2). MASK is either a multiply of gi by the mask or nothing.
#define ADAM8(MASK) \
	VMOVUPS (DI)(AX*1), Y0; \
	VMULPS  Y0, Y15, Y1; \
	VMOVUPS (SI)(AX*1), Y2; \
	VADDPS  Y1, Y2, Y1; \
	MASK; \
	VMOVUPS (R8)(AX*1), Y2; \
	VMULPS  Y2, Y12, Y2; \
	VMULPS  Y1, Y11, Y3; \
	VADDPS  Y3, Y2, Y2; \
	VMOVUPS Y2, (R8)(AX*1); \
	VMOVUPS (R9)(AX*1), Y4; \
	VMULPS  Y4, Y10, Y4; \
	VMULPS  Y1, Y9, Y5; \
	VMULPS  Y1, Y5, Y5; \
	VADDPS  Y5, Y4, Y4; \
	VMOVUPS Y4, (R9)(AX*1); \
	VSQRTPS Y4, Y4; \
	VMULPS  Y13, Y4, Y4; \
	VADDPS  Y8, Y4, Y4; \
	VMULPS  Y2, Y14, Y2; \
	VDIVPS  Y4, Y2, Y2; \
	VSUBPS  Y2, Y0, Y0; \
	DROPTINY(Y0, Y4); \
	VMOVUPS Y0, (DI)(AX*1); \
	ADDQ    $32, AX

#define MASKMUL VMULPS (R10)(AX*1), Y1, Y1
#define NOMASK

// func adamAVX2(w, grad, m, v, mask *float32, n int, l2, step, rbc2, b1, c1, b2, c2, eps float32)
//
// One Adam step on n floats, n a positive multiple of 8; mask may be nil.
// c1 = 1-b1 and c2 = 1-b2.
TEXT ·adamAVX2(SB), NOSPLIT, $8-80
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), R8
	MOVQ         v+24(FP), R9
	MOVQ         mask+32(FP), R10
	MOVQ         n+40(FP), CX
	VBROADCASTSS l2+48(FP), Y15
	VBROADCASTSS step+52(FP), Y14
	VBROADCASTSS rbc2+56(FP), Y13
	VBROADCASTSS b1+60(FP), Y12
	VBROADCASTSS c1+64(FP), Y11
	VBROADCASTSS b2+68(FP), Y10
	VBROADCASTSS c2+72(FP), Y9
	VBROADCASTSS eps+76(FP), Y8
	SHLQ         $2, CX
	XORQ         AX, AX
	FTZON
	TINYCONSTS
	TESTQ        R10, R10
	JZ           adamplain

adammask:
	ADAM8(MASKMUL)
	CMPQ AX, CX
	JNE  adammask
	VZEROUPPER
	FTZOFF
	RET

adamplain:
	ADAM8(NOMASK)
	CMPQ AX, CX
	JNE  adamplain
	VZEROUPPER
	FTZOFF
	RET

// SGD on one 8-float vector at byte offset AX; l2, lr, mu in Y15, Y14, Y13.
#define SGD8(MASK) \
	VMOVUPS (DI)(AX*1), Y0; \
	VMULPS  Y0, Y15, Y1; \
	VMOVUPS (SI)(AX*1), Y2; \
	VADDPS  Y1, Y2, Y1; \
	MASK; \
	VMOVUPS (R8)(AX*1), Y2; \
	VMULPS  Y2, Y13, Y2; \
	VADDPS  Y1, Y2, Y2; \
	VMOVUPS Y2, (R8)(AX*1); \
	VMULPS  Y2, Y14, Y2; \
	VSUBPS  Y2, Y0, Y0; \
	DROPTINY(Y0, Y4); \
	VMOVUPS Y0, (DI)(AX*1); \
	ADDQ    $32, AX

// func sgdAVX2(w, grad, vel, mask *float32, n int, l2, lr, mu float32)
//
// One SGD-with-momentum step on n floats, n a positive multiple of 8;
// mask may be nil.
TEXT ·sgdAVX2(SB), NOSPLIT, $8-52
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         vel+16(FP), R8
	MOVQ         mask+24(FP), R10
	MOVQ         n+32(FP), CX
	VBROADCASTSS l2+40(FP), Y15
	VBROADCASTSS lr+44(FP), Y14
	VBROADCASTSS mu+48(FP), Y13
	SHLQ         $2, CX
	XORQ         AX, AX
	FTZON
	TINYCONSTS
	TESTQ        R10, R10
	JZ           sgdplain

sgdmask:
	SGD8(MASKMUL)
	CMPQ AX, CX
	JNE  sgdmask
	VZEROUPPER
	FTZOFF
	RET

sgdplain:
	SGD8(NOMASK)
	CMPQ AX, CX
	JNE  sgdplain
	VZEROUPPER
	FTZOFF
	RET

// ReLU in place on X, clearing every lane whose sign bit is set; T is
// scratch.
#define RELU(X, T) \
	VPSRAD $31, X, T; \
	VPANDN X, T, X

#define NORELU(X, T)

// BIASROWS(ACT, label prefix) adds b to every row of z and applies ACT.
// Each row is done as 8-float vectors from the left up to, not including,
// the last one, then the last 8 floats of the row, which may overlap the
// vectors before it: that one is computed from the row's original values
// before the others are stored and stored after them, so overlapped
// elements get the same value twice.
//
// On entry DI z, SI b, DX rows, CX n. Then DI z row, CX row stride (bytes), R8 end of the leading
// vectors (bytes), R9 offset of the last vector (bytes), Y14 b's last
// vector.
#define BIASROWS(ACT, row, col, last) \
	LEAQ         -1(CX), R8; \
	ANDQ         $-8, R8; \
	SHLQ         $2, R8; \
	SHLQ         $2, CX; \
	LEAQ         -32(CX), R9; \
	VMOVUPS      (SI)(R9*1), Y14; \
row: \
	VMOVUPS      (DI)(R9*1), Y13; \
	VADDPS       Y14, Y13, Y13; \
	ACT(Y13, Y12); \
	XORQ         AX, AX; \
	CMPQ         R8, $0; \
	JEQ          last; \
col: \
	VMOVUPS      (DI)(AX*1), Y0; \
	VADDPS       (SI)(AX*1), Y0, Y0; \
	ACT(Y0, Y1); \
	VMOVUPS      Y0, (DI)(AX*1); \
	ADDQ         $32, AX; \
	CMPQ         AX, R8; \
	JNE          col; \
last: \
	VMOVUPS      Y13, (DI)(R9*1); \
	ADDQ         CX, DI; \
	DECQ         DX; \
	JNZ          row; \
	VZEROUPPER; \
	RET

// func biasReLUAVX2(z, b *float32, rows, n int)
//
// z[r*n+j] = relu(z[r*n+j] + b[j]) for r < rows (≥ 1), j < n (≥ 8).
TEXT ·biasReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	BIASROWS(RELU, brrow, brcol, brlast)

// func biasAddAVX2(z, b *float32, rows, n int)
//
// z[r*n+j] += b[j] for r < rows (≥ 1), j < n (≥ 8).
TEXT ·biasAddAVX2(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	BIASROWS(NORELU, barow, bacol, balast)

// tanh of the four doubles in Y1, in place, following tanh64 (tanh.go)
// operation for operation and in its order: |x| (Y2), y (Y3), t (Y4), k
// (Y5), r (Y3), r² (Y5), r⁴ (Y6), Q by Estrin's scheme from its highest
// terms down (Y7–Y9), e^r-1 = r·Q (Y8), 2^k from t's bits (Y4), E (Y8),
// E/(E+2), the sign of x, then x itself where it is NaN. R10 points at
// tanhTable, whose vectors are, by byte offset: 0 abs mask, 32 sign mask,
// 64 the clamp 40, 96 1/ln 2, 128 the rounding constant 1.5·2⁵², 160
// ln2Hi, 192 ln2Lo, 224 1, 256 2, 288 the exponent bits of 1, 320–640
// expm1Coef[0…10]. Y2–Y9 are scratch.
#define TANH4 \
	VANDPD  0(R10), Y1, Y2; \
	VADDPD  Y2, Y2, Y3; \
	VMINPD  64(R10), Y3, Y3; \
	VMULPD  96(R10), Y3, Y4; \
	VADDPD  128(R10), Y4, Y4; \
	VSUBPD  128(R10), Y4, Y5; \
	VMULPD  160(R10), Y5, Y6; \
	VSUBPD  Y6, Y3, Y3; \
	VMULPD  192(R10), Y5, Y5; \
	VSUBPD  Y5, Y3, Y3; \
	VMULPD  Y3, Y3, Y5; \
	VMULPD  Y5, Y5, Y6; \
	VMULPD  608(R10), Y3, Y7; \
	VADDPD  576(R10), Y7, Y7; \
	VMULPD  640(R10), Y5, Y8; \
	VADDPD  Y8, Y7, Y7; \
	VMULPD  544(R10), Y3, Y8; \
	VADDPD  512(R10), Y8, Y8; \
	VMULPD  480(R10), Y3, Y9; \
	VADDPD  448(R10), Y9, Y9; \
	VMULPD  Y5, Y8, Y8; \
	VADDPD  Y8, Y9, Y8; \
	VMULPD  Y6, Y7, Y7; \
	VADDPD  Y7, Y8, Y7; \
	VMULPD  416(R10), Y3, Y8; \
	VADDPD  384(R10), Y8, Y8; \
	VMULPD  352(R10), Y3, Y9; \
	VADDPD  320(R10), Y9, Y9; \
	VMULPD  Y5, Y8, Y8; \
	VADDPD  Y8, Y9, Y8; \
	VMULPD  Y6, Y7, Y7; \
	VADDPD  Y7, Y8, Y8; \
	VMULPD  Y8, Y3, Y8; \
	VPSLLQ  $52, Y4, Y4; \
	VPADDQ  288(R10), Y4, Y4; \
	VMULPD  Y8, Y4, Y8; \
	VSUBPD  224(R10), Y4, Y4; \
	VADDPD  Y4, Y8, Y8; \
	VADDPD  256(R10), Y8, Y4; \
	VDIVPD  Y4, Y8, Y8; \
	VANDPD  32(R10), Y1, Y9; \
	VORPD   Y9, Y8, Y8; \
	VCMPPD  $3, Y1, Y1, Y9; \
	VBLENDVPD Y9, Y1, Y8, Y1

// tanh of the eight floats in Y0, in place, as two halves of four
// doubles; Y1–Y11 are scratch.
#define TANH8 \
	VEXTRACTF128 $1, Y0, X11; \
	VCVTPS2PD    X0, Y1; \
	TANH4; \
	VCVTPD2PSY   Y1, X0; \
	VCVTPS2PD    X11, Y1; \
	TANH4; \
	VCVTPD2PSY   Y1, X11; \
	VINSERTF128  $1, X11, Y0, Y0

// BIASROWS activation: tanh of X in place (T unused).
#define TANHACT(X, T) \
	VMOVUPS X, Y0; \
	TANH8; \
	VMOVUPS Y0, X

// func biasTanhAVX2(z, b *float32, rows, n int, c *[tanhConsts][4]uint64)
//
// z[r*n+j] = tanh(z[r*n+j] + b[j]) for r < rows (≥ 1), j < n (≥ 8); c is
// &tanhTable.
TEXT ·biasTanhAVX2(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R10
	BIASROWS(TANHACT, btrow, btcol, btlast)

// func tanhGradAVX2(grad, a *float32, n int)
//
// grad[i] *= 1 - a[i]*a[i] for n floats, n a positive multiple of 8.
TEXT ·tanhGradAVX2(SB), NOSPLIT, $0-24
	MOVQ         grad+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         n+16(FP), CX
	SHLQ         $2, CX
	XORQ         AX, AX
	MOVL         $0x3f800000, R8
	VMOVD        R8, X15
	VBROADCASTSS X15, Y15

tg8:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  Y0, Y0, Y0
	VSUBPS  Y0, Y15, Y0
	VMOVUPS (DI)(AX*1), Y1
	VMULPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, CX
	JNE     tg8
	VZEROUPPER
	RET

// ReLU gradient on one 8-float vector at byte offset bo from AX: keep g
// where -int32(bits(a)) < 0. Y15 is zero.
#define RGRAD8(bo, X) \
	VPSUBD  bo(SI)(AX*1), Y15, X; \
	VPSRAD  $31, X, X; \
	VPAND   bo(DI)(AX*1), X, X; \
	VMOVDQU X, bo(DI)(AX*1)

// func reluGradAVX2(grad, a *float32, n int)
//
// ReLU gradient on n floats, n a positive multiple of 8.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-24
	MOVQ  grad+0(FP), DI
	MOVQ  a+8(FP), SI
	MOVQ  n+16(FP), CX
	SHLQ  $2, CX
	VPXOR Y15, Y15, Y15
	XORQ  AX, AX
	MOVQ  CX, R8
	ANDQ  $-128, R8
	JZ    rg8

rg32:
	RGRAD8(0, Y0)
	RGRAD8(32, Y1)
	RGRAD8(64, Y2)
	RGRAD8(96, Y3)
	ADDQ $128, AX
	CMPQ AX, R8
	JNE  rg32
	CMPQ AX, CX
	JEQ  rgdone

rg8:
	RGRAD8(0, Y0)
	ADDQ $32, AX
	CMPQ AX, CX
	JNE  rg8

rgdone:
	VZEROUPPER
	RET

// func sumRowsAVX2(dst, z *float32, rows, n int)
//
// dst[j] = Σ_r z[r*n+j] for j < n (≥ 8), summed from +0 over r < rows
// (≥ 1) in order. Columns go in blocks of 64 (eight accumulators), then
// 32, then 8, then the last 8 columns, which may overlap the block before.
//
// DI dst, SI z, DX rows, CX row stride (bytes), AX column (bytes), R9 z
// pointer, R10 rows left.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ z+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX

sr64:
	LEAQ   256(AX), R8
	CMPQ   R8, CX
	JGT    sr32
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ   (SI)(AX*1), R9
	MOVQ   DX, R10

sr64row:
	VADDPS (R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 64(R9), Y2, Y2
	VADDPS 96(R9), Y3, Y3
	VADDPS 128(R9), Y4, Y4
	VADDPS 160(R9), Y5, Y5
	VADDPS 192(R9), Y6, Y6
	VADDPS 224(R9), Y7, Y7
	ADDQ   CX, R9
	DECQ   R10
	JNZ    sr64row
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	VMOVUPS Y4, 128(DI)(AX*1)
	VMOVUPS Y5, 160(DI)(AX*1)
	VMOVUPS Y6, 192(DI)(AX*1)
	VMOVUPS Y7, 224(DI)(AX*1)
	MOVQ    R8, AX
	JMP     sr64

sr32:
	LEAQ   128(AX), R8
	CMPQ   R8, CX
	JGT    sr8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ   (SI)(AX*1), R9
	MOVQ   DX, R10

sr32row:
	VADDPS (R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 64(R9), Y2, Y2
	VADDPS 96(R9), Y3, Y3
	ADDQ   CX, R9
	DECQ   R10
	JNZ    sr32row
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	MOVQ    R8, AX

sr8:
	LEAQ   32(AX), R8
	CMPQ   R8, CX
	JGT    srlast
	VXORPS Y0, Y0, Y0
	LEAQ   (SI)(AX*1), R9
	MOVQ   DX, R10

sr8row:
	VADDPS (R9), Y0, Y0
	ADDQ   CX, R9
	DECQ   R10
	JNZ    sr8row
	VMOVUPS Y0, (DI)(AX*1)
	MOVQ    R8, AX
	JMP     sr8

srlast:
	CMPQ   AX, CX
	JEQ    srdone
	LEAQ   -32(CX), AX
	VXORPS Y0, Y0, Y0
	LEAQ   (SI)(AX*1), R9
	MOVQ   DX, R10

srlastrow:
	VADDPS (R9), Y0, Y0
	ADDQ   CX, R9
	DECQ   R10
	JNZ    srlastrow
	VMOVUPS Y0, (DI)(AX*1)

srdone:
	VZEROUPPER
	RET

// func standardizeAVX2(dst, x, mean, scale *float32, rows, d, d8 int)
TEXT ·standardizeAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+32(FP), R8
	MOVQ d+40(FP), R9
	SHLQ $2, R9 // row stride in bytes
	MOVQ d8+48(FP), R10

strow:
	MOVQ mean+16(FP), AX
	MOVQ scale+24(FP), BX
	XORQ CX, CX

stcol:
	VMOVUPS (SI)(CX*4), Y0
	VSUBPS  (AX)(CX*4), Y0, Y0
	VDIVPS  (BX)(CX*4), Y0, Y0
	VMOVUPS Y0, (DI)(CX*4)
	ADDQ    $8, CX
	CMPQ    CX, R10
	JB      stcol
	ADDQ    R9, SI
	ADDQ    R9, DI
	DECQ    R8
	JNZ     strow
	VZEROUPPER
	RET

// func columnStatsAVX2(sum *float64, lo, hi, x *float32, n8 int)
//
// columnStatsGeneric over the first n8 (a positive multiple of 8)
// features. VMINPS and VMAXPS return their second source when the first
// is not smaller (larger) — on ties and NaNs too — as the Go loop keeps
// lo[j] and hi[j] unless x[j] < lo[j] (x[j] > hi[j]).
TEXT ·columnStatsAVX2(SB), NOSPLIT, $0-40
	MOVQ sum+0(FP), DI
	MOVQ lo+8(FP), SI
	MOVQ hi+16(FP), DX
	MOVQ x+24(FP), BX
	MOVQ n8+32(FP), CX
	XORQ AX, AX // float32 index

csloop:
	VMOVUPS      (BX)(AX*4), Y0
	VCVTPS2PD    X0, Y1
	VEXTRACTF128 $1, Y0, X2
	VCVTPS2PD    X2, Y2
	VADDPD       (DI)(AX*8), Y1, Y1
	VADDPD       32(DI)(AX*8), Y2, Y2
	VMOVUPD      Y1, (DI)(AX*8)
	VMOVUPD      Y2, 32(DI)(AX*8)
	VMINPS       (SI)(AX*4), Y0, Y3
	VMOVUPS      Y3, (SI)(AX*4)
	VMAXPS       (DX)(AX*4), Y0, Y4
	VMOVUPS      Y4, (DX)(AX*4)
	ADDQ         $8, AX
	CMPQ         AX, CX
	JB           csloop
	VZEROUPPER
	RET

// func columnSquaresAVX2(sq, mean *float64, x *float32, n8 int)
//
// columnSquaresGeneric over the first n8 (a positive multiple of 8)
// features: a conversion, a subtraction, a product and a sum, each
// rounded to float64 (no FMA).
TEXT ·columnSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ sq+0(FP), DI
	MOVQ mean+8(FP), SI
	MOVQ x+16(FP), BX
	MOVQ n8+24(FP), CX
	XORQ AX, AX // float32 index

cqloop:
	VCVTPS2PD (BX)(AX*4), Y1
	VCVTPS2PD 16(BX)(AX*4), Y2
	VSUBPD    (SI)(AX*8), Y1, Y1
	VSUBPD    32(SI)(AX*8), Y2, Y2
	VMULPD    Y1, Y1, Y1
	VMULPD    Y2, Y2, Y2
	VADDPD    (DI)(AX*8), Y1, Y1
	VADDPD    32(DI)(AX*8), Y2, Y2
	VMOVUPD   Y1, (DI)(AX*8)
	VMOVUPD   Y2, 32(DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        cqloop
	VZEROUPPER
	RET

// func expShiftedAVX2(dst *float64, src *float32, n4 int, sub float32) bool
//
// dst[i] = math.Exp(float64(src[i]-sub)), four at a time, following Go's
// archExp (math/exp_amd64.s, its FMA path) one operation for one: t =
// x·log2e, k = t rounded to an int32 (MXCSR's round to nearest), x −= k·ln2
// in two fused steps (upper and lower half of ln 2), x /= 16, p = the
// Taylor polynomial by Horner's rule in fused multiply-adds, x = x·p, then
// three rounds of x = x·(x+2) and a last x = x·(x+2) + 1 (fused), which
// square e^x/16 − 1 four times, and the result x·2^k. A group of four with
// an argument outside [−700, 700] (or a NaN) stops the loop and returns
// false; archExp takes other paths there. R10 points at expTable, whose
// vectors are, by byte offset: 0 log2e, 32 ln2 upper, 64 ln2 lower, 96
// 1/16, 128–288 the Taylor coefficients 1/8! … 1/3!, 320 1/2, 352 1, 384
// 2, 416 the exponent bias 1023 (int64), 448 abs mask, 480 700.
TEXT ·expShiftedAVX2(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n4+16(FP), CX
	VBROADCASTSS sub+24(FP), X15
	LEAQ         ·expTable(SB), R10

exloop:
	TESTQ        CX, CX
	JZ           exdone
	VMOVUPS      (SI), X0
	VSUBPS       X15, X0, X0
	VCVTPS2PD    X0, Y0
	VANDPD       448(R10), Y0, Y1
	VCMPPD       $0x12, 480(R10), Y1, Y1 // |x| <= 700, false for NaN
	VMOVMSKPD    Y1, AX
	CMPL         AX, $15
	JNE          exfail
	VMULPD       0(R10), Y0, Y1
	VCVTPD2DQY   Y1, X2
	VCVTDQ2PD    X2, Y1
	VFNMADD231PD 32(R10), Y1, Y0
	VFNMADD231PD 64(R10), Y1, Y0
	VMULPD       96(R10), Y0, Y0
	VMOVUPD      128(R10), Y1
	VFMADD213PD  160(R10), Y0, Y1
	VFMADD213PD  192(R10), Y0, Y1
	VFMADD213PD  224(R10), Y0, Y1
	VFMADD213PD  256(R10), Y0, Y1
	VFMADD213PD  288(R10), Y0, Y1
	VFMADD213PD  320(R10), Y0, Y1
	VFMADD213PD  352(R10), Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       384(R10), Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       384(R10), Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       384(R10), Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       384(R10), Y0, Y1
	VFMADD213PD  352(R10), Y1, Y0
	VPMOVSXDQ    X2, Y3
	VPADDQ       416(R10), Y3, Y3
	VPSLLQ       $52, Y3, Y3
	VMULPD       Y3, Y0, Y0
	VMOVUPD      Y0, (DI)
	ADDQ         $16, SI
	ADDQ         $32, DI
	DECQ         CX
	JMP          exloop

exdone:
	VZEROUPPER
	MOVB $1, ret+32(FP)
	RET

exfail:
	VZEROUPPER
	MOVB $0, ret+32(FP)
	RET
