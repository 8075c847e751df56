package trainer

import "fmt"

// startQAT switches the fitter to quantization-aware training when the
// configuration asks for it; it reports whether it did.
func (f *fitter) startQAT() (bool, error) {
	if f.cfg.Bits < 32 || f.cfg.QAT {
		return false, fmt.Errorf("trainer: quantization (bits < 32, qat) is not available in this build yet")
	}
	return false, nil
}
