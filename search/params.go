package search

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Params is one assignment of values to the active parameters of a Space.
// Samplers produce float64 for Float, int for Int and the declared value
// (string, int, float64 or bool) for Categorical parameters. It survives a
// JSON round trip: Check and the accessors accept an integral float64
// wherever an int is expected.
type Params map[string]any

// Clone returns a shallow copy (values are scalars).
func (p Params) Clone() Params {
	if p == nil {
		return nil
	}
	q := make(Params, len(p))
	for k, v := range p {
		q[k] = v
	}
	return q
}

// Float returns the named value as a float64; ok is false when it is
// missing or not a number.
func (p Params) Float(name string) (v float64, ok bool) {
	f, ok := number(p[name])
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Int returns the named value as an int; ok is false when it is missing or
// not an integral number within ±2^53.
func (p Params) Int(name string) (v int, ok bool) {
	f, ok := number(p[name])
	if !ok || f != math.Trunc(f) || math.Abs(f) > maxIntAbs {
		return 0, false
	}
	return int(f), true
}

// String returns the named value if it is a string.
func (p Params) String(name string) (v string, ok bool) {
	v, ok = p[name].(string)
	return v, ok
}

// Bool returns the named value if it is a bool.
func (p Params) Bool(name string) (v bool, ok bool) {
	v, ok = p[name].(bool)
	return v, ok
}

// IntList returns the per-layer list called name: either a categorical
// string such as "64,32" under name, or the expanded per-layer values
// name_1, name_2, … (as produced by a declaration with per:), read until
// the first missing index. A missing list is empty, not an error.
func (p Params) IntList(name string) ([]int, error) {
	if v, ok := p[name]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, fmt.Errorf("%w: params.%s: got %T, want a list such as \"64,32\"", ErrInvalidParams, name, v)
		}
		var out []int
		for i, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" && i == 0 && !strings.Contains(s, ",") {
				return nil, nil
			}
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%w: params.%s: item %d %q not a positive integer", ErrInvalidParams, name, i, f)
			}
			out = append(out, n)
		}
		return out, nil
	}
	var out []int
	for i := 1; ; i++ {
		key := name + "_" + strconv.Itoa(i)
		if _, ok := p[key]; !ok {
			return out, nil
		}
		n, ok := p.Int(key)
		if !ok {
			return nil, fmt.Errorf("%w: params.%s: got %v, want an integer", ErrInvalidParams, key, p[key])
		}
		out = append(out, n)
	}
}

// Check reports whether p is an assignment of this space: every key is a
// parameter, every active parameter is present with a value of its kind
// inside its range, and no inactive parameter is present. All problems are
// reported, joined, each a *FieldError wrapping ErrInvalidParams. Check never
// panics, whatever p holds.
func (s *Space) Check(p Params) error {
	l := &errList{kind: ErrInvalidParams}
	var unknown []string
	for k := range p {
		if _, ok := s.index[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	const maxUnknown = 20
	for i, k := range unknown {
		if i == maxUnknown {
			l.addf("params", "%d more unknown parameters", len(unknown)-maxUnknown)
			break
		}
		l.addf("params."+pathName(k), "unknown parameter")
	}
	// valid[i]: present, active and in range; conditions read only those.
	valid := make([]bool, len(s.params))
	undecided := make([]bool, len(s.params))
	for i := range s.params {
		prm := &s.params[i]
		path := "params." + prm.Name
		for _, j := range s.parents[i] {
			if undecided[j] {
				undecided[i] = true
			}
		}
		if undecided[i] {
			// A parent is present but invalid: activity is unknown, and the
			// parent's error already explains it.
			continue
		}
		active := s.holds(p, i, valid)
		v, present := p[prm.Name]
		switch {
		case !active && present:
			l.addf(path, "set but inactive (requires %s)", condList(prm.When))
		case active && !present:
			l.addf(path, "missing")
			undecided[i] = true
		case active:
			if msg := prm.checkValue(v); msg != "" {
				l.addf(path, "%s", msg)
				undecided[i] = true
			} else {
				valid[i] = true
			}
		}
	}
	return l.err()
}

// pathName renders an untrusted key for an error path: as is when it is a
// valid name, quoted (and shortened) otherwise.
func pathName(k string) string {
	if validName(k) {
		return k
	}
	if len(k) > 40 {
		k = k[:40] + "…"
	}
	return strconv.Quote(k)
}

func condList(cs []Condition) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, " and ")
}

// holds reports whether every condition of parameter i is satisfied by p,
// reading only parents marked in ok (nil: parents present in p count).
func (s *Space) holds(p Params, i int, ok []bool) bool {
	for _, c := range s.params[i].When {
		j := s.index[c.Param]
		if ok != nil && !ok[j] {
			return false
		}
		v, present := p[c.Param]
		if !present || !c.eval(v) {
			return false
		}
	}
	return true
}

// eval applies the condition to a parent value.
func (c *Condition) eval(v any) bool {
	switch c.Op {
	case Eq:
		return valueEqual(v, c.Value)
	case Ne:
		return !valueEqual(v, c.Value)
	case In:
		list, _ := c.Value.([]any)
		for _, e := range list {
			if valueEqual(v, e) {
				return true
			}
		}
		return false
	}
	x, ok := number(v)
	y, ok2 := number(c.Value)
	if !ok || !ok2 {
		return false
	}
	switch c.Op {
	case Lt:
		return x < y
	case Le:
		return x <= y
	case Gt:
		return x > y
	case Ge:
		return x >= y
	}
	return false
}

// checkValue returns "" when v is a value of the parameter, else the problem.
func (prm *Param) checkValue(v any) string {
	switch prm.Kind {
	case Float, Int:
		x, ok := number(v)
		if !ok {
			return fmt.Sprintf("got %s, want a number", describe(v))
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("%g not finite", x)
		}
		if x < prm.Low || x > prm.High {
			return fmt.Sprintf("%g outside [%g, %g]", x, prm.Low, prm.High)
		}
		if prm.Kind == Int {
			if x != math.Trunc(x) {
				return fmt.Sprintf("%g not an integer", x)
			}
			if st := float64(prm.step()); st > 1 && math.Mod(x-prm.Low, st) != 0 {
				return fmt.Sprintf("%g not on the grid %g, %g+%g, …", x, prm.Low, prm.Low, st)
			}
		}
		return ""
	case Categorical:
		if prm.catIndex(v) >= 0 {
			return ""
		}
		parts := make([]string, len(prm.Values))
		for i, c := range prm.Values {
			parts[i] = fmtValue(c)
		}
		return fmt.Sprintf("%s not in {%s}", describe(v), strings.Join(parts, ", "))
	}
	return "parameter of unknown kind"
}

// catIndex returns the position of v among the choices, or -1.
func (prm *Param) catIndex(v any) int {
	if _, ok := scalar(v); !ok {
		return -1
	}
	for i, c := range prm.Values {
		if valueEqual(v, c) {
			return i
		}
	}
	return -1
}

// describe renders an untrusted value briefly.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return strconv.Quote(t)
	case bool:
		return strconv.FormatBool(t)
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("a %T", v)
}

// key renders the assignment canonically (numbers by value), for
// de-duplication.
func (s *Space) key(p Params) string {
	var b strings.Builder
	for _, prm := range s.params {
		v, ok := p[prm.Name]
		if !ok {
			continue
		}
		b.WriteString(prm.Name)
		b.WriteByte('=')
		if f, isNum := number(v); isNum {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString(describe(v))
		}
		b.WriteByte(';')
	}
	return b.String()
}
