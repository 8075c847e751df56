// AVX-512 kernels for package gemm (see doc.go): the AVX2 kernels' tiles
// and addressing with 16-wide zmm vectors, over 32-wide packed B panels.

//go:build !purego

#include "textflag.h"
#include "kernel_amd64.h"

// As in arch_amd64.s, A is read through AX (row 0), R11 (row 3), the row
// stride R8 and the step stride R12, in bytes; B is a packed 32-wide panel
// in BX. Accumulators are Z0–Z11, B vectors Z28–Z29, broadcasts Z30–Z31.

// ZERO8Z and ZERO12Z clear the accumulators Z0–Z7 and Z0–Z11;
// SCALE8Z and SCALE12Z multiply them by alpha, broadcast in Z30.
#define ZERO8Z \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7

#define ZERO12Z \
	ZERO8Z; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11

#define SCALE8Z \
	VMULPS Z30, Z0, Z0; \
	VMULPS Z30, Z1, Z1; \
	VMULPS Z30, Z2, Z2; \
	VMULPS Z30, Z3, Z3; \
	VMULPS Z30, Z4, Z4; \
	VMULPS Z30, Z5, Z5; \
	VMULPS Z30, Z6, Z6; \
	VMULPS Z30, Z7, Z7

#define SCALE12Z \
	SCALE8Z; \
	VMULPS Z30, Z8, Z8; \
	VMULPS Z30, Z9, Z9; \
	VMULPS Z30, Z10, Z10; \
	VMULPS Z30, Z11, Z11

// One k step of the 6×32 kernel: two 16-wide B loads, 6 A broadcasts,
// 12 FMAs into Z0–Z11 (row r lives in Z(2r), Z(2r+1)).
#define STEP6Z(bo) \
	VMOVUPS      bo(BX), Z28; \
	VMOVUPS      bo+64(BX), Z29; \
	VBROADCASTSS (AX), Z30; \
	VFMADD231PS  Z28, Z30, Z0; \
	VFMADD231PS  Z29, Z30, Z1; \
	VBROADCASTSS (AX)(R8*1), Z31; \
	VFMADD231PS  Z28, Z31, Z2; \
	VFMADD231PS  Z29, Z31, Z3; \
	VBROADCASTSS (AX)(R8*2), Z30; \
	VFMADD231PS  Z28, Z30, Z4; \
	VFMADD231PS  Z29, Z30, Z5; \
	VBROADCASTSS (R11), Z31; \
	VFMADD231PS  Z28, Z31, Z6; \
	VFMADD231PS  Z29, Z31, Z7; \
	VBROADCASTSS (R11)(R8*1), Z30; \
	VFMADD231PS  Z28, Z30, Z8; \
	VFMADD231PS  Z29, Z30, Z9; \
	VBROADCASTSS (R11)(R8*2), Z31; \
	VFMADD231PS  Z28, Z31, Z10; \
	VFMADD231PS  Z29, Z31, Z11; \
	ADDQ         R12, AX; \
	ADDQ         R12, R11

// One k step of the 4×32 kernel: two 16-wide B loads, 4 A broadcasts,
// 8 FMAs into Z0–Z7 (row r lives in Z(2r), Z(2r+1)).
#define STEP4Z(bo) \
	VMOVUPS      bo(BX), Z28; \
	VMOVUPS      bo+64(BX), Z29; \
	VBROADCASTSS (AX), Z30; \
	VFMADD231PS  Z28, Z30, Z0; \
	VFMADD231PS  Z29, Z30, Z1; \
	VBROADCASTSS (AX)(R8*1), Z31; \
	VFMADD231PS  Z28, Z31, Z2; \
	VFMADD231PS  Z29, Z31, Z3; \
	VBROADCASTSS (AX)(R8*2), Z30; \
	VFMADD231PS  Z28, Z30, Z4; \
	VFMADD231PS  Z29, Z30, Z5; \
	VBROADCASTSS (R11), Z31; \
	VFMADD231PS  Z28, Z31, Z6; \
	VFMADD231PS  Z29, Z31, Z7; \
	ADDQ         R12, AX; \
	ADDQ         R12, R11

