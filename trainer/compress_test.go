package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/consort-ml/consort/trainer/data"
	"github.com/consort-ml/consort/trainer/packed"
)

func digitsOrSkip(t *testing.T) *data.Dataset {
	t.Helper()
	ds, err := data.Builtin("digits")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestMeasureDenseFloatIsUncompressed(t *testing.T) {
	ds := digitsOrSkip(t)
	cfg := DefaultConfig()
	cfg.Epochs = 2
	rep, err := CrossValidate(context.Background(), cfg, ds, nil, CVOptions{Folds: 0, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	z := rep.Size
	if z.CompressionRatio != 1 || z.Sparsity != 0 || z.Bits != 32 {
		t.Fatalf("dense float32 model measures %+v, want ratio 1, sparsity 0, 32 bits", *z)
	}
	b, _ := rep.Packed.MarshalBinary()
	if int64(len(b)) != z.Bytes {
		t.Fatalf("size_bytes %d is not the encoding's length %d", z.Bytes, len(b))
	}
	if z.LatencyUS <= 0 {
		t.Fatalf("latency %v", z.LatencyUS)
	}
}

// A pruned, quantization-aware model is scored through its packed form,
// and that agrees with the float network on fake-quantized weights.
func TestCompressedModelScoredAsPacked(t *testing.T) {
	ds := digitsOrSkip(t)
	cfg := DefaultConfig()
	cfg.Epochs, cfg.FineTune = 10, 5
	cfg.Sparsity, cfg.Schedule, cfg.Bits, cfg.QAT = 0.8, "agp", 4, true
	rep, err := CrossValidate(context.Background(), cfg, ds, nil, CVOptions{Folds: 3, SplitSeed: 1, Refit: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size.Bits != 4 || math.Abs(rep.Size.Sparsity-0.8) > 0.01 || rep.Size.CompressionRatio < 5 {
		t.Fatalf("size %+v: want 4 bits, sparsity 0.8, ratio > 5", *rep.Size)
	}
	if rep.Accuracy.Mean < 0.9 {
		t.Fatalf("CV accuracy %.3f", rep.Accuracy.Mean)
	}
	// Float network on fake-quantized weights vs the packed integer model.
	net := rep.Model.Net
	fq := make([][]float32, len(net.Layers))
	var qp packed.QParams
	for li := range net.Layers {
		l := &net.Layers[li]
		fq[li] = make([]float32, len(l.W))
		packed.FakeQuantize(fq[li], l.W, l.Out, l.In, cfg.Scheme(), &qp)
	}
	x := append([]float32(nil), ds.X...)
	rep.Model.Std.Apply(x, x)
	ref := make([]float32, ds.N*10)
	newPredictorWeights(net, fq).Proba(ref, x, ds.N)
	got, err := predictPacked(rep.Packed, ds, seq(ds.N))
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	var maxd float64
	for i := 0; i < ds.N; i++ {
		if Argmax(ref[i*10:(i+1)*10]) == Argmax(got[i*10:(i+1)*10]) {
			agree++
		}
		for j := 0; j < 10; j++ {
			maxd = math.Max(maxd, math.Abs(float64(ref[i*10+j]-got[i*10+j])))
		}
	}
	if frac := float64(agree) / float64(ds.N); frac < 0.99 || maxd > 0.05 {
		t.Fatalf("packed vs fake-quant: argmax agreement %.4f, max |Δp| %.4f", frac, maxd)
	}
}

// With only soft targets (alpha = 1), the student learns the teacher's
// labelling even where the hard labels contradict it.
func TestDistillationFollowsTeacher(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, d, c = 400, 6, 3
	set := randomSet(rng, n, d, c, false)
	set.Teacher = make([]float32, n*c)
	truth := make([]int32, n)
	for i := 0; i < n; i++ {
		k := 0
		if set.X[i*d] > 0.5 {
			k = 1
		} else if set.X[i*d] < -0.5 {
			k = 2
		}
		truth[i] = int32(k)
		for j := 0; j < c; j++ {
			set.Teacher[i*c+j] = 0.05
		}
		set.Teacher[i*c+k] = 0.9
		set.Y[i] = int32((k + 1) % c) // hard labels all wrong
	}
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Epochs, cfg.DistillAlpha, cfg.DistillT = []int{16}, 150, 1, 2
	cfg.LR = 3e-3
	net, _, err := Train(context.Background(), &cfg, set, nil, d, c, rng)
	if err != nil {
		t.Fatal(err)
	}
	probs := make([]float32, n*c)
	NewPredictor(net).Proba(probs, set.X, n)
	if acc := Score(probs, truth, c).Accuracy; acc < 0.9 {
		t.Fatalf("student agrees with the teacher on %.3f of samples", acc)
	}
	if acc := Score(probs, set.Y, c).Accuracy; acc > 0.1 {
		t.Fatalf("student agrees with the contradicting hard labels on %.3f of samples", acc)
	}
}

func TestSoftenProbs(t *testing.T) {
	q := []float32{0.8, 0.15, 0.05}
	s := softenProbs(q, 3, 2)
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	if math.Abs(sum-1) > 1e-6 || !(s[0] < q[0] && s[2] > q[2]) {
		t.Fatalf("softened %v from %v", s, q)
	}
	if one := softenProbs(q, 3, 1); math.Abs(float64(one[0]-q[0])) > 1e-6 {
		t.Fatalf("T = 1 changed the probabilities: %v", one)
	}
}
