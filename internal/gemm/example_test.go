package gemm_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/consort-ml/consort/internal/gemm"
)

func ExampleRegister() {
	old := blas32.Implementation()
	defer blas32.Use(old)

	if _, err := gemm.Register(gemm.Auto); err != nil {
		log.Fatal(err)
	}
	// Callers keep using blas32; the product now runs on gemm's kernels.
	x := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{1, 2, 3, 4, 5, 6}}
	w := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{1, 0, -1, 0.5, 0.5, 0.5}}
	z := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: make([]float32, 4)}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1, x, w, 0, z) // Z = X·Wᵀ
	fmt.Println(z.Data)
	// Output: [-2 3 -2 7.5]
}

func ExampleNew() {
	// Force the portable path, e.g. to compare it with the fast one.
	impl, err := gemm.New(gemm.Generic)
	if err != nil {
		log.Fatal(err)
	}
	a := []float32{1, 2, 3, 4}
	c := []float32{1, 1, 1, 1}
	impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 1, c, 2) // C = A·A + C
	fmt.Println(impl.Path(), c)
	// Output: generic [8 11 16 23]
}
