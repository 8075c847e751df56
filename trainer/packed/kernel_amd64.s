// Hand-written AVX2 and AVX-512 kernels for package packed; kernel.go holds the
// pure-Go forms they must match exactly.

//go:build !purego

#include "textflag.h"

// REDUCE sums the eight int32 lanes of Y0 into the low lane of X0.
#define REDUCE \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0x4e, X0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0xb1, X0, X1; \
	VPADDD       X1, X0, X0

// func gemvAVX2(dst *int32, w, x *int16, rows, cols int)
TEXT ·gemvAVX2(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  w+8(FP), SI
	MOVQ  x+16(FP), DX
	MOVQ  rows+24(FP), R8
	MOVQ  cols+32(FP), R9
	TESTQ R8, R8
	JZ    done16

row16:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	MOVQ  DX, BX
	MOVQ  R9, CX

loop16x4:
	CMPQ     CX, $64
	JB       loop16x1
	VMOVDQU  (SI), Y2
	VPMADDWD (BX), Y2, Y2
	VPADDD   Y2, Y0, Y0
	VMOVDQU  32(SI), Y3
	VPMADDWD 32(BX), Y3, Y3
	VPADDD   Y3, Y1, Y1
	VMOVDQU  64(SI), Y6
	VPMADDWD 64(BX), Y6, Y6
	VPADDD   Y6, Y4, Y4
	VMOVDQU  96(SI), Y7
	VPMADDWD 96(BX), Y7, Y7
	VPADDD   Y7, Y5, Y5
	ADDQ     $128, SI
	ADDQ     $128, BX
	SUBQ     $64, CX
	JMP      loop16x4

loop16x1:
	TESTQ    CX, CX
	JZ       reduce16
	VMOVDQU  (SI), Y2
	VPMADDWD (BX), Y2, Y2
	VPADDD   Y2, Y0, Y0
	ADDQ     $32, SI
	ADDQ     $32, BX
	SUBQ     $16, CX
	JMP      loop16x1

reduce16:
	VPADDD Y1, Y0, Y0
	VPADDD Y5, Y4, Y4
	VPADDD Y4, Y0, Y0
	REDUCE
	VMOVD  X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    row16
	VZEROUPPER

done16:
	RET

// func gemv8AVX2(dst *int32, w *int8, x *int16, rows, cols int)
TEXT ·gemv8AVX2(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  w+8(FP), SI
	MOVQ  x+16(FP), DX
	MOVQ  rows+24(FP), R8
	MOVQ  cols+32(FP), R9
	TESTQ R8, R8
	JZ    done8

row8:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	MOVQ  DX, BX
	MOVQ  R9, CX

loop8x4:
	CMPQ      CX, $64
	JB        loop8x1
	VPMOVSXBW (SI), Y2
	VPMADDWD  (BX), Y2, Y2
	VPADDD    Y2, Y0, Y0
	VPMOVSXBW 16(SI), Y3
	VPMADDWD  32(BX), Y3, Y3
	VPADDD    Y3, Y1, Y1
	VPMOVSXBW 32(SI), Y6
	VPMADDWD  64(BX), Y6, Y6
	VPADDD    Y6, Y4, Y4
	VPMOVSXBW 48(SI), Y7
	VPMADDWD  96(BX), Y7, Y7
	VPADDD    Y7, Y5, Y5
	ADDQ      $64, SI
	ADDQ      $128, BX
	SUBQ      $64, CX
	JMP       loop8x4

loop8x1:
	TESTQ     CX, CX
	JZ        reduce8
	VPMOVSXBW (SI), Y2
	VPMADDWD  (BX), Y2, Y2
	VPADDD    Y2, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $32, BX
	SUBQ      $16, CX
	JMP       loop8x1

reduce8:
	VPADDD Y1, Y0, Y0
	VPADDD Y5, Y4, Y4
	VPADDD Y4, Y0, Y0
	REDUCE
	VMOVD  X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    row8
	VZEROUPPER

done8:
	RET

// func maxAbsAVX2(a *float32, n int) uint32
TEXT ·maxAbsAVX2(SB), NOSPLIT, $0-20
	MOVQ     a+0(FP), SI
	MOVQ     n+8(FP), CX
	VPCMPEQD Y5, Y5, Y5
	VPSRLD   $1, Y5, Y5 // 0x7fffffff: clears the sign
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1

maxloop16:
	CMPQ    CX, $16
	JB      maxloop8
	VPAND   (SI), Y5, Y2
	VPMAXUD Y2, Y0, Y0
	VPAND   32(SI), Y5, Y3
	VPMAXUD Y3, Y1, Y1
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     maxloop16

maxloop8:
	TESTQ   CX, CX
	JZ      maxreduce
	VPAND   (SI), Y5, Y2
	VPMAXUD Y2, Y0, Y0

maxreduce:
	VPMAXUD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+16(FP)
	RET

// func quantAVX2(q *int16, a *float32, n int, inv, lo, hi float32)
TEXT ·quantAVX2(SB), NOSPLIT, $0-36
	MOVQ         q+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y1
	VBROADCASTSS lo+28(FP), Y2
	VBROADCASTSS hi+32(FP), Y3
	TESTQ        CX, CX
	JZ           qdone

qloop:
	VMULPS       (SI), Y1, Y0
	VMAXPS       Y2, Y0, Y0
	VMINPS       Y3, Y0, Y0
	VCVTPS2DQ    Y0, Y0
	VEXTRACTI128 $1, Y0, X4
	VPACKSSDW    X4, X0, X0
	VMOVDQU      X0, (DI)
	ADDQ         $32, SI
	ADDQ         $16, DI
	SUBQ         $8, CX
	JNZ          qloop
	VZEROUPPER

qdone:
	RET

// func fakeQuantAVX2(dst, w *float32, n int, inv, lo, hi float64, sc float32)
TEXT ·fakeQuantAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD inv+24(FP), Y1
	VBROADCASTSD lo+32(FP), Y2
	VBROADCASTSD hi+40(FP), Y3
	VBROADCASTSS sc+48(FP), X4
	VXORPD       Y6, Y6, Y6
	TESTQ        CX, CX
	JZ           fqdone

fqloop:
	VCVTPS2PD  (SI), Y0
	VCVTPS2PD  16(SI), Y5
	VMULPD     Y1, Y0, Y0
	VMULPD     Y1, Y5, Y5
	VMAXPD     Y2, Y0, Y0
	VMAXPD     Y2, Y5, Y5
	VMINPD     Y3, Y0, Y0
	VMINPD     Y3, Y5, Y5
	VROUNDPD   $8, Y0, Y0 // to nearest even, no precision exception
	VROUNDPD   $8, Y5, Y5
	VADDPD     Y6, Y0, Y0 // −0 + 0 = +0, as the scalar rounding gives
	VADDPD     Y6, Y5, Y5
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y5, X5
	VMULPS     X4, X0, X0
	VMULPS     X4, X5, X5
	VMOVUPS    X0, (DI)
	VMOVUPS    X5, 16(DI)
	ADDQ       $32, SI
	ADDQ       $32, DI
	SUBQ       $8, CX
	JNZ        fqloop
	VZEROUPPER

fqdone:
	RET

// func minMaxAVX2(w *float32, n int) (lo, hi float32)
TEXT ·minMaxAVX2(SB), NOSPLIT, $0-24
	MOVQ   w+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0 // lo, starting from 0
	VXORPS Y1, Y1, Y1 // hi, starting from 0

mmloop:
	VMOVUPS      (SI), Y2
	VMINPS       Y2, Y0, Y0
	VMAXPS       Y2, Y1, Y1
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          mmloop
	VEXTRACTF128 $1, Y0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0x4e, X0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0xb1, X0, X2
	VMINPS       X2, X0, X0
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VZEROUPPER
	MOVSS        X0, lo+16(FP)
	MOVSS        X1, hi+20(FP)
	RET

// The AVX-512 forms of gemvAVX2 and gemv8AVX2 (AVX512BW, VL and VNNI): 32
// columns a step, VPDPWSSD multiplying pairs of int16 and adding them to
// the int32 lanes in one instruction. Four zmm accumulators, then one step
// of 32 at a time and a last 16 in ymm (into Z8, whose upper half stays
// zero). REDUCE512 folds Z0–Z3 and Z8 into the low lane of X0.
#define REDUCE512 \
	VPADDD        Z1, Z0, Z0; \
	VPADDD        Z3, Z2, Z2; \
	VPADDD        Z2, Z0, Z0; \
	VPADDD        Z8, Z0, Z0; \
	VEXTRACTI64X4 $1, Z0, Y1; \
	VPADDD        Y1, Y0, Y0; \
	REDUCE

#define ZERO512 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z8, Z8, Z8

// func gemvAVX512(dst *int32, w, x *int16, rows, cols int)
TEXT ·gemvAVX512(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  w+8(FP), SI
	MOVQ  x+16(FP), DX
	MOVQ  rows+24(FP), R8
	MOVQ  cols+32(FP), R9
	TESTQ R8, R8
	JZ    zdone16

zrow16:
	ZERO512
	MOVQ DX, BX
	MOVQ R9, CX

zloop16x4:
	CMPQ      CX, $128
	JB        zloop16x1
	VMOVDQU64 (SI), Z4
	VPDPWSSD  (BX), Z4, Z0
	VMOVDQU64 64(SI), Z5
	VPDPWSSD  64(BX), Z5, Z1
	VMOVDQU64 128(SI), Z6
	VPDPWSSD  128(BX), Z6, Z2
	VMOVDQU64 192(SI), Z7
	VPDPWSSD  192(BX), Z7, Z3
	ADDQ      $256, SI
	ADDQ      $256, BX
	SUBQ      $128, CX
	JMP       zloop16x4

zloop16x1:
	CMPQ      CX, $32
	JB        ztail16
	VMOVDQU64 (SI), Z4
	VPDPWSSD  (BX), Z4, Z0
	ADDQ      $64, SI
	ADDQ      $64, BX
	SUBQ      $32, CX
	JMP       zloop16x1

ztail16:
	TESTQ     CX, CX
	JZ        zreduce16
	VMOVDQU64 (SI), Y4
	VPDPWSSD  (BX), Y4, Y8
	ADDQ      $32, SI

zreduce16:
	REDUCE512
	VMOVD X0, (DI)
	ADDQ  $4, DI
	DECQ  R8
	JNZ   zrow16
	VZEROUPPER

zdone16:
	RET

// func gemv8AVX512(dst *int32, w *int8, x *int16, rows, cols int)
TEXT ·gemv8AVX512(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  w+8(FP), SI
	MOVQ  x+16(FP), DX
	MOVQ  rows+24(FP), R8
	MOVQ  cols+32(FP), R9
	TESTQ R8, R8
	JZ    zdone8

zrow8:
	ZERO512
	MOVQ DX, BX
	MOVQ R9, CX

zloop8x4:
	CMPQ      CX, $128
	JB        zloop8x1
	VPMOVSXBW (SI), Z4
	VPDPWSSD  (BX), Z4, Z0
	VPMOVSXBW 32(SI), Z5
	VPDPWSSD  64(BX), Z5, Z1
	VPMOVSXBW 64(SI), Z6
	VPDPWSSD  128(BX), Z6, Z2
	VPMOVSXBW 96(SI), Z7
	VPDPWSSD  192(BX), Z7, Z3
	ADDQ      $128, SI
	ADDQ      $256, BX
	SUBQ      $128, CX
	JMP       zloop8x4

zloop8x1:
	CMPQ      CX, $32
	JB        ztail8
	VPMOVSXBW (SI), Z4
	VPDPWSSD  (BX), Z4, Z0
	ADDQ      $32, SI
	ADDQ      $64, BX
	SUBQ      $32, CX
	JMP       zloop8x1

ztail8:
	TESTQ     CX, CX
	JZ        zreduce8
	VPMOVSXBW (SI), Y4
	VPDPWSSD  (BX), Y4, Y8
	ADDQ      $16, SI

zreduce8:
	REDUCE512
	VMOVD X0, (DI)
	ADDQ  $4, DI
	DECQ  R8
	JNZ   zrow8
	VZEROUPPER

zdone8:
	RET

// ROWS4ARGS loads the arguments of a four-row gemv — dst in DI, w in SI,
// x in DX, rows/4 in R8, cols in R9 (one row's bytes of int8), 3·cols in
// R11 — and jumps to done when there is no block of four rows.
#define ROWS4ARGS(done) \
	MOVQ dst+0(FP), DI; \
	MOVQ w+8(FP), SI; \
	MOVQ x+16(FP), DX; \
	MOVQ rows+24(FP), R8; \
	MOVQ cols+32(FP), R9; \
	LEAQ (R9)(R9*2), R11; \
	SHRQ $2, R8; \
	JZ   done

// ROWS4START zeroes the accumulators Y0–Y7 (a VEX write clears the upper
// half of Z0–Z7 too) and points BX at x, AX at the block's first row and
// CX at the columns left.
#define ROWS4START \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	VPXOR Y2, Y2, Y2; \
	VPXOR Y3, Y3, Y3; \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7; \
	MOVQ  DX, BX; \
	MOVQ  SI, AX; \
	MOVQ  R9, CX

// REDUCE4 sums the eight int32 lanes of each of Y_a–Y_d into the four
// lanes of X_a, in that order (Y_a, Y_c and X12 are overwritten).
#define REDUCE4(Ya, Yb, Yc, Yd, Xa) \
	VPHADDD      Yb, Ya, Ya; \
	VPHADDD      Yd, Yc, Yc; \
	VPHADDD      Yc, Ya, Ya; \
	VEXTRACTI128 $1, Ya, X12; \
	VPADDD       X12, Xa, Xa

// FOLD256 adds the upper half of Z_ into its lower half, Y_.
#define FOLD256(Z_, Y_) \
	VEXTRACTI64X4 $1, Z_, Y12; \
	VPADDD        Y12, Y_, Y_

// ROWS4STORE sums the eight int32 lanes of each of Y0–Y3 into dst[0..3],
// then moves DI and SI to the next block of four rows.
#define ROWS4STORE \
	REDUCE4(Y0, Y1, Y2, Y3, X0); \
	VMOVDQU      X0, (DI); \
	ADDQ         $16, DI; \
	LEAQ         (SI)(R9*4), SI

// ROW4STEP multiplies the int8 weights of four rows at W, W+R9, W+2·R9
// and W+R11 by the int16 of x in X_, 32 columns with zmm registers (16
// with ymm), sign-extending them into the temporaries T0–T3 and adding
// into the accumulators A0–A3.
#define ROW4STEP(W, X_, T0, T1, T2, T3, A0, A1, A2, A3) \
	VPMOVSXBW W, T0; \
	VPMOVSXBW W(R9*1), T1; \
	VPMOVSXBW W(R9*2), T2; \
	VPMOVSXBW W(R11*1), T3; \
	VPDPWSSD  X_, T0, A0; \
	VPDPWSSD  X_, T1, A1; \
	VPDPWSSD  X_, T2, A2; \
	VPDPWSSD  X_, T3, A3

// func gemv8x4AVX512(dst *int32, w *int8, x *int16, rows, cols int)
TEXT ·gemv8x4AVX512(SB), NOSPLIT, $0-40
	ROWS4ARGS(q4done)

q4row:
	ROWS4START

q4loop64:
	CMPQ      CX, $64
	JB        q4loop32
	VMOVDQU64 (BX), Z16
	VMOVDQU64 64(BX), Z17
	ROW4STEP((AX), Z16, Z20, Z21, Z22, Z23, Z0, Z1, Z2, Z3)
	ROW4STEP(32(AX), Z17, Z20, Z21, Z22, Z23, Z4, Z5, Z6, Z7)
	ADDQ      $64, AX
	ADDQ      $128, BX
	SUBQ      $64, CX
	JMP       q4loop64

q4loop32:
	CMPQ      CX, $32
	JB        q4tail
	VMOVDQU64 (BX), Z16
	ROW4STEP((AX), Z16, Z20, Z21, Z22, Z23, Z0, Z1, Z2, Z3)
	ADDQ      $32, AX
	ADDQ      $64, BX
	SUBQ      $32, CX

q4tail:
	// Fold the accumulators to 256 bits; the last 16 columns, if any,
	// then add in with ymm VPDPWSSD, which clears the upper halves.
	VPADDD        Z4, Z0, Z0
	VPADDD        Z5, Z1, Z1
	VPADDD        Z6, Z2, Z2
	VPADDD        Z7, Z3, Z3
	FOLD256(Z0, Y0)
	FOLD256(Z1, Y1)
	FOLD256(Z2, Y2)
	FOLD256(Z3, Y3)
	TESTQ         CX, CX
	JZ            q4store
	VMOVDQU32     (BX), Y16
	ROW4STEP((AX), Y16, Y20, Y21, Y22, Y23, Y0, Y1, Y2, Y3)

q4store:
	ROWS4STORE
	DECQ R8
	JNZ  q4row
	VZEROUPPER

q4done:
	RET

// func gemv8x8AVX512(dst *int32, w *int8, x *int16, rows, cols int)
//
// gemv8x4AVX512 eight rows at a time: each load of x serves eight rows,
// 32 columns a step into one accumulator a row (Z0–Z7); rows must be a
// multiple of 8.
TEXT ·gemv8x8AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9
	LEAQ (R9)(R9*2), R11
	SHRQ $3, R8
	JZ   e8done

e8row:
	ROWS4START
	LEAQ (SI)(R9*4), R12

e8loop32:
	CMPQ      CX, $32
	JB        e8tail
	VMOVDQU64 (BX), Z16
	ROW4STEP((AX), Z16, Z20, Z21, Z22, Z23, Z0, Z1, Z2, Z3)
	ROW4STEP((R12), Z16, Z20, Z21, Z22, Z23, Z4, Z5, Z6, Z7)
	ADDQ      $32, AX
	ADDQ      $32, R12
	ADDQ      $64, BX
	SUBQ      $32, CX
	JMP       e8loop32

e8tail:
	// As in gemv8x4AVX512: fold to 256 bits, then the last 16 columns.
	FOLD256(Z0, Y0)
	FOLD256(Z1, Y1)
	FOLD256(Z2, Y2)
	FOLD256(Z3, Y3)
	FOLD256(Z4, Y4)
	FOLD256(Z5, Y5)
	FOLD256(Z6, Y6)
	FOLD256(Z7, Y7)
	TESTQ     CX, CX
	JZ        e8store
	VMOVDQU32 (BX), Y16
	ROW4STEP((AX), Y16, Y20, Y21, Y22, Y23, Y0, Y1, Y2, Y3)
	ROW4STEP((R12), Y16, Y20, Y21, Y22, Y23, Y4, Y5, Y6, Y7)

e8store:
	REDUCE4(Y0, Y1, Y2, Y3, X0)
	REDUCE4(Y4, Y5, Y6, Y7, X4)
	VMOVDQU X0, (DI)
	VMOVDQU X4, 16(DI)
	ADDQ    $32, DI
	LEAQ    (SI)(R9*8), SI
	DECQ    R8
	JNZ     e8row
	VZEROUPPER

e8done:
	RET

// ROW4AVX2 is ROW4STEP for AVX2: 16 columns of four rows at off(AX),
// VPMADDWD.
#define ROW4AVX2(off, X_, A0, A1, A2, A3) \
	VPMOVSXBW off(AX), Y10; \
	VPMADDWD  X_, Y10, Y10; \
	VPADDD    Y10, A0, A0; \
	VPMOVSXBW off(AX)(R9*1), Y11; \
	VPMADDWD  X_, Y11, Y11; \
	VPADDD    Y11, A1, A1; \
	VPMOVSXBW off(AX)(R9*2), Y12; \
	VPMADDWD  X_, Y12, Y12; \
	VPADDD    Y12, A2, A2; \
	VPMOVSXBW off(AX)(R11*1), Y13; \
	VPMADDWD  X_, Y13, Y13; \
	VPADDD    Y13, A3, A3

// func gemv8x4AVX2(dst *int32, w *int8, x *int16, rows, cols int)
TEXT ·gemv8x4AVX2(SB), NOSPLIT, $0-40
	ROWS4ARGS(y4done)

y4row:
	ROWS4START

y4loop32:
	CMPQ    CX, $32
	JB      y4loop16
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	ROW4AVX2(0, Y8, Y0, Y1, Y2, Y3)
	ROW4AVX2(16, Y9, Y4, Y5, Y6, Y7)
	ADDQ    $32, AX
	ADDQ    $64, BX
	SUBQ    $32, CX
	JMP     y4loop32

y4loop16:
	TESTQ   CX, CX
	JZ      y4reduce
	VMOVDQU (BX), Y8
	ROW4AVX2(0, Y8, Y0, Y1, Y2, Y3)

y4reduce:
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	VPADDD Y6, Y2, Y2
	VPADDD Y7, Y3, Y3
	ROWS4STORE
	DECQ   R8
	JNZ    y4row
	VZEROUPPER

y4done:
	RET

// func dequantRowsAVX2(out *float32, acc *int32, sw, bias *float32, n int, sa float32)
//
// dequantRowsGeneric over n values, n a positive multiple of 8: VCVTDQ2PS,
// two products and a sum, each rounded (no FMA).
TEXT ·dequantRowsAVX2(SB), NOSPLIT, $0-44
	MOVQ         out+0(FP), DI
	MOVQ         acc+8(FP), SI
	MOVQ         sw+16(FP), DX
	MOVQ         bias+24(FP), BX
	MOVQ         n+32(FP), CX
	VBROADCASTSS sa+40(FP), Y1
	XORQ         AX, AX

dqloop:
	VCVTDQ2PS (SI)(AX*4), Y0
	VMULPS    (DX)(AX*4), Y1, Y2
	VMULPS    Y2, Y0, Y0
	VADDPS    (BX)(AX*4), Y0, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        dqloop
	VZEROUPPER
	RET
