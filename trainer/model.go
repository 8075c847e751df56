package trainer

import (
	"github.com/consort-ml/consort/trainer/data"
)

// Model is a trained float classifier: the network, the input
// standardisation fitted on its training data, and the class names. Pack
// turns it into the packed model that ships.
type Model struct {
	// Net is the trained network.
	Net *MLP
	// Std standardises raw features; nil means the inputs are used as
	// they are.
	Std *data.Standardizer
	// Classes names the output classes.
	Classes []string
}
