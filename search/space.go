package search

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind is the type of a search-space parameter.
type Kind uint8

// The parameter kinds. The zero Kind is invalid.
const (
	// Float is a real number in [Low, High], uniform or (Log) log-uniform.
	Float Kind = iota + 1
	// Int is an integer in [Low, High] on a grid of Step, uniform or
	// (Log) log-uniform.
	Int
	// Categorical is one of Values: strings, numbers or bools. A "bool"
	// parameter is a Categorical over {false, true}.
	Categorical
)

// String returns the YAML name of the kind.
func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Int:
		return "int"
	case Categorical:
		return "categorical"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Op is the comparison of a Condition.
type Op string

// The condition operators. Lt, Le, Gt and Ge need a numeric parameter; In
// takes a list of values.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Lt Op = "lt"
	Le Op = "le"
	Gt Op = "gt"
	Ge Op = "ge"
	In Op = "in"
)

// Condition makes a parameter active only when another parameter's value
// satisfies "Param Op Value". A condition on a parameter that is itself
// inactive does not hold.
type Condition struct {
	// Param names the parameter the condition reads.
	Param string
	// Op is the comparison; the zero value "" is not valid after parsing
	// (YAML may omit it, which means Eq).
	Op Op
	// Value is the operand: a float64, string or bool, or for In a []any
	// of them.
	Value any
}

// String renders the condition as "bits lt 32".
func (c Condition) String() string { return fmt.Sprintf("%s %s %v", c.Param, c.Op, c.Value) }

// Param is one declared (or, for Per, expanded) dimension of a Space.
type Param struct {
	// Name is the key of the parameter in Params.
	Name string
	// Kind is Float, Int or Categorical.
	Kind Kind
	// Low and High bound a Float or Int parameter, both inclusive.
	Low, High float64
	// Log samples a Float or Int parameter log-uniformly; Low must be > 0
	// (>= 1 for Int).
	Log bool
	// Step is the spacing of an Int parameter; zero means 1. High-Low must
	// be a multiple of Step.
	Step int
	// Values are the choices of a Categorical parameter: all strings, all
	// bools, or all numbers (int when every number is integral, float64
	// otherwise).
	Values []any
	// When lists conditions that must all hold for the parameter to be
	// active; empty means always active.
	When []Condition
	// Per, on a declaration, names an Int parameter counting layers: the
	// declaration expands into Name_1 … Name_H (H = that parameter's High),
	// Name_i active when Per >= i. Expanded parameters have Per == "".
	Per string
}

// step returns the Int step, treating zero as 1.
func (p *Param) step() int {
	if p.Step < 1 {
		return 1
	}
	return p.Step
}

// maxLayers bounds the High of a parameter named by Per.
const maxLayers = 64

// maxIntAbs bounds Int parameter values so they convert exactly between
// float64, int and JSON.
const maxIntAbs = 1 << 53

// Space is a validated, typed search space. Build one with ParseSpace or
// by decoding YAML/JSON into it. The zero Space has no parameters. A Space
// is immutable after construction and safe for concurrent use.
type Space struct {
	params  []Param        // expanded, parents before children, then by name
	index   map[string]int // name -> position in params
	decl    []Param        // as declared, sorted by name
	parents [][]int        // positions of the params each param's When reads
}

// Params returns the (expanded) parameters in sampling order: every
// parameter after the parameters its conditions read, ties by name. The
// slice is a copy.
func (s *Space) Params() []Param {
	out := make([]Param, len(s.params))
	for i, p := range s.params {
		out[i] = cloneParam(p)
	}
	return out
}

// Len returns the number of (expanded) parameters.
func (s *Space) Len() int { return len(s.params) }

// Param returns the (expanded) parameter called name.
func (s *Space) Param(name string) (Param, bool) {
	i, ok := s.index[name]
	if !ok {
		return Param{}, false
	}
	return s.Params()[i], true
}

// UnmarshalYAML implements yaml.Unmarshaler: the node is the mapping under
// "space:".
func (s *Space) UnmarshalYAML(n *yaml.Node) error {
	var raw map[string]any
	if err := n.Decode(&raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpace, err)
	}
	sp, err := ParseSpace(raw)
	if err != nil {
		return err
	}
	*s = *sp
	return nil
}

