package packed

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Method is how a Bundle combines its members' probabilities.
type Method uint8

// The combiners.
const (
	// Average is the weighted average Σ_j w_j·p_j of the member
	// probabilities, with weights on the simplex (nil weights: equal).
	Average Method = 0
	// Vote is a hard majority vote: each member votes for its most
	// probable class (the lowest index among ties); the class with most
	// votes wins, ties going to the larger summed probability, then the
	// lower class index. The output is the vote shares blended with the
	// plain average at weight δ = 1/(2(M+1)) — (1−δ)·votes/M + δ·average —
	// exactly as package ensemble's Majority, so the most probable output
	// is the winner under the tie rule and log loss stays finite.
	Vote Method = 1
	// Stack is stacking: softmax(Coef·f + Intercept) where f concatenates
	// the member probabilities (or their logarithms, see LogProbs), a
	// multinomial logistic regression as package ensemble's Stacked.
	Stack Method = 2
)

// String returns "average", "vote" or "stack".
func (m Method) String() string {
	switch m {
	case Average:
		return "average"
	case Vote:
		return "vote"
	case Stack:
		return "stack"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Bundle limits and constants.
const (
	// MaxMembers is the most members a Bundle may have.
	MaxMembers = 1 << 10
	// LogFloor is the probability floor before the logarithm when stacking
	// on log-probabilities, as in package ensemble.
	LogFloor = 1e-6
	// SimplexTolerance is how far Average weights may sum away from 1.
	SimplexTolerance = 1e-4

	flagUniform = 1 << 1 // bundle flags: Average with nil Weights
)

// Bundle is an ensemble of packed models and the combiner over their class
// probabilities, written to one file (kind byte KindBundle). Like a Model
// it is not modified by its methods and may be shared; inference state
// lives in a BundleSession.
type Bundle struct {
	// Members are the models, at least one and at most MaxMembers, all
	// with the same number of inputs and the same Classes.
	Members []*Model

	// Method is the combiner; the zero value is Average.
	Method Method

	// Weights holds one weight per member for Average: finite,
	// non-negative, summing to 1 within SimplexTolerance. Nil means equal
	// weights. Nil for the other methods.
	Weights []float32

	// Coef is Stack's C×F coefficient matrix, row-major, F = M·C:
	// Coef[c·F + u·C + k] multiplies member u's feature for class k in the
	// logit of class c (package ensemble's Stacked layout). Nil for the
	// other methods.
	Coef []float32

	// Intercept holds Stack's C intercepts. Nil for the other methods.
	Intercept []float32

	// LogProbs makes Stack's features log(max(p, LogFloor)) instead of p.
	// False for the other methods.
	LogProbs bool
}

// Inputs returns the number of raw input features.
func (b *Bundle) Inputs() int {
	if len(b.Members) == 0 || b.Members[0] == nil {
		return 0
	}
	return b.Members[0].Inputs()
}

// Labels returns the class labels shared by the members.
func (b *Bundle) Labels() []string {
	if len(b.Members) == 0 || b.Members[0] == nil {
		return nil
	}
	return b.Members[0].Classes
}

// Validate checks the invariants documented on Bundle and the members',
// returning the first violation, wrapping ErrInvalid or ErrTooLarge.
func (b *Bundle) Validate() error {
	nm := len(b.Members)
	if nm == 0 {
		return fmt.Errorf("%w: bundle: no members", ErrInvalid)
	}
	if nm > MaxMembers {
		return fmt.Errorf("%w: bundle: %d members (limit %d)", ErrTooLarge, nm, MaxMembers)
	}
	for j, m := range b.Members {
		if m == nil {
			return fmt.Errorf("%w: bundle: member %d is nil", ErrInvalid, j)
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("bundle: member %d: %w", j, err)
		}
		if err := sameShape(b.Members[0], m); err != nil {
			return fmt.Errorf("%w: bundle: member %d: %s", ErrInvalid, j, err)
		}
	}
	c := len(b.Members[0].Classes)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: bundle: %v: "+format, append([]any{ErrInvalid, b.Method}, args...)...)
	}
	if b.Method != Stack && (b.Coef != nil || b.Intercept != nil || b.LogProbs) {
		return bad("stacking coefficients set")
	}
	if b.Method != Average && b.Weights != nil {
		return bad("weights set")
	}
	switch b.Method {
	case Average:
		if b.Weights == nil {
			return nil
		}
		if len(b.Weights) != nm {
			return bad("%d weights for %d members", len(b.Weights), nm)
		}
		return checkSimplex(b.Weights)
	case Vote:
		return nil
	case Stack:
		if len(b.Coef) != c*nm*c || len(b.Intercept) != c {
			return bad("%d coefficients and %d intercepts for %d members and %d classes (want %d and %d)", len(b.Coef), len(b.Intercept), nm, c, c*nm*c, c)
		}
		if i := nonFinite(b.Coef); i >= 0 {
			return bad("coefficient %d is %v", i, b.Coef[i])
		}
		if i := nonFinite(b.Intercept); i >= 0 {
			return bad("intercept %d is %v", i, b.Intercept[i])
		}
		return nil
	}
	return fmt.Errorf("%w: bundle: unknown method %d", ErrInvalid, b.Method)
}

// sameShape describes how m differs from first in inputs or classes, or
// returns nil.
func sameShape(first, m *Model) error {
	if m.Inputs() != first.Inputs() {
		return fmt.Errorf("%d inputs, member 0 has %d", m.Inputs(), first.Inputs())
	}
	if !slices.Equal(m.Classes, first.Classes) {
		return fmt.Errorf("classes %q differ from member 0's %q", m.Classes, first.Classes)
	}
	return nil
}

func checkSimplex(w []float32) error {
	var sum float64
	for i, v := range w {
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: bundle: average: weight %d is %v (want finite, ≥ 0)", ErrInvalid, i, v)
		}
		sum += float64(v)
	}
	if math.Abs(sum-1) > SimplexTolerance {
		return fmt.Errorf("%w: bundle: average: weights sum to %v (want 1 ± %v)", ErrInvalid, sum, SimplexTolerance)
	}
	return nil
}

