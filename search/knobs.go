package search

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// knob is the domain of a parameter name the trainer understands. Other
// names are accepted without a domain check.
type knob struct {
	kinds  []Kind    // allowed kinds
	lo, hi float64   // numeric range
	loOpen bool      // lo excluded
	set    []float64 // allowed numbers, if any
	strs   []string  // allowed strings, for string knobs
	isBool bool      // values must be bools
	intOK  bool      // numbers must be integers
}

// knobs are the first-class parameters: compression, optimisation and
// architecture. The per-layer width is declared once (with per: layers).
var knobs = map[string]knob{
	"sparsity":    {kinds: []Kind{Float, Categorical}, lo: 0, hi: 0.99},
	"bits":        {kinds: []Kind{Int, Categorical}, set: []float64{2, 3, 4, 5, 6, 8, 16, 32}, intOK: true},
	"prune":       {kinds: []Kind{Categorical}, strs: []string{"unstructured", "structured"}},
	"schedule":    {kinds: []Kind{Categorical}, strs: []string{"oneshot", "agp"}},
	"qat":         {kinds: []Kind{Categorical}, isBool: true},
	"per_channel": {kinds: []Kind{Categorical}, isBool: true},
	"lr":          {kinds: []Kind{Float, Categorical}, lo: 0, hi: 10, loOpen: true},
	"batch":       {kinds: []Kind{Int, Categorical}, lo: 1, hi: 65536, intOK: true},
	"epochs":      {kinds: []Kind{Int, Categorical}, lo: 1, hi: 100000, intOK: true},
	"l2":          {kinds: []Kind{Float, Categorical}, lo: 0, hi: 1},
	"optimizer":   {kinds: []Kind{Categorical}, strs: []string{"sgd", "adam"}},
	"activation":  {kinds: []Kind{Categorical}, strs: []string{"relu", "tanh"}},
	"layers":      {kinds: []Kind{Int, Categorical}, lo: 0, hi: maxLayers, intOK: true},
	"width":       {kinds: []Kind{Int, Categorical}, lo: 1, hi: 65536, intOK: true},
}

// Knobs lists the parameter names with a built-in domain, sorted.
func Knobs() []string {
	names := make([]string, 0, len(knobs))
	for n := range knobs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (k *knob) domain() string {
	switch {
	case k.isBool:
		return "{false, true}"
	case k.strs != nil:
		return "{" + strings.Join(k.strs, ", ") + "}"
	case k.set != nil:
		parts := make([]string, len(k.set))
		for i, v := range k.set {
			parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	open := "["
	if k.loOpen {
		open = "("
	}
	return fmt.Sprintf("%s%g, %g]", open, k.lo, k.hi)
}

// checkNumber reports whether x lies in the knob's numeric domain.
func (k *knob) checkNumber(x float64) string {
	if k.intOK && x != math.Trunc(x) {
		return fmt.Sprintf("%g not an integer", x)
	}
	if k.set != nil {
		if !slices.Contains(k.set, x) {
			return fmt.Sprintf("%g not in %s", x, k.domain())
		}
		return ""
	}
	if x < k.lo || x > k.hi || k.loOpen && x == k.lo {
		return fmt.Sprintf("%g outside %s", x, k.domain())
	}
	return ""
}

// checkKnob validates a declaration against its name's domain.
func checkKnob(l *errList, p *Param, valuesPath string) {
	k, ok := knobs[p.Name]
	if !ok {
		return
	}
	path := "space." + p.Name
	if !slices.Contains(k.kinds, p.Kind) {
		var ks []string
		for _, kk := range k.kinds {
			ks = append(ks, kk.String())
		}
		want := strings.Join(ks, " or ")
		if k.isBool {
			want = "bool"
		}
		l.addf(path+".type", "%s not allowed (want %s)", p.Kind, want)
		return
	}
	switch p.Kind {
	case Float:
		for _, f := range []struct {
			name string
			v    float64
		}{{"low", p.Low}, {"high", p.High}} {
			if msg := k.checkNumber(f.v); msg != "" {
				l.addf(path+"."+f.name, "%s", msg)
			}
		}
	case Int:
		if k.set == nil {
			for _, f := range []struct {
				name string
				v    float64
			}{{"low", p.Low}, {"high", p.High}} {
				if msg := k.checkNumber(f.v); msg != "" {
					l.addf(path+"."+f.name, "%s", msg)
				}
			}
			return
		}
		// A set-valued knob (bits): every value of the range must be allowed.
		st := float64(p.step())
		for x, n := p.Low, 0; x <= p.High && n < 64; x, n = x+st, n+1 {
			if msg := k.checkNumber(x); msg != "" {
				l.addf(path, "range [%g, %g] includes %s; use a categorical", p.Low, p.High, msg)
				return
			}
		}
		if (p.High-p.Low)/st >= 64 {
			l.addf(path, "range [%g, %g] not within %s", p.Low, p.High, k.domain())
		}
	case Categorical:
		for i, v := range p.Values {
			vp := fmt.Sprintf("%s[%d]", valuesPath, i)
			if len(p.Values) == 1 && strings.HasSuffix(valuesPath, ".value") {
				vp = valuesPath
			}
			switch {
			case k.isBool:
				if _, ok := v.(bool); !ok {
					l.addf(vp, "%s not in %s", fmtValue(v), k.domain())
				}
			case k.strs != nil:
				if s, ok := v.(string); !ok || !slices.Contains(k.strs, s) {
					l.addf(vp, "%s not in %s", fmtValue(v), k.domain())
				}
			default:
				x, ok := number(v)
				if !ok {
					l.addf(vp, "%s not a number in %s", fmtValue(v), k.domain())
				} else if msg := k.checkNumber(x); msg != "" {
					l.addf(vp, "%s", msg)
				}
			}
		}
	}
}