// UnmarshalJSON implements json.Unmarshaler with the same schema as YAML.
func (s *Space) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpace, err)
	}
	sp, err := ParseSpace(raw)
	if err != nil {
		return err
	}
	*s = *sp
	return nil
}

// MarshalYAML implements yaml.Marshaler; the output parses back to an
// equal Space.
func (s *Space) MarshalYAML() (any, error) { return s.raw(), nil }

// MarshalJSON implements json.Marshaler; the output parses back to an
// equal Space.
func (s *Space) MarshalJSON() ([]byte, error) { return json.Marshal(s.raw()) }

// raw renders the declarations in the canonical map form ParseSpace reads.
func (s *Space) raw() map[string]any {
	out := make(map[string]any, len(s.decl))
	for _, p := range s.decl {
		m := map[string]any{"type": p.Kind.String()}
		switch p.Kind {
		case Float, Int:
			m["low"], m["high"] = p.Low, p.High
			if p.Kind == Int {
				m["low"], m["high"] = int64(p.Low), int64(p.High)
			}
			if p.Log {
				m["log"] = true
			}
			if p.Step > 1 {
				m["step"] = p.Step
			}
		case Categorical:
			m["values"] = slices.Clone(p.Values)
		}
		if p.Per != "" {
			m["per"] = p.Per
		}
		if len(p.When) > 0 {
			when := make([]any, len(p.When))
			for i, c := range p.When {
				when[i] = map[string]any{"param": c.Param, "op": string(c.Op), "value": c.Value}
			}
			m["when"] = when
		}
		out[p.Name] = m
	}
	return out
}

// ParseSpace validates and builds a Space from the generic form of the
// sweep's "space:" section (as produced by yaml.v3, viper or encoding/json):
// parameter name → declaration. A declaration is a mapping
//
//	{type: float|int|categorical|bool, low, high, log, step, values, when, per}
//
// a list (shorthand for a categorical) or a scalar (a fixed value, a
// categorical with one choice). Every problem is reported, each as a
// *FieldError naming its path, joined with errors.Join; all wrap
// ErrInvalidSpace.
func ParseSpace(raw map[string]any) (*Space, error) {
	l := &errList{kind: ErrInvalidSpace}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	var decl []Param
	broken := make(map[string]bool) // declared but unusable: no follow-up errors
	for _, name := range names {
		path := "space." + pathName(name)
		if !validName(name) {
			l.addf(path, "invalid name (want a letter followed by letters, digits or _)")
			continue
		}
		p, valuesPath, ok := parseParam(l, path, name, raw[name])
		if !ok {
			broken[name] = true
			continue
		}
		checkKnob(l, &p, valuesPath)
		decl = append(decl, p)
	}
	s := &Space{decl: decl}
	s.expand(l, broken)
	s.resolve(l, broken)
	if err := l.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func validName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return true
}

// parseParam parses one declaration; ok is false when it is unusable.
// valuesPath is where its categorical values sit ("space.x" for the list
// shorthand, "space.x.values" otherwise).
func parseParam(l *errList, path, name string, v any) (p Param, valuesPath string, ok bool) {
	p = Param{Name: name}
	if v == nil {
		l.addf(path, "empty declaration (want a mapping with type, a list of values, or a fixed value)")
		return p, path, false
	}
	if list, isList := asList(v); isList {
		p.Kind = Categorical
		p.Values, ok = parseValues(l, path, list)
		return p, path, ok
	}
	m, isMap, problem := asMap(v)
	if problem != "" {
		l.addf(path, "%s", problem)
		return p, path, false
	}
	if !isMap {
		val, isScalar := scalar(v)
		if !isScalar {
			l.addf(path, "unsupported value of type %T", v)
			return p, path, false
		}
		p.Kind = Categorical
		p.Values, ok = parseValues(l, path, []any{val})
		return p, path + ".value", ok
	}
	p, ok = parseMapping(l, path, p, m)
	return p, path + ".values", ok
}

