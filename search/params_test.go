package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func sweepSpace(tb testing.TB) *Space {
	tb.Helper()
	s, err := parseYAML(tb, sweepYAML)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return s
}

// validParams is an assignment of sweepSpace.
func validParams() Params {
	return Params{
		"lr": 0.01, "batch": 64, "epochs": 25, "l2": 0.001, "optimizer": "adam",
		"activation": "relu", "layers": 2, "width_1": 128, "width_2": 32,
		"sparsity": 0.5, "prune": "structured", "schedule": "agp",
		"bits": 8, "qat": true, "per_channel": false,
	}
}

func TestCheck(t *testing.T) {
	s := sweepSpace(t)
	with := func(kv ...any) Params {
		p := validParams()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(p, kv[i].(string))
			} else {
				p[kv[i].(string)] = kv[i+1]
			}
		}
		return p
	}
	tests := []struct {
		name string
		p    Params
		want []string // nil: valid
	}{
		{"valid", validParams(), nil},
		{"json numbers", with("batch", 64.0, "epochs", 35.0, "layers", 2.0, "width_1", 16.0, "bits", 8.0), nil},
		{"json.Number", with("lr", json.Number("0.02"), "epochs", json.Number("5")), nil},
		{"inactive qat absent", with("bits", 32, "qat", nil, "per_channel", nil), nil},
		{"one layer", with("layers", 1, "width_2", nil), nil},
		{"no sparsity no prune", with("sparsity", 0.0, "prune", nil), nil},
		{"unknown", with("dropout", 0.1, "width", 3, "a\nb", 1),
			[]string{`search: params."a\nb": unknown parameter`, "search: params.dropout: unknown parameter", "search: params.width: unknown parameter"}},
		{"missing", with("lr", nil), []string{"search: params.lr: missing"}},
		{"inactive present", with("bits", 32, "per_channel", nil),
			[]string{"search: params.qat: set but inactive (requires bits lt 32)"}},
		{"inactive layer", with("layers", 1),
			[]string{"search: params.width_2: set but inactive (requires layers ge 2)"}},
		{"missing layer", with("layers", 3), []string{"search: params.width_3: missing"}},
		{"float out of range", with("lr", 0.5), []string{"search: params.lr: 0.5 outside [0.0001, 0.3]"}},
		{"int not integral", with("epochs", 25.5), []string{"search: params.epochs: 25.5 not an integer"}},
		{"int off step", with("epochs", 20), []string{"search: params.epochs: 20 not on the grid 5, 5+10, …"}},
		{"int out of range", with("width_1", 512), []string{"search: params.width_1: 512 outside [16, 256]"}},
		{"categorical value", with("bits", 16), []string{"search: params.bits: 16 not in {4, 8, 32}"}},
		{"categorical type", with("optimizer", 1), []string{`search: params.optimizer: 1 not in {"sgd", "adam"}`}},
		{"wrong type", with("lr", "0.01"), []string{`search: params.lr: got "0.01", want a number`}},
		{"nested", with("lr", map[string]any{"a": 1}), []string{"search: params.lr: got a map[string]interface {}, want a number"}},
		{"null", with("qat", nil, "lr", nil, "l2", []any{}),
			[]string{"search: params.l2: got a []interface {}, want a number", "search: params.lr: missing", "search: params.qat: missing"}},
		{"nan", with("lr", math.NaN()), []string{"search: params.lr: NaN not finite"}},
		{"inf", with("epochs", math.Inf(1)), []string{"search: params.epochs: +Inf not finite"}},
		{"huge", with("epochs", 1e300), []string{"search: params.epochs: 1e+300 outside [5, 45]"}},
		// An invalid parent leaves its children undecided: no second error.
		{"invalid parent", with("bits", "eight"), []string{`search: params.bits: "eight" not in {4, 8, 32}`}},
		{"bool for number", with("sparsity", true), []string{"search: params.sparsity: got true, want a number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Check(tc.p)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Check = %v, want ErrInvalidParams", err)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCheckZeroSpace(t *testing.T) {
	var s Space
	if err := s.Check(nil); err != nil {
		t.Errorf("empty space, empty params: %v", err)
	}
	if err := s.Check(Params{"x": 1}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("empty space, one param: %v", err)
	}
}

func TestParamsJSONRoundTrip(t *testing.T) {
	s := sweepSpace(t)
	for i := range 200 {
		p, err := Random{}.Sample(s, nil, NewRand(7, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(p); err != nil {
			t.Fatalf("sampled params invalid: %v\n%v", err, p)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Params
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if err := s.Check(back); err != nil {
			t.Fatalf("after JSON: %v\n%s", err, b)
		}
		if s.key(back) != s.key(p) {
			t.Fatalf("key changed through JSON: %s vs %s", s.key(back), s.key(p))
		}
	}
}

func TestParamsAccessors(t *testing.T) {
	p := Params{"lr": 0.1, "epochs": 10.0, "big": 1e300, "opt": "adam", "qat": true, "n": 3}
	if v, ok := p.Float("lr"); !ok || v != 0.1 {
		t.Errorf("Float(lr) = %v, %v", v, ok)
	}
	if v, ok := p.Float("n"); !ok || v != 3 {
		t.Errorf("Float(n) = %v, %v", v, ok)
	}
	if v, ok := p.Int("epochs"); !ok || v != 10 {
		t.Errorf("Int(epochs) = %v, %v", v, ok)
	}
	for _, k := range []string{"lr", "big", "opt", "missing"} {
		if _, ok := p.Int(k); ok {
			t.Errorf("Int(%s) ok", k)
		}
	}
	if v, ok := p.String("opt"); !ok || v != "adam" {
		t.Errorf("String(opt) = %v, %v", v, ok)
	}
	if v, ok := p.Bool("qat"); !ok || !v {
		t.Errorf("Bool(qat) = %v, %v", v, ok)
	}
	if _, ok := p.Bool("opt"); ok {
		t.Error("Bool(opt) ok")
	}
	q := p.Clone()
	q["lr"] = 1.0
	if p["lr"] != 0.1 {
		t.Error("Clone shares the map")
	}
}

func TestIntList(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		want    []int
		wantErr bool
	}{
		{"per layer", Params{"layers": 3, "width_1": 64, "width_2": 32.0, "width_3": 16}, []int{64, 32, 16}, false},
		{"stops at gap", Params{"width_1": 64, "width_3": 16}, []int{64}, false},
		{"none", Params{"layers": 0}, nil, false},
		{"string", Params{"width": "128, 64"}, []int{128, 64}, false},
		{"empty string", Params{"width": ""}, nil, false},
		{"bad string", Params{"width": "128,x"}, nil, true},
		{"zero width", Params{"width": "0"}, nil, true},
		{"bad type", Params{"width": 3}, nil, true},
		{"bad layer", Params{"width_1": "a"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.IntList("width")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidParams) {
				t.Errorf("err %v does not wrap ErrInvalidParams", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckCapsUnknownKeys(t *testing.T) {
	s := sweepSpace(t)
	p := validParams()
	for i := range 25 {
		p[fmt.Sprintf("k%02d", i)] = i
	}
	lines := strings.Split(s.Check(p).Error(), "\n")
	if len(lines) != 21 || lines[20] != "search: params: 5 more unknown parameters" || lines[0] != "search: params.k00: unknown parameter" {
		t.Errorf("got %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