// Row r of C = beta*C + acc (acc already scaled by alpha), Z31 = beta.
#define ROWBETA32(lo, hi) \
	VFMADD231PS (DI), Z31, lo; \
	VFMADD231PS 64(DI), Z31, hi; \
	VMOVUPS     lo, (DI); \
	VMOVUPS     hi, 64(DI); \
	ADDQ        DX, DI

#define ROWSTORE32(lo, hi) \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 64(DI); \
	ADDQ    DX, DI

// A row of C is 128 bytes: three prefetches cover it at any alignment.
#define PREFETCHROW32 \
	PREFETCHT0 (R9); \
	PREFETCHT0 64(R9); \
	PREFETCHT0 127(R9); \
	ADDQ       DX, R9

// func kern6x32(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[i, j] = alpha * Σ_p a[i*rsa + p*csa] * b[p*32+j] + beta * C[i, j]
// for i < 6, j < 32, with C (row stride ldc) read only when beta != 0.
TEXT ·kern6x32(SB), NOSPLIT, $0-64
	PROLOGUE
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32

	ZERO12Z

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   z6tail

z6loop4:
	STEP6Z(0)
	STEP6Z(128)
	STEP6Z(256)
	STEP6Z(384)
	ADDQ $512, BX
	DECQ R10
	JNZ  z6loop4

z6tail:
	ANDQ $3, CX
	JZ   z6done

z6loop1:
	STEP6Z(0)
	ADDQ $128, BX
	DECQ CX
	JNZ  z6loop1

z6done:
	VBROADCASTSS alpha+56(FP), Z30
	SCALE12Z

	MOVL beta+60(FP), R10
	ANDL $0x7fffffff, R10
	JZ   z6beta0

	VBROADCASTSS beta+60(FP), Z31
	ROWBETA32(Z0, Z1)
	ROWBETA32(Z2, Z3)
	ROWBETA32(Z4, Z5)
	ROWBETA32(Z6, Z7)
	ROWBETA32(Z8, Z9)
	ROWBETA32(Z10, Z11)
	VZEROUPPER
	RET

z6beta0:
	ROWSTORE32(Z0, Z1)
	ROWSTORE32(Z2, Z3)
	ROWSTORE32(Z4, Z5)
	ROWSTORE32(Z6, Z7)
	ROWSTORE32(Z8, Z9)
	ROWSTORE32(Z10, Z11)
	VZEROUPPER
	RET


// func kern4x32(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// kern6x32 for four rows.
TEXT ·kern4x32(SB), NOSPLIT, $0-64
	PROLOGUE
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32

	ZERO8Z

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   z4tail

z4loop4:
	STEP4Z(0)
	STEP4Z(128)
	STEP4Z(256)
	STEP4Z(384)
	ADDQ $512, BX
	DECQ R10
	JNZ  z4loop4

z4tail:
	ANDQ $3, CX
	JZ   z4done

z4loop1:
	STEP4Z(0)
	ADDQ $128, BX
	DECQ CX
	JNZ  z4loop1

z4done:
	VBROADCASTSS alpha+56(FP), Z30
	SCALE8Z

	MOVL beta+60(FP), R10
	ANDL $0x7fffffff, R10
	JZ   z4beta0

	VBROADCASTSS beta+60(FP), Z31
	ROWBETA32(Z0, Z1)
	ROWBETA32(Z2, Z3)
	ROWBETA32(Z4, Z5)
	ROWBETA32(Z6, Z7)
	VZEROUPPER
	RET

z4beta0:
	ROWSTORE32(Z0, Z1)
	ROWSTORE32(Z2, Z3)
	ROWSTORE32(Z4, Z5)
	ROWSTORE32(Z6, Z7)
	VZEROUPPER
	RET