var paramFields = []string{"high", "log", "low", "per", "step", "type", "values", "when"}

func parseMapping(l *errList, path string, p Param, m map[string]any) (Param, bool) {
	ok := true
	keys := sortedKeys(m)
	for _, k := range keys {
		if !slices.Contains(paramFields, k) {
			l.addf(path+"."+pathName(k), "unknown field (want one of %s)", strings.Join(paramFields, ", "))
			ok = false
		}
	}
	typ := ""
	if t, has := m["type"]; has {
		ts, isStr := t.(string)
		if !isStr {
			l.addf(path+".type", "got %T, want float, int, categorical or bool", t)
			return p, false
		}
		typ = strings.ToLower(ts)
	} else if _, has := m["values"]; has {
		typ = "categorical"
	} else {
		l.addf(path+".type", "missing (want float, int, categorical or bool)")
		return p, false
	}
	allowed := map[string]bool{"type": true, "when": true, "per": true}
	switch typ {
	case "float", "int", "integer":
		p.Kind = Float
		if typ != "float" {
			p.Kind = Int
		}
		allowed["low"], allowed["high"], allowed["log"] = true, true, true
		lo, okLo := numField(l, path+".low", m["low"], true)
		hi, okHi := numField(l, path+".high", m["high"], true)
		p.Low, p.High = lo, hi
		if lg, has := m["log"]; has {
			b, isBool := boolField(lg)
			if !isBool {
				l.addf(path+".log", "got %v, want true or false", lg)
				ok = false
			}
			p.Log = b
		}
		if p.Kind == Int {
			allowed["step"] = true
		}
		if !okLo || !okHi {
			ok = false
			break
		}
		if p.Kind == Float {
			ok = checkFloatBounds(l, path, &p) && ok
		} else {
			ok = checkIntBounds(l, path, &p, m["step"]) && ok
		}
	case "categorical":
		allowed["values"] = true
		list, isList := asList(m["values"])
		if !isList {
			l.addf(path+".values", "missing or not a list")
			ok = false
			break
		}
		p.Kind = Categorical
		vals, vok := parseValues(l, path+".values", list)
		p.Values = vals
		ok = vok && ok
	case "bool", "boolean":
		p.Kind = Categorical
		p.Values = []any{false, true}
	default:
		l.addf(path+".type", "%q unknown (want float, int, categorical or bool)", typ)
		return p, false
	}
	for _, k := range keys {
		if slices.Contains(paramFields, k) && !allowed[k] {
			l.addf(path+"."+k, "not allowed for type %s", typ)
			ok = false
		}
	}
	if per, has := m["per"]; has {
		ps, isStr := per.(string)
		if !isStr || ps == "" {
			l.addf(path+".per", "got %v, want the name of an int parameter", per)
			ok = false
		}
		p.Per = ps
	}
	if w, has := m["when"]; has {
		when, wok := parseWhen(l, path+".when", w)
		p.When = when
		ok = wok && ok
	}
	return p, ok
}

func checkFloatBounds(l *errList, path string, p *Param) bool {
	ok := true
	if !(p.Low < p.High) {
		l.addf(path+".high", "%g not above low %g", p.High, p.Low)
		ok = false
	}
	if p.Log && !(p.Low > 0) {
		l.addf(path+".low", "%g outside (0, +Inf) required by log", p.Low)
		ok = false
	}
	return ok
}

func checkIntBounds(l *errList, path string, p *Param, stepRaw any) bool {
	ok := true
	for _, f := range []struct {
		name string
		v    float64
	}{{"low", p.Low}, {"high", p.High}} {
		if f.v != math.Trunc(f.v) {
			l.addf(path+"."+f.name, "%g not an integer", f.v)
			ok = false
		} else if math.Abs(f.v) > maxIntAbs {
			l.addf(path+"."+f.name, "%g outside [-2^53, 2^53]", f.v)
			ok = false
		}
	}
	if ok && p.Low > p.High {
		l.addf(path+".high", "%g below low %g", p.High, p.Low)
		ok = false
	}
	if p.Log && p.Low < 1 {
		l.addf(path+".low", "%g outside [1, +Inf) required by log", p.Low)
		ok = false
	}
	if stepRaw != nil {
		st, sok := numField(l, path+".step", stepRaw, true)
		switch {
		case !sok:
			ok = false
		case st != math.Trunc(st) || st < 1 || st > maxIntAbs:
			l.addf(path+".step", "%g not a positive integer", st)
			ok = false
		case p.Log && st != 1:
			l.addf(path+".step", "%g not allowed with log (only 1)", st)
			ok = false
		default:
			p.Step = int(st)
			if ok && math.Mod(p.High-p.Low, st) != 0 {
				l.addf(path+".step", "high-low = %g not a multiple of %g", p.High-p.Low, st)
				ok = false
			}
		}
	}
	if p.Step == 1 {
		p.Step = 0
	}
	return ok
}

