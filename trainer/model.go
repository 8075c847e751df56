package trainer

import (
	"github.com/consort-ml/consort/trainer/data"
)

// Model is a trained classifier ready to ship: the network, the input
// standardisation fitted on its training data, and the class names.
type Model struct {
	// Net is the trained network.
	Net *MLP
	// Std standardises raw features; nil means the inputs are used as
	// they are.
	Std *data.Standardizer
	// Classes names the output classes.
	Classes []string
}

// Proba writes class probabilities for n raw (unstandardised) rows of x
// into dst (n×classes).
func (m *Model) Proba(dst, x []float32, n int) {
	in := x[:n*m.Net.Inputs()]
	if m.Std != nil {
		in = make([]float32, len(in))
		m.Std.Apply(in, x[:len(in)])
	}
	NewPredictor(m.Net).Proba(dst, in, n)
}
