package packed_test

import (
	"errors"
	"fmt"

	"github.com/consort-ml/consort/trainer/packed"
)

// A trained, pruned network is quantized into a Model, encoded (its length
// is size_bytes), decoded and run.
func Example() {
	// One 3→2 layer, row j feeding class j, with one pruned weight.
	layers := []packed.LayerSpec{{
		W:      []float32{1, 0, -0.5, -1, 0.25, 0.5},
		B:      []float32{0.1, -0.1},
		In:     3,
		Out:    2,
		Scheme: packed.Scheme{Bits: 4, PerChannel: true},
	}}
	mean := []float32{10, 10, 10}
	scale := []float32{2, 2, 2}
	m, err := packed.FromFloat(layers, packed.ReLU, mean, scale, []string{"cat", "dog"})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := m.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	layout, err := m.Layout()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("size_bytes:", len(b), "storage:", layout[0].Storage, "float32 dense:", m.Float32Size())

	m2, err := packed.Unmarshal(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := packed.NewSession(m2)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float32{14, 10, 8, 6, 10, 12} // two raw rows
	p := make([]float32, 4)
	s.Proba(p, x, 2)
	fmt.Printf("row 0: %s %.3f\nrow 1: %s %.3f\n", m2.Classes[0], p[0], m2.Classes[1], p[3])

	b[len(b)/2] ^= 1
	_, err = packed.Unmarshal(b)
	fmt.Println(errors.Is(err, packed.ErrCorrupt), errors.Is(err, packed.ErrChecksum))
	// Output:
	// size_bytes: 49 storage: dense float32 dense: 81
	// row 0: cat 0.994
	// row 1: dog 0.991
	// true true
}

// FakeQuantize rounds weights to a 4-bit symmetric grid for
// quantization-aware training; zero (pruned) weights stay exactly zero.
func ExampleFakeQuantize() {
	w := []float32{0.7, -0.42, 0, 0.1}
	dst := make([]float32, len(w))
	var scratch packed.QParams
	packed.FakeQuantize(dst, w, 1, 4, packed.Scheme{Bits: 4}, &scratch)
	fmt.Println(dst, "step", scratch.Scale[0])
	// Output:
	// [0.7 -0.4 0 0.1] step 0.1
}