// parseValues validates categorical choices and canonicalizes numbers.
func parseValues(l *errList, path string, list []any) ([]any, bool) {
	if len(list) == 0 {
		l.addf(path, "empty list of values")
		return nil, false
	}
	ok := true
	vals := make([]any, len(list))
	kind := ""
	allInt := true
	for i, v := range list {
		ip := fmt.Sprintf("%s[%d]", path, i)
		sv, sok := scalar(v)
		if !sok {
			l.addf(ip, "got %T, want a string, number or bool", v)
			ok = false
			continue
		}
		k := valueKind(sv)
		if kind == "" {
			kind = k
		} else if k != kind {
			l.addf(ip, "%v is a %s but earlier values are %ss", fmtValue(sv), k, kind)
			ok = false
			continue
		}
		if f, isNum := sv.(float64); isNum {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				l.addf(ip, "%g not finite", f)
				ok = false
				continue
			}
			if f != math.Trunc(f) || math.Abs(f) > maxIntAbs {
				allInt = false
			}
		}
		for j := range i {
			if vals[j] != nil && valueEqual(vals[j], sv) {
				l.addf(ip, "%v duplicates values[%d]", fmtValue(sv), j)
				ok = false
			}
		}
		vals[i] = sv
	}
	if !ok {
		return nil, false
	}
	if kind == "number" && allInt {
		for i, v := range vals {
			vals[i] = int(v.(float64))
		}
	}
	return vals, true
}

var condFields = []string{"op", "param", "value"}

func parseWhen(l *errList, path string, v any) ([]Condition, bool) {
	var items []any
	if list, ok := asList(v); ok {
		items = list
	} else {
		items = []any{v}
	}
	if len(items) == 0 {
		l.addf(path, "empty list of conditions")
		return nil, false
	}
	ok := true
	var out []Condition
	for i, it := range items {
		ip := path
		if _, isList := asList(v); isList {
			ip = fmt.Sprintf("%s[%d]", path, i)
		}
		m, isMap, err := asMap(it)
		if err != "" || !isMap {
			l.addf(ip, "want a mapping {param, op, value}")
			ok = false
			continue
		}
		cok := true
		for _, k := range sortedKeys(m) {
			if !slices.Contains(condFields, k) {
				l.addf(ip+"."+pathName(k), "unknown field (want param, op, value)")
				cok = false
			}
		}
		var c Condition
		if ps, isStr := m["param"].(string); isStr && ps != "" {
			c.Param = ps
		} else {
			l.addf(ip+".param", "missing or not a parameter name")
			cok = false
		}
		c.Op = Eq
		if o, has := m["op"]; has {
			os, isStr := o.(string)
			op := Op(strings.ToLower(os))
			if !isStr || !slices.Contains([]Op{Eq, Ne, Lt, Le, Gt, Ge, In}, op) {
				l.addf(ip+".op", "%v unknown (want eq, ne, lt, le, gt, ge or in)", o)
				cok = false
			}
			c.Op = op
		}
		raw, has := m["value"]
		if !has {
			l.addf(ip+".value", "missing")
			cok = false
		} else if c.Op == In {
			list, isList := asList(raw)
			if !isList || len(list) == 0 {
				l.addf(ip+".value", "want a non-empty list for op in")
				cok = false
			} else {
				vals := make([]any, len(list))
				for j, e := range list {
					sv, sok := scalar(e)
					if !sok {
						l.addf(fmt.Sprintf("%s.value[%d]", ip, j), "got %T, want a string, number or bool", e)
						cok = false
					}
					vals[j] = sv
				}
				c.Value = vals
			}
		} else {
			sv, sok := scalar(raw)
			if !sok {
				l.addf(ip+".value", "got %T, want a string, number or bool", raw)
				cok = false
			}
			c.Value = sv
		}
		if cok {
			out = append(out, c)
		}
		ok = ok && cok
	}
	return out, ok
}

