package data

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed builtin/digits.csv.gz builtin/iris.csv
var builtinFiles embed.FS

// builtins maps each built-in dataset to its embedded file and how to
// read it.
var builtins = map[string]struct {
	file string
	opt  CSVOptions
}{
	// UCI optical recognition of handwritten digits, the 8×8 version
	// scikit-learn ships: 1797 samples, 64 pixels in 0..16, 10 classes.
	"digits": {"builtin/digits.csv.gz", CSVOptions{Header: HeaderNo}},
	// Fisher's iris: 150 samples, 4 measurements, 3 species.
	"iris": {"builtin/iris.csv", CSVOptions{Header: HeaderYes, Label: "class"}},
}

// BuiltinNames lists the built-in datasets, sorted: "digits", "iris".
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Builtin returns a fresh copy of a dataset embedded in the binary:
// "digits" (1797×64, 10 classes) or "iris" (150×4, 3 classes). An unknown
// name returns an error matching ErrUnknownBuiltin that lists the names.
func Builtin(name string) (*Dataset, error) {
	b, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknownBuiltin, name, strings.Join(BuiltinNames(), ", "))
	}
	f, err := builtinFiles.Open(b.file)
	if err != nil {
		return nil, fmt.Errorf("data: built-in %s: %w", name, err)
	}
	defer f.Close()
	return ReadCSV(f, name, b.opt)
}
