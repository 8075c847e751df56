//go:build !amd64 || purego

package gemm

// archKernels is empty where no assembly path exists: Generic only.
var archKernels []*kernels