// expand replaces Per declarations by their per-layer parameters.
func (s *Space) expand(l *errList, broken map[string]bool) {
	declared := make(map[string]int, len(s.decl))
	for i, p := range s.decl {
		declared[p.Name] = i
	}
	seen := make(map[string]string) // expanded name -> declaration producing it
	for _, p := range s.decl {
		if p.Per == "" {
			s.params = append(s.params, cloneParam(p))
			continue
		}
		path := "space." + p.Name + ".per"
		j, ok := declared[p.Per]
		if !ok {
			if !broken[p.Per] {
				l.addf(path, "%q is not a declared parameter", p.Per)
			}
			continue
		}
		layers := s.decl[j]
		switch {
		case layers.Kind != Int:
			l.addf(path, "%q is %s, want int", p.Per, layers.Kind)
			continue
		case layers.Per != "":
			l.addf(path, "%q is itself per-layer", p.Per)
			continue
		case layers.Low < 0 || layers.High > maxLayers:
			l.addf(path, "%q ranges over [%g, %g], want within [0, %d]", p.Per, layers.Low, layers.High, maxLayers)
			continue
		}
		for i := 1; i <= int(layers.High); i++ {
			q := cloneParam(p)
			q.Per = ""
			q.Name = p.Name + "_" + strconv.Itoa(i)
			q.When = append(q.When, Condition{Param: p.Per, Op: Ge, Value: float64(i)})
			if _, clash := declared[q.Name]; clash {
				l.addf(path, "expands to %s, which is declared too", q.Name)
				continue
			}
			if other, clash := seen[q.Name]; clash {
				l.addf(path, "expands to %s, which %s also expands to", q.Name, other)
				continue
			}
			seen[q.Name] = p.Name
			s.params = append(s.params, q)
		}
	}
}

func cloneParam(p Param) Param {
	p.Values = slices.Clone(p.Values)
	p.When = slices.Clone(p.When)
	for i, c := range p.When {
		if list, ok := c.Value.([]any); ok {
			p.When[i].Value = slices.Clone(list)
		}
	}
	return p
}

// resolve checks conditions against the expanded parameters, orders the
// parameters parents first and builds the index.
func (s *Space) resolve(l *errList, broken map[string]bool) {
	byName := make(map[string]int, len(s.params))
	for i, p := range s.params {
		byName[p.Name] = i
	}
	parents := make([][]int, len(s.params))
	for i := range s.params {
		p := &s.params[i]
		for ci := range p.When {
			c := &p.When[ci]
			path := "space." + p.Name + ".when"
			if len(p.When) > 1 {
				path = fmt.Sprintf("%s[%d]", path, ci)
			}
			j, ok := byName[c.Param]
			if !ok {
				if !broken[c.Param] {
					l.addf(path+".param", "%q is not a parameter", c.Param)
				}
				continue
			}
			if j == i {
				l.addf(path+".param", "a parameter cannot depend on itself")
				continue
			}
			if !checkCondValue(l, path, c, &s.params[j]) {
				continue
			}
			if !slices.Contains(parents[i], j) {
				parents[i] = append(parents[i], j)
			}
		}
	}
	// Kahn's algorithm, smallest name first among the ready ones.
	n := len(s.params)
	placed := make([]bool, n)
	order := make([]int, 0, n)
	for len(order) < n {
		best := -1
		for i := range n {
			if placed[i] {
				continue
			}
			ready := true
			for _, j := range parents[i] {
				if !placed[j] {
					ready = false
					break
				}
			}
			if ready && (best < 0 || s.params[i].Name < s.params[best].Name) {
				best = i
			}
		}
		if best < 0 {
			var cyc []string
			for i := range n {
				if !placed[i] {
					cyc = append(cyc, s.params[i].Name)
				}
			}
			l.addf("space", "conditions form a cycle among %s", strings.Join(cyc, ", "))
			return
		}
		placed[best] = true
		order = append(order, best)
	}
	params := make([]Param, n)
	pos := make([]int, n) // old index -> new index
	for newI, oldI := range order {
		params[newI] = s.params[oldI]
		pos[oldI] = newI
	}
	s.parents = make([][]int, n)
	for oldI, ps := range parents {
		for _, j := range ps {
			s.parents[pos[oldI]] = append(s.parents[pos[oldI]], pos[j])
		}
	}
	s.params = params
	s.index = make(map[string]int, n)
	for i, p := range params {
		s.index[p.Name] = i
	}
}