// MarshalBinary encodes b in the packed format (doc.go); its length is the
// bundle's size_bytes. It returns an error wrapping ErrInvalid or
// ErrTooLarge when b is not valid.
func (b *Bundle) MarshalBinary() ([]byte, error) { return b.AppendBinary(nil) }

// AppendBinary appends the encoding of b to buf.
func (b *Bundle) AppendBinary(buf []byte) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	start := len(buf)
	buf = appendHeader(buf, KindBundle)
	buf = b.appendBody(buf)
	return appendTrailer(buf, start), nil
}

func (b *Bundle) appendBody(buf []byte) []byte {
	var flags byte
	if b.LogProbs {
		flags |= flagLogProbs
	}
	if b.Method == Average && b.Weights == nil {
		flags |= flagUniform
	}
	buf = append(buf, byte(b.Method), flags)
	buf = binary.AppendUvarint(buf, uint64(len(b.Members)))
	var body []byte
	for _, m := range b.Members {
		body = m.appendBody(body[:0])
		buf = binary.AppendUvarint(buf, uint64(len(body)))
		buf = append(buf, body...)
	}
	buf = appendF32s(buf, b.Weights)
	buf = appendF32s(buf, b.Coef)
	return appendF32s(buf, b.Intercept)
}

// UnmarshalBundle decodes a bundle, with the guarantees and errors of
// Unmarshal (ErrKind for a single model). Members are checked to share
// inputs and classes.
func UnmarshalBundle(b []byte) (*Bundle, error) { return unmarshalBundle(b, MaxDecodedBytes) }

// unmarshalBundle is UnmarshalBundle with a decoded-memory budget.
func unmarshalBundle(b []byte, budget int64) (*Bundle, error) {
	body, kind, err := open(b, budget)
	if err != nil {
		return nil, err
	}
	if kind != KindBundle {
		return nil, fmt.Errorf("%w: the file holds a %v, not a bundle", ErrKind, kind)
	}
	d := decoder{b: body, budget: budget}
	bd, err := d.bundle()
	if err != nil {
		return nil, err
	}
	if err := d.end("bundle"); err != nil {
		return nil, err
	}
	return bd, nil
}

// UnmarshalBinary decodes buf into b, replacing its contents, as
// UnmarshalBundle does.
func (b *Bundle) UnmarshalBinary(buf []byte) error {
	d, err := UnmarshalBundle(buf)
	if err != nil {
		return err
	}
	*b = *d
	return nil
}

// bundle reads a bundle body.
func (d *decoder) bundle() (*Bundle, error) {
	method, err := d.u8("bundle method")
	if err != nil {
		return nil, err
	}
	b := &Bundle{Method: Method(method)}
	if b.Method > Stack {
		return nil, d.corrupt("bundle method", "unknown method %d", method)
	}
	flags, err := d.u8("bundle flags")
	if err != nil {
		return nil, err
	}
	switch {
	case flags&^(flagLogProbs|flagUniform) != 0,
		flags&flagLogProbs != 0 && b.Method != Stack,
		flags&flagUniform != 0 && b.Method != Average:
		return nil, d.corrupt("bundle flags", "flags %#02x with method %v", flags, b.Method)
	}
	b.LogProbs = flags&flagLogProbs != 0
	nm, err := d.count("member count", 1, MaxMembers, true)
	if err != nil {
		return nil, err
	}
	if err := d.charge(int64(nm)*8, "members"); err != nil {
		return nil, err
	}
	b.Members = make([]*Model, nm)
	for j := range b.Members {
		what := fmt.Sprintf("member %d", j)
		n, err := d.count(what+" length", 0, math.MaxInt32, false)
		if err != nil {
			return nil, err
		}
		if n > d.left() {
			return nil, d.truncated(what, int64(n))
		}
		sub := decoder{b: d.b[d.off : d.off+n], budget: d.budget, prefix: d.prefix + what + ": "}
		m, err := sub.model()
		if err != nil {
			return nil, err
		}
		if err := sub.end("model"); err != nil {
			return nil, err
		}
		d.off += n
		d.budget = sub.budget
		if j > 0 {
			if err := sameShape(b.Members[0], m); err != nil {
				return nil, d.corrupt(what, "%s", err)
			}
		}
		b.Members[j] = m
	}
	c := len(b.Members[0].Classes)
	switch {
	case b.Method == Average && flags&flagUniform == 0:
		if b.Weights, err = d.f32s(nm, "bundle weights", false, false); err != nil {
			return nil, err
		}
		if err := checkSimplex(b.Weights); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	case b.Method == Stack:
		if nc := int64(c) * int64(nm) * int64(c); nc*4 > int64(d.left()) {
			return nil, d.truncated("stacking coefficients", nc*4)
		}
		if b.Coef, err = d.f32s(c*nm*c, "stacking coefficients", false, false); err != nil {
			return nil, err
		}
		if b.Intercept, err = d.f32s(c, "stacking intercepts", false, false); err != nil {
			return nil, err
		}
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return b, nil
}
