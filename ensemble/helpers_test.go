package ensemble

import (
	"math"
	"math/rand/v2"
	"testing"
)

// synth describes a synthetic problem: members whose logits favour the
// true class by a member-specific strength, on top of noise shared by all
// members (sample difficulty) and noise of their own.
type synth struct {
	n, c, k, m int    // samples, classes, folds, members
	ntest      int    // test samples; 0 for none
	seed       uint64 // seeds everything
	shared     float64
}

func makeProblem(tb testing.TB, cfg synth) *Problem {
	tb.Helper()
	rng := rand.New(rand.NewPCG(cfg.seed, 17))
	if cfg.shared == 0 {
		cfg.shared = 1
	}
	p := &Problem{Classes: cfg.c}
	p.Labels = make([]int32, cfg.n)
	p.Folds = make([]int, cfg.n)
	for i := range cfg.n {
		p.Labels[i] = int32(rng.IntN(cfg.c))
	}
	for i, r := range rng.Perm(cfg.n) {
		p.Folds[i] = r % cfg.k
	}
	if cfg.ntest > 0 {
		p.TestLabels = make([]int32, cfg.ntest)
		for i := range p.TestLabels {
			p.TestLabels[i] = int32(rng.IntN(cfg.c))
		}
	}
	sharedOOF := gaussians(rng, cfg.n*cfg.c)
	sharedTest := gaussians(rng, cfg.ntest*cfg.c)
	for j := range cfg.m {
		strength := 0.5 + 2.5*rng.Float64()
		m := Member{
			ID:    memberID(j),
			Bytes: int64(1000 + rng.IntN(9000)),
			OOF:   synthProbs(rng, p.Labels, cfg.c, strength, cfg.shared, sharedOOF),
		}
		if cfg.ntest > 0 {
			m.Test = synthProbs(rng, p.TestLabels, cfg.c, strength, cfg.shared, sharedTest)
		}
		p.Members = append(p.Members, m)
	}
	if err := p.Validate(); err != nil {
		tb.Fatalf("synthetic problem: %v", err)
	}
	return p
}

func memberID(j int) string { return "m" + string(rune('a'+j/26%26)) + string(rune('a'+j%26)) }

func gaussians(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

func synthProbs(rng *rand.Rand, labels []int32, c int, strength, shared float64, noise []float64) []float32 {
	out := make([]float32, len(labels)*c)
	z := make([]float64, c)
	for i, y := range labels {
		for k := range z {
			z[k] = shared*noise[i*c+k] + rng.NormFloat64()
		}
		z[y] += strength
		softmaxInto(out[i*c:i*c+c], z)
	}
	return out
}

func softmaxInto(dst []float32, z []float64) {
	hi := math.Inf(-1)
	for _, v := range z {
		hi = math.Max(hi, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(v - hi)
	}
	for k, v := range z {
		dst[k] = float32(math.Exp(v-hi) / sum)
	}
}
