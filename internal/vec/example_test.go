package vec_test

import (
	"fmt"
	"math"

	"github.com/consort-ml/consort/internal/vec"
)

// A dense layer's bias and ReLU forward, the ReLU's backward pass and the
// bias gradient, on a batch of two rows of three units.
func Example() {
	z := []float32{1, -2, 3, -4, 5, -6} // x·Wᵀ, 2×3
	b := []float32{0.5, 0.5, -3.5}
	vec.BiasReLU(z, b)
	fmt.Println("activations:", z)

	delta := []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6} // dLoss/dActivation
	vec.ReLUGrad(delta, z)
	fmt.Println("deltas:", delta)

	gb := make([]float32, len(b))
	vec.SumRows(gb, delta)
	fmt.Println("bias gradient:", gb)
	// Output:
	// activations: [1.5 0 0 0 5.5 0]
	// deltas: [0.1 0 0 0 0.5 0]
	// bias gradient: [0.1 0.5 0]
}

func ExampleAdam() {
	w := []float32{1, -1, 0.5}
	g := []float32{0.2, -0.4, 0}
	m := make([]float32, 3)
	v := make([]float32, 3)
	// First step (t = 1) at learning rate 0.1: step = lr/(1-β1),
	// rbc2 = 1/√(1-β2).
	const b1, b2 = 0.9, 0.999
	step, rbc2 := float32(0.1/(1-b1)), float32(1/math.Sqrt(1-b2))
	vec.Adam(w, g, m, v, nil, 0, step, rbc2, b1, b2, 1e-8)
	fmt.Printf("%.4f\n", w)
	// Output:
	// [0.9000 -0.9000 0.5000]
}