// One k step of the 12×16 kernel: one 16-wide B load, 12 A broadcasts,
// 12 FMAs into Z0–Z11 (row r lives in Zr). Rows 0–2 are read through AX,
// 3–5 through R11, 6–8 through SI and 9–11 through R13.
#define STEP12Z(bo) \
	VMOVUPS      bo(BX), Z28; \
	VBROADCASTSS (AX), Z12; \
	VFMADD231PS  Z28, Z12, Z0; \
	VBROADCASTSS (AX)(R8*1), Z13; \
	VFMADD231PS  Z28, Z13, Z1; \
	VBROADCASTSS (AX)(R8*2), Z14; \
	VFMADD231PS  Z28, Z14, Z2; \
	VBROADCASTSS (R11), Z15; \
	VFMADD231PS  Z28, Z15, Z3; \
	VBROADCASTSS (R11)(R8*1), Z16; \
	VFMADD231PS  Z28, Z16, Z4; \
	VBROADCASTSS (R11)(R8*2), Z17; \
	VFMADD231PS  Z28, Z17, Z5; \
	VBROADCASTSS (SI), Z18; \
	VFMADD231PS  Z28, Z18, Z6; \
	VBROADCASTSS (SI)(R8*1), Z19; \
	VFMADD231PS  Z28, Z19, Z7; \
	VBROADCASTSS (SI)(R8*2), Z20; \
	VFMADD231PS  Z28, Z20, Z8; \
	VBROADCASTSS (R13), Z21; \
	VFMADD231PS  Z28, Z21, Z9; \
	VBROADCASTSS (R13)(R8*1), Z22; \
	VFMADD231PS  Z28, Z22, Z10; \
	VBROADCASTSS (R13)(R8*2), Z23; \
	VFMADD231PS  Z28, Z23, Z11; \
	ADDQ         R12, AX; \
	ADDQ         R12, R11; \
	ADDQ         R12, SI; \
	ADDQ         R12, R13

// Row r of C = beta*C + acc (acc already scaled by alpha), Z31 = beta.
#define ROWBETA16(r) \
	VFMADD231PS (DI), Z31, r; \
	VMOVUPS     r, (DI); \
	ADDQ        DX, DI

#define ROWSTORE16(r) \
	VMOVUPS r, (DI); \
	ADDQ    DX, DI

// func kern12x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[i, j] = alpha * Σ_p a[i*rsa + p*csa] * b[p*16+j] + beta * C[i, j]
// for i < 12, j < 16, with C (row stride ldc) read only when beta != 0:
// the AVX2 kernels' 16-wide tile, one zmm a row, twelve rows high so that
// twelve independent FMA chains cover the FMA latency. Each element is the
// same chain of FMAs as in kern6x16.
TEXT ·kern12x16(SB), NOSPLIT, $0-64
	PROLOGUE
	LEAQ (R11)(R8*2), SI
	ADDQ R8, SI          // row 6
	LEAQ (SI)(R8*2), R13
	ADDQ R8, R13         // row 9
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW

	ZERO12Z

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   z12tail

z12loop4:
	STEP12Z(0)
	STEP12Z(64)
	STEP12Z(128)
	STEP12Z(192)
	ADDQ $256, BX
	DECQ R10
	JNZ  z12loop4

z12tail:
	ANDQ $3, CX
	JZ   z12done

z12loop1:
	STEP12Z(0)
	ADDQ $64, BX
	DECQ CX
	JNZ  z12loop1

z12done:
	VBROADCASTSS alpha+56(FP), Z30
	SCALE12Z

	MOVL beta+60(FP), R10
	ANDL $0x7fffffff, R10
	JZ   z12beta0

	VBROADCASTSS beta+60(FP), Z31
	ROWBETA16(Z0)
	ROWBETA16(Z1)
	ROWBETA16(Z2)
	ROWBETA16(Z3)
	ROWBETA16(Z4)
	ROWBETA16(Z5)
	ROWBETA16(Z6)
	ROWBETA16(Z7)
	ROWBETA16(Z8)
	ROWBETA16(Z9)
	ROWBETA16(Z10)
	ROWBETA16(Z11)
	VZEROUPPER
	RET

z12beta0:
	ROWSTORE16(Z0)
	ROWSTORE16(Z1)
	ROWSTORE16(Z2)
	ROWSTORE16(Z3)
	ROWSTORE16(Z4)
	ROWSTORE16(Z5)
	ROWSTORE16(Z6)
	ROWSTORE16(Z7)
	ROWSTORE16(Z8)
	ROWSTORE16(Z9)
	ROWSTORE16(Z10)
	ROWSTORE16(Z11)
	VZEROUPPER
	RET


