package configs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// ErrConfig marks an invalid configuration: a bad value, an unknown key, a
// file that cannot be read or parsed.
var ErrConfig = errors.New("invalid configuration")

// EnvPrefix prefixes every environment variable consort reads:
// CONSORT_EPOCHS sets "epochs", CONSORT_BUDGET_TRIALS sets "budget.trials".
const EnvPrefix = "CONSORT"

// Validator is implemented by configuration structs.
type Validator interface {
	Validate() error
}

// NewViper returns a viper instance for one process with every default
// set, environment variables under EnvPrefix, the flags bound (a flag
// "lr-schedule" sets key "lr_schedule"; flags whose key has no default are
// not configuration and are left alone) and file read when not empty.
func NewViper(file string, flags *pflag.FlagSet, defaults map[string]any) (*viper.Viper, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	if flags != nil {
		var err error
		flags.VisitAll(func(f *pflag.Flag) {
			key := strings.ReplaceAll(f.Name, "-", "_")
			if _, ok := defaults[key]; !ok || err != nil {
				return
			}
			err = v.BindPFlag(key, f)
		})
		if err != nil {
			return nil, fmt.Errorf("configs: %w", err)
		}
	}
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("%w: config file: %w", ErrConfig, err)
		}
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("%w: config file %s: %w", ErrConfig, file, err)
		}
	}
	return v, nil
}

// Decode unmarshals v into dst (a pointer to a struct with json tags),
// rejecting keys dst does not know, and validates it. Every error wraps
// ErrConfig.
func Decode(v *viper.Viper, dst Validator) error {
	err := v.UnmarshalExact(dst, func(c *mapstructure.DecoderConfig) {
		c.TagName = "json"
		c.Squash = true
		c.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			splitCommas,
			wholeNumbers,
		)
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := dst.Validate(); err != nil {
		return fmt.Errorf("%w:\n%w", ErrConfig, err)
	}
	return nil
}

// splitCommas lets a string such as "64,32" (from a flag or an environment
// variable) fill a slice; an empty string is an empty slice.
func splitCommas(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t.Kind() != reflect.Slice {
		return data, nil
	}
	s := strings.Trim(strings.TrimSpace(data.(string)), "[]")
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, nil
}

// wholeNumbers stops a number from filling an integer field it does not
// fit: a fraction (folds: 2.7 would be 2), a negative number for an
// unsigned one (seed: -1 would wrap to 2⁶⁴−1) or one out of its range.
func wholeNumbers(_, t reflect.Type, data any) (any, error) {
	signed := false
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		signed = true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return data, nil
	}
	zero := reflect.Zero(t)
	allowed := func() error {
		if signed {
			return fmt.Errorf("%v is not allowed (allowed: whole numbers)", data)
		}
		return fmt.Errorf("%v is not allowed (allowed: whole numbers 0 to %d)", data, uint64(math.MaxUint64)>>(64-t.Bits()))
	}
	switch v := reflect.ValueOf(data); v.Kind() {
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		switch {
		case x != math.Trunc(x) || math.IsInf(x, 0):
			return nil, allowed()
		case signed && (x < -0x1p63 || x >= 0x1p63 || zero.OverflowInt(int64(x))):
			return nil, allowed()
		case signed:
			return int64(x), nil
		case x < 0 || x >= 0x1p64 || zero.OverflowUint(uint64(x)):
			return nil, allowed()
		default:
			return uint64(x), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i := v.Int(); (signed && zero.OverflowInt(i)) || (!signed && (i < 0 || zero.OverflowUint(uint64(i)))) {
			return nil, allowed()
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := v.Uint(); (signed && (u > math.MaxInt64 || zero.OverflowInt(int64(u)))) || (!signed && zero.OverflowUint(u)) {
			return nil, allowed()
		}
	}
	return data, nil
}

// defaultsOf flattens a struct's json-tagged fields into viper defaults.
func defaultsOf(v any) map[string]any {
	out := map[string]any{}
	var walk func(rv reflect.Value)
	walk = func(rv reflect.Value) {
		rt := rv.Type()
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(rv.Field(i))
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			out[name] = rv.Field(i).Interface()
		}
	}
	walk(reflect.ValueOf(v))
	return out
}
