// AVX2+FMA kernels and packing routines for package gemm (see doc.go).

//go:build !purego

#include "textflag.h"
#include "kernel_amd64.h"

// The micro-kernels read A in place through two row pointers, AX (row 0)
// and R11 (row 3), a row stride R8 and a step stride R12, all in bytes, so
// the same code runs on packed panels (R8 = 4, R12 = 4*height) and on an
// unpacked row-major A or Aᵀ. B is a packed 16-wide panel in BX.

// One k step of the 6×16 kernel: two 8-wide B loads, six A broadcasts,
// twelve FMAs into Y0–Y11 (row r lives in Y(2r), Y(2r+1)).
#define STEP6(bo) \
	VMOVUPS      bo(BX), Y12; \
	VMOVUPS      bo+32(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (AX)(R8*2), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS (R11), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VBROADCASTSS (R11)(R8*1), Y14; \
	VFMADD231PS  Y12, Y14, Y8; \
	VFMADD231PS  Y13, Y14, Y9; \
	VBROADCASTSS (R11)(R8*2), Y15; \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11; \
	ADDQ         R12, AX; \
	ADDQ         R12, R11

// One k step of the 4×16 kernel into Y0–Y7.
#define STEP4(bo) \
	VMOVUPS      bo(BX), Y12; \
	VMOVUPS      bo+32(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (AX)(R8*2), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS (R11), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	ADDQ         R12, AX; \
	ADDQ         R12, R11

// Row r of C = beta*C + acc (acc already scaled by alpha), Y15 = beta.
#define ROWBETA(lo, hi) \
	VFMADD231PS (DI), Y15, lo; \
	VFMADD231PS 32(DI), Y15, hi; \
	VMOVUPS     lo, (DI); \
	VMOVUPS     hi, 32(DI); \
	ADDQ        DX, DI

#define ROWSTORE(lo, hi) \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 32(DI); \
	ADDQ    DX, DI


// func kern6x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[i, j] = alpha * Σ_p a[i*rsa + p*csa] * b[p*16+j] + beta * C[i, j]
// for i < 6, j < 16, with C (row stride ldc) read only when beta != 0.
TEXT ·kern6x16(SB), NOSPLIT, $0-64
	PROLOGUE
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   k6tail

k6loop4:
	STEP6(0)
	STEP6(64)
	STEP6(128)
	STEP6(192)
	ADDQ $256, BX
	DECQ R10
	JNZ  k6loop4

k6tail:
	ANDQ $3, CX
	JZ   k6done

k6loop1:
	STEP6(0)
	ADDQ $64, BX
	DECQ CX
	JNZ  k6loop1

k6done:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7
	VMULPS       Y14, Y8, Y8
	VMULPS       Y14, Y9, Y9
	VMULPS       Y14, Y10, Y10
	VMULPS       Y14, Y11, Y11

	MOVL beta+60(FP), R10
	ANDL $0x7fffffff, R10
	JZ   k6beta0

	VBROADCASTSS beta+60(FP), Y15
	ROWBETA(Y0, Y1)
	ROWBETA(Y2, Y3)
	ROWBETA(Y4, Y5)
	ROWBETA(Y6, Y7)
	ROWBETA(Y8, Y9)
	ROWBETA(Y10, Y11)
	VZEROUPPER
	RET

k6beta0:
	ROWSTORE(Y0, Y1)
	ROWSTORE(Y2, Y3)
	ROWSTORE(Y4, Y5)
	ROWSTORE(Y6, Y7)
	ROWSTORE(Y8, Y9)
	ROWSTORE(Y10, Y11)
	VZEROUPPER
	RET

// func kern4x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// kern6x16 for four rows.
TEXT ·kern4x16(SB), NOSPLIT, $0-64
	PROLOGUE
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW
	PREFETCHROW

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   k4tail

k4loop4:
	STEP4(0)
	STEP4(64)
	STEP4(128)
	STEP4(192)
	ADDQ $256, BX
	DECQ R10
	JNZ  k4loop4

k4tail:
	ANDQ $3, CX
	JZ   k4done

k4loop1:
	STEP4(0)
	ADDQ $64, BX
	DECQ CX
	JNZ  k4loop1

k4done:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7

	MOVL beta+60(FP), R10
	ANDL $0x7fffffff, R10
	JZ   k4beta0

	VBROADCASTSS beta+60(FP), Y15
	ROWBETA(Y0, Y1)
	ROWBETA(Y2, Y3)
	ROWBETA(Y4, Y5)
	ROWBETA(Y6, Y7)
	VZEROUPPER
	RET

k4beta0:
	ROWSTORE(Y0, Y1)
	ROWSTORE(Y2, Y3)
	ROWSTORE(Y4, Y5)
	ROWSTORE(Y6, Y7)
	VZEROUPPER
	RET

// Transpose the 8×8 block held in rows Y0–Y7; column q ends in Y(8+q).
// Clobbers Y0–Y15.
#define TRANSPOSE8 \
	VUNPCKLPS  Y1, Y0, Y8; \
	VUNPCKHPS  Y1, Y0, Y9; \
	VUNPCKLPS  Y3, Y2, Y10; \
	VUNPCKHPS  Y3, Y2, Y11; \
	VUNPCKLPS  Y5, Y4, Y12; \
	VUNPCKHPS  Y5, Y4, Y13; \
	VUNPCKLPS  Y7, Y6, Y14; \
	VUNPCKHPS  Y7, Y6, Y15; \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// func packT16(dst, src *float32, ld int, n8 int, w int)
//
// dst[p*w+j] = src[j*ld+p] for j < 16, p < 8*n8: sixteen rows of a
// row-major matrix become k steps of a panel w floats wide (16 for a
// 16-wide panel; 32 fills one half of a 32-wide one).
TEXT ·packT16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	MOVQ n8+24(FP), CX
	MOVQ w+32(FP), R12
	TESTQ CX, CX
	JZ    pt16done
	SHLQ $2, DX          // row stride in bytes
	LEAQ (DX)(DX*2), R8  // 3 rows
	SHLQ $2, R12         // panel step in bytes
	LEAQ (R12)(R12*2), R13 // 3 steps

pt16loop:
	LEAQ    (SI)(DX*4), R9  // row 4
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
	VMOVUPS (R9)(DX*2), Y6
	VMOVUPS (R9)(R8*1), Y7
	TRANSPOSE8
	LEAQ    (DI)(R12*4), R14 // step 4
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R12*1)
	VMOVUPS Y10, (DI)(R12*2)
	VMOVUPS Y11, (DI)(R13*1)
	VMOVUPS Y12, (R14)
	VMOVUPS Y13, (R14)(R12*1)
	VMOVUPS Y14, (R14)(R12*2)
	VMOVUPS Y15, (R14)(R13*1)

	LEAQ    (R9)(DX*4), R10  // row 8
	LEAQ    (R10)(DX*4), R11 // row 12
	VMOVUPS (R10), Y0
	VMOVUPS (R10)(DX*1), Y1
	VMOVUPS (R10)(DX*2), Y2
	VMOVUPS (R10)(R8*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(DX*1), Y5
	VMOVUPS (R11)(DX*2), Y6
	VMOVUPS (R11)(R8*1), Y7
	TRANSPOSE8
	VMOVUPS Y8, 32(DI)
	VMOVUPS Y9, 32(DI)(R12*1)
	VMOVUPS Y10, 32(DI)(R12*2)
	VMOVUPS Y11, 32(DI)(R13*1)
	VMOVUPS Y12, 32(R14)
	VMOVUPS Y13, 32(R14)(R12*1)
	VMOVUPS Y14, 32(R14)(R12*2)
	VMOVUPS Y15, 32(R14)(R13*1)

	ADDQ $32, SI
	LEAQ (R14)(R12*4), DI // step 8
	DECQ CX
	JNZ  pt16loop
	VZEROUPPER

pt16done:
	RET

// func packT6(dst, src *float32, ld int, n8 int)
//
// dst[p*6+i] = src[i*ld+p] for i < 6, p < 8*n8. Each k step is written
// as a full 8-float store that the next step overwrites, so dst needs two
// floats of slack past 48*n8.
TEXT ·packT6(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	MOVQ n8+24(FP), CX
	TESTQ CX, CX
	JZ    pt6done
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R8

pt6loop:
	LEAQ    (SI)(R8*1), R9  // row 3
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(DX*1), Y4
	VMOVUPS (R9)(DX*2), Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	TRANSPOSE8
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS Y15, 168(DI)
	ADDQ    $32, SI
	ADDQ    $192, DI
	DECQ    CX
	JNZ     pt6loop
	VZEROUPPER

pt6done:
	RET

// func copy16(dst, src *float32, ld int, k int)
//
// dst[p*16+j] = src[p*ld+j] for j < 16, p < k.
TEXT ·copy16(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), DX
	MOVQ  k+24(FP), CX
	TESTQ CX, CX
	JZ    c16done
	SHLQ  $2, DX

c16loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    DX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     c16loop
	VZEROUPPER

c16done:
	RET

// func copyMask16(dst, src *float32, ld int, k int, mask *int32)
//
// dst[p*16+j] = src[p*ld+j] where mask[j] < 0, 0 elsewhere, for j < 16,
// p < k. Masked-off columns are not read.
TEXT ·copyMask16(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), DX
	MOVQ  k+24(FP), CX
	MOVQ  mask+32(FP), AX
	TESTQ CX, CX
	JZ    cm16done
	SHLQ  $2, DX
	VMOVDQU (AX), Y2
	VMOVDQU 32(AX), Y3

cm16loop:
	VMASKMOVPS (SI), Y2, Y0
	VMASKMOVPS 32(SI), Y3, Y1
	VMOVUPS    Y0, (DI)
	VMOVUPS    Y1, 32(DI)
	ADDQ       DX, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        cm16loop
	VZEROUPPER

cm16done:
	RET

// func copy6(dst, src *float32, ld int, k int)
//
// dst[p*6+i] = src[p*ld+i] for i < 6, p < k.
TEXT ·copy6(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), DX
	MOVQ  k+24(FP), CX
	TESTQ CX, CX
	JZ    c6done
	SHLQ  $2, DX

c6loop:
	MOVUPS (SI), X0
	MOVQ   16(SI), X1
	MOVUPS X0, (DI)
	MOVQ   X1, 16(DI)
	ADDQ   DX, SI
	ADDQ   $24, DI
	DECQ   CX
	JNZ    c6loop

c6done:
	RET

// func fmaPeak(n int)
//
// n rounds of twelve independent 8-wide FMAs (192 flops): the core's
// float32 FMA throughput, for benchmarks to compare against.
TEXT ·fmaPeak(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	TESTQ  CX, CX
	JZ     peakdone

peakloop:
	VFMADD231PS Y14, Y15, Y0
	VFMADD231PS Y14, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VFMADD231PS Y14, Y15, Y3
	VFMADD231PS Y14, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VFMADD231PS Y14, Y15, Y6
	VFMADD231PS Y14, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VFMADD231PS Y14, Y15, Y9
	VFMADD231PS Y14, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	DECQ        CX
	JNZ         peakloop

peakdone:
	VZEROUPPER
	RET

// func dotRowsAVX2(dst, a *float32, lda int, x *float32, rows, n16 int)
//
// Sixteen lanes in four groups, the group g of lanes in Y(2g) (lanes 0–7)
// and Y(2g+1) (8–15), as dotRowsAVX512 holds them in Z(g); see there.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-48
	DOTARGS
	TESTQ R9, R9
	JZ    drdone

drrow:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   R10, CX

drloop4:
	CMPQ        CX, $4
	JB          drloop1
	VMOVUPS     (AX), Y8
	VMOVUPS     32(AX), Y9
	VMOVUPS     64(AX), Y10
	VMOVUPS     96(AX), Y11
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS 32(BX), Y9, Y1
	VFMADD231PS 64(BX), Y10, Y2
	VFMADD231PS 96(BX), Y11, Y3
	VMOVUPS     128(AX), Y8
	VMOVUPS     160(AX), Y9
	VMOVUPS     192(AX), Y10
	VMOVUPS     224(AX), Y11
	VFMADD231PS 128(BX), Y8, Y4
	VFMADD231PS 160(BX), Y9, Y5
	VFMADD231PS 192(BX), Y10, Y6
	VFMADD231PS 224(BX), Y11, Y7
	ADDQ        $256, AX
	ADDQ        $256, BX
	SUBQ        $4, CX
	JMP         drloop4

drloop1:
	TESTQ       CX, CX
	JZ          drreduce
	VMOVUPS     (AX), Y8
	VMOVUPS     32(AX), Y9
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS 32(BX), Y9, Y1
	ADDQ        $64, AX
	ADDQ        $64, BX
	DECQ        CX
	JMP         drloop1

drreduce:
	VADDPS       Y2, Y0, Y0 // groups 0+1, lanes 0–7
	VADDPS       Y6, Y4, Y4 // groups 2+3
	VADDPS       Y4, Y0, Y0
	VADDPS       Y3, Y1, Y1 // lanes 8–15
	VADDPS       Y7, Y5, Y5
	VADDPS       Y5, Y1, Y1
	VADDPS       Y1, Y0, Y0 // 16 → 8 lanes
	FOLD8                   // 8 → 1
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         R8, SI
	DECQ         R9
	JNZ          drrow
	VZEROUPPER

drdone:
	RET