// func copyMask32(dst, src *float32, ld int, k int, mask int)
//
// dst[p*32+j] = src[p*ld+j] where bit j of mask is set, 0 elsewhere, for
// j < 32, p < k. Masked-off columns are not read.
TEXT ·copyMask32(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), DX
	MOVQ  k+24(FP), CX
	MOVQ  mask+32(FP), AX
	TESTQ CX, CX
	JZ    cm32done
	SHLQ  $2, DX
	KMOVW AX, K1
	SHRQ  $16, AX
	KMOVW AX, K2

cm32loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	ADDQ      DX, SI
	ADDQ      $128, DI
	DECQ      CX
	JNZ       cm32loop
	VZEROUPPER

cm32done:
	RET

// func fmaPeak512(n int)
//
// n rounds of twenty-four independent 16-wide FMAs (768 flops): the
// core's float32 FMA throughput with zmm registers.
TEXT ·fmaPeak512(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	TESTQ CX, CX
	JZ    peak512done

peak512loop:
	VFMADD231PS Z30, Z31, Z0
	VFMADD231PS Z30, Z31, Z1
	VFMADD231PS Z30, Z31, Z2
	VFMADD231PS Z30, Z31, Z3
	VFMADD231PS Z30, Z31, Z4
	VFMADD231PS Z30, Z31, Z5
	VFMADD231PS Z30, Z31, Z6
	VFMADD231PS Z30, Z31, Z7
	VFMADD231PS Z30, Z31, Z8
	VFMADD231PS Z30, Z31, Z9
	VFMADD231PS Z30, Z31, Z10
	VFMADD231PS Z30, Z31, Z11
	VFMADD231PS Z30, Z31, Z12
	VFMADD231PS Z30, Z31, Z13
	VFMADD231PS Z30, Z31, Z14
	VFMADD231PS Z30, Z31, Z15
	VFMADD231PS Z30, Z31, Z16
	VFMADD231PS Z30, Z31, Z17
	VFMADD231PS Z30, Z31, Z18
	VFMADD231PS Z30, Z31, Z19
	VFMADD231PS Z30, Z31, Z20
	VFMADD231PS Z30, Z31, Z21
	VFMADD231PS Z30, Z31, Z22
	VFMADD231PS Z30, Z31, Z23
	DECQ CX
	JNZ  peak512loop

peak512done:
	VZEROUPPER
	RET

// func dotRowsAVX512(dst, a *float32, lda int, x *float32, rows, n16 int)
//
// Four zmm accumulators over 64 columns a step, then one 16-column step at
// a time into Z0; the sum is ((Z0+Z1) + (Z2+Z3)), its upper eight lanes
// added to the lower, then 4 + 4, 2 + 2, 1 + 1: the order dotRowsAVX2
// follows.
TEXT ·dotRowsAVX512(SB), NOSPLIT, $0-48
	DOTARGS
	TESTQ R9, R9
	JZ    zdrdone

zdrrow:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   R10, CX

zdrloop4:
	CMPQ        CX, $4
	JB          zdrloop1
	VMOVUPS     (AX), Z8
	VMOVUPS     64(AX), Z9
	VMOVUPS     128(AX), Z10
	VMOVUPS     192(AX), Z11
	VFMADD231PS (BX), Z8, Z0
	VFMADD231PS 64(BX), Z9, Z1
	VFMADD231PS 128(BX), Z10, Z2
	VFMADD231PS 192(BX), Z11, Z3
	ADDQ        $256, AX
	ADDQ        $256, BX
	SUBQ        $4, CX
	JMP         zdrloop4

zdrloop1:
	TESTQ       CX, CX
	JZ          zdrreduce
	VMOVUPS     (AX), Z8
	VFMADD231PS (BX), Z8, Z0
	ADDQ        $64, AX
	ADDQ        $64, BX
	DECQ        CX
	JMP         zdrloop1

zdrreduce:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	FOLD8
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R8, SI
	DECQ          R9
	JNZ           zdrrow
	VZEROUPPER

zdrdone:
	RET
