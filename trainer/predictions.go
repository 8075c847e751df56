package trainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Predictions is what ensembles are built from: one trial's out-of-fold
// class probabilities on the training samples, with their labels and
// folds, and its refit model's probabilities on the test split.
type Predictions struct {
	// Classes names the classes (C of them).
	Classes []string
	// Labels holds the N training labels; Folds the fold of each.
	Labels []int32
	Folds  []int32
	// OOF holds N×C out-of-fold probabilities, row-major.
	OOF []float32
	// TestLabels holds the test split's labels; Test its probabilities
	// (len(TestLabels)×C). Both are empty without a test split.
	TestLabels []int32
	Test       []float32
}

// PredictionsOf extracts the predictions of a cross-validation report.
func PredictionsOf(r *Report) *Predictions {
	p := &Predictions{Classes: r.ClassNames, Labels: r.Labels, OOF: r.OOF, TestLabels: r.TestLabels, Test: r.TestProbs}
	p.Folds = make([]int32, len(r.FoldOf))
	for i, f := range r.FoldOf {
		p.Folds[i] = int32(f)
	}
	return p
}

// ErrPredictions marks a predictions file that cannot be decoded.
var ErrPredictions = errors.New("trainer: bad predictions file")

var (
	predMagic  = []byte("CONSORTP")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// PredictionsVersion is the encoding version MarshalBinary writes.
const PredictionsVersion = 1

// Validate checks shapes, label and fold ranges and finite probabilities.
func (p *Predictions) Validate() error {
	c := len(p.Classes)
	n := len(p.Labels)
	switch {
	case c < 2:
		return fmt.Errorf("%w: %d classes", ErrPredictions, c)
	case len(p.Folds) != n:
		return fmt.Errorf("%w: %d folds for %d labels", ErrPredictions, len(p.Folds), n)
	case len(p.OOF) != n*c:
		return fmt.Errorf("%w: %d out-of-fold values for %d×%d", ErrPredictions, len(p.OOF), n, c)
	case len(p.Test) != len(p.TestLabels)*c:
		return fmt.Errorf("%w: %d test values for %d×%d", ErrPredictions, len(p.Test), len(p.TestLabels), c)
	}
	for i, y := range p.Labels {
		if y < 0 || int(y) >= c {
			return fmt.Errorf("%w: label %d of sample %d outside [0,%d)", ErrPredictions, y, i, c)
		}
		if p.Folds[i] < 0 {
			return fmt.Errorf("%w: negative fold of sample %d", ErrPredictions, i)
		}
	}
	for i, y := range p.TestLabels {
		if y < 0 || int(y) >= c {
			return fmt.Errorf("%w: test label %d of sample %d outside [0,%d)", ErrPredictions, y, i, c)
		}
	}
	for _, block := range [][]float32{p.OOF, p.Test} {
		for i, v := range block {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("%w: probability %v at %d not in [0,1]", ErrPredictions, v, i)
			}
		}
	}
	return nil
}

// MarshalBinary encodes p: magic "CONSORTP", a version byte, uvarint
// counts, the class names (uvarint length + UTF-8), labels and folds as
// uvarints, probabilities as little-endian float32, and a CRC-32C
// (Castagnoli) of everything before it.
func (p *Predictions) MarshalBinary() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(predMagic)
	b.WriteByte(PredictionsVersion)
	uv := func(x uint64) { b.Write(binary.AppendUvarint(nil, x)) }
	uv(uint64(len(p.Classes)))
	for _, c := range p.Classes {
		uv(uint64(len(c)))
		b.WriteString(c)
	}
	floats := func(v []float32) {
		buf := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		b.Write(buf)
	}
	uv(uint64(len(p.Labels)))
	for _, y := range p.Labels {
		uv(uint64(y))
	}
	for _, f := range p.Folds {
		uv(uint64(f))
	}
	floats(p.OOF)
	uv(uint64(len(p.TestLabels)))
	for _, y := range p.TestLabels {
		uv(uint64(y))
	}
	floats(p.Test)
	sum := crc32.Checksum(b.Bytes(), castagnoli)
	return binary.LittleEndian.AppendUint32(b.Bytes(), sum), nil
}

// UnmarshalPredictions decodes what MarshalBinary wrote. The checksum is
// verified first, every count is checked against the bytes that remain
// before anything is allocated, and a corrupt or truncated input gets an
// error wrapping ErrPredictions — never a panic.
func UnmarshalPredictions(b []byte) (*Predictions, error) {
	if len(b) < len(predMagic)+1+4 || !bytes.Equal(b[:len(predMagic)], predMagic) {
		return nil, fmt.Errorf("%w: not a consort predictions file", ErrPredictions)
	}
	body, tail := b[:len(b)-4], b[len(b)-4:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(tail) {
		return nil, fmt.Errorf("%w: checksum mismatch (corrupt or truncated)", ErrPredictions)
	}
	if v := body[len(predMagic)]; v != PredictionsVersion {
		return nil, fmt.Errorf("%w: unsupported version %d (this build reads %d)", ErrPredictions, v, PredictionsVersion)
	}
	r := &reader{b: body[len(predMagic)+1:]}
	p := &Predictions{}
	nc := r.count("classes", 1)
	for i := 0; i < nc && r.err == nil; i++ {
		p.Classes = append(p.Classes, string(r.bytes("class name", r.count("class name", 1))))
	}
	c := len(p.Classes)
	n := r.count("labels", 1)
	p.Labels = r.int32s("labels", n)
	p.Folds = r.int32s("folds", n)
	p.OOF = r.float32s("out-of-fold probabilities", n, c)
	nt := r.count("test labels", 1)
	p.TestLabels = r.int32s("test labels", nt)
	p.Test = r.float32s("test probabilities", nt, c)
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d unexpected trailing bytes", ErrPredictions, len(r.b))
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// reader decodes with sticky errors and bounds checks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated or malformed %s", ErrPredictions, what)
	}
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count whose items take at least minBytes each, and
// rejects it when the remaining input cannot hold them.
func (r *reader) count(what string, minBytes int) int {
	v := r.uvarint(what)
	if r.err == nil && (v > uint64(len(r.b))/uint64(max(minBytes, 1)) && v > 0) {
		r.fail(what)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(what string, n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail(what)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int32s(what string, n int) []int32 {
	if r.err != nil || n > len(r.b) {
		r.fail(what)
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		v := r.uvarint(what)
		if v > math.MaxInt32 {
			r.fail(what)
		}
		out[i] = int32(v)
	}
	return out
}

func (r *reader) float32s(what string, n, c int) []float32 {
	if r.err != nil {
		return nil
	}
	if c > 0 && n > len(r.b)/4/c {
		r.fail(what)
		return nil
	}
	raw := r.bytes(what, 4*n*c)
	if r.err != nil {
		return nil
	}
	out := make([]float32, n*c)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}
