// Shared by the micro-kernels of arch_amd64.s and avx512_amd64.s, whose
// arguments are (k int, a *float32, rsa, csa int, b, c *float32, ldc int,
// alpha, beta float32).

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
