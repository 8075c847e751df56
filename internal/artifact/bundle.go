package artifact

import (
	"fmt"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/trainer/packed"
)

// Bundle turns a fitted ensemble combiner into a packed bundle that
// `consort predict` runs: models[j] is the packed model of member j of the
// problem the combiner was fitted on; only the members it uses go in.
func Bundle(comb ensemble.Combiner, models []*packed.Model) (*packed.Bundle, error) {
	used := comb.Used()
	b := &packed.Bundle{}
	for _, j := range used {
		if j < 0 || j >= len(models) || models[j] == nil {
			return nil, fmt.Errorf("artifact: bundle: no model for member %d", j)
		}
		b.Members = append(b.Members, models[j])
	}
	switch c := comb.(type) {
	case *ensemble.Weighted:
		b.Method = packed.Average
		var sum float64
		for _, j := range used {
			sum += c.Weights[j]
		}
		for _, j := range used {
			b.Weights = append(b.Weights, float32(c.Weights[j]/sum))
		}
		// Renormalise in float32 so the weights sum to 1 exactly enough.
		var s32 float32
		for _, w := range b.Weights {
			s32 += w
		}
		for i := range b.Weights {
			b.Weights[i] /= s32
		}
	case *ensemble.Majority:
		b.Method = packed.Vote
	case *ensemble.Stacked:
		b.Method = packed.Stack
		b.LogProbs = c.LogProbs
		b.Coef = make([]float32, len(c.Coef))
		for i, v := range c.Coef {
			b.Coef[i] = float32(v)
		}
		b.Intercept = make([]float32, len(c.Intercept))
		for i, v := range c.Intercept {
			b.Intercept[i] = float32(v)
		}
	default:
		return nil, fmt.Errorf("artifact: bundle: combiner %T cannot be exported", comb)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("artifact: bundle: %w", err)
	}
	return b, nil
}
