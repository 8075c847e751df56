// Shared by arch_amd64.s and avx512_amd64.s: the micro-kernels, whose
// arguments are (k int, a *float32, rsa, csa int, b, c *float32, ldc int,
// alpha, beta float32), and the dot kernels of Sgemv, whose arguments are
// (dst, a *float32, lda int, x *float32, rows, n16 int).

// PROLOGUE loads the arguments, scales the strides to bytes, points R11
// at row 3 of A and R9 at C for the row prefetches.
#define PROLOGUE \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), AX; \
	MOVQ rsa+16(FP), R8; \
	MOVQ csa+24(FP), R12; \
	MOVQ b+32(FP), BX; \
	MOVQ c+40(FP), DI; \
	MOVQ ldc+48(FP), DX; \
	SHLQ $2, R8; \
	SHLQ $2, R12; \
	SHLQ $2, DX; \
	LEAQ (AX)(R8*2), R11; \
	ADDQ R8, R11; \
	MOVQ DI, R9

// PREFETCHROW prefetches a 16-float row of C at R9 (64 bytes: two
// prefetches cover it at any alignment) and steps R9 to the next row.
#define PREFETCHROW \
	PREFETCHT0 (R9); \
	PREFETCHT0 63(R9); \
	ADDQ       DX, R9

// DOTARGS loads the dot kernels' arguments: dst in DI, a in SI, lda in
// bytes in R8, x in DX, rows in R9, n16 in R10.
#define DOTARGS \
	MOVQ dst+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ lda+16(FP), R8; \
	MOVQ x+24(FP), DX; \
	MOVQ rows+32(FP), R9; \
	MOVQ n16+40(FP), R10; \
	SHLQ $2, R8

// FOLD8 adds the eight lanes of Y0 into the low lane of X0 (X1 scratch):
// 4 + 4, then 2 + 2, then 1 + 1. Both dot kernels end with it, so they
// sum in the same order.
#define FOLD8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VPSHUFD      $0x4e, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPSHUFD      $0xb1, X0, X1; \
	VADDSS       X1, X0, X0