// checkCondValue checks that the operand fits the parent's domain and
// canonicalizes numbers to float64.
func checkCondValue(l *errList, path string, c *Condition, parent *Param) bool {
	numeric := parent.Kind != Categorical || valueKind(parent.Values[0]) == "number"
	if !numeric {
		switch c.Op {
		case Lt, Le, Gt, Ge:
			l.addf(path+".op", "%s needs a numeric parameter, %s is categorical over %ss", c.Op, parent.Name, valueKind(parent.Values[0]))
			return false
		}
	}
	want := "number"
	if !numeric {
		want = valueKind(parent.Values[0])
	}
	check := func(v any, vp string) bool {
		if k := valueKind(v); k != want {
			l.addf(vp, "%v is a %s, want a %s like %s", fmtValue(v), k, want, parent.Name)
			return false
		}
		return true
	}
	if c.Op == In {
		ok := true
		for i, v := range c.Value.([]any) {
			ok = check(v, fmt.Sprintf("%s.value[%d]", path, i)) && ok
		}
		return ok
	}
	return check(c.Value, path+".value")
}

// asMap converts the map types YAML, JSON and viper produce.
func asMap(v any) (m map[string]any, isMap bool, problem string) {
	switch t := v.(type) {
	case map[string]any:
		return t, true, ""
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			ks, ok := k.(string)
			if !ok {
				return nil, true, fmt.Sprintf("key %v is a %T, want a string", k, k)
			}
			m[ks] = e
		}
		return m, true, ""
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return m, true, ""
	}
	return nil, false, ""
}

// asList converts slices (other than []byte) to []any.
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// scalar canonicalizes a YAML/JSON scalar: numbers to float64, strings and
// bools unchanged.
func scalar(v any) (any, bool) {
	switch t := v.(type) {
	case string, bool:
		return t, true
	}
	if f, ok := number(v); ok {
		return f, true
	}
	return nil, false
}

// numField reads a numeric field, accepting numeric strings (environment
// overrides arrive as strings).
func numField(l *errList, path string, v any, required bool) (float64, bool) {
	if v == nil {
		if required {
			l.addf(path, "missing")
		}
		return 0, false
	}
	f, ok := number(v)
	if !ok {
		if s, isStr := v.(string); isStr {
			if g, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				f, ok = g, true
			}
		}
	}
	if !ok {
		l.addf(path, "got %v, want a number", fmtValue(v))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		l.addf(path, "%g not finite", f)
		return 0, false
	}
	return f, true
}

func boolField(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		b, err := strconv.ParseBool(t)
		return b, err == nil
	}
	return false, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// number converts Go numbers and json.Number to float64.
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case float32:
		return float64(t), true
	case int8:
		return float64(t), true
	case int16:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint:
		return float64(t), true
	case uint8:
		return float64(t), true
	case uint16:
		return float64(t), true
	case uint32:
		return float64(t), true
	case uint64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}

// valueKind classifies a canonical scalar.
func valueKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	}
	if _, ok := number(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// valueEqual compares scalars, numbers by value.
func valueEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch ta := a.(type) {
	case string:
		tb, ok := b.(string)
		return ok && ta == tb
	case bool:
		tb, ok := b.(bool)
		return ok && ta == tb
	}
	return false
}

func fmtValue(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
