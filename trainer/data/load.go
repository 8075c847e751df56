package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadOptions says how Load reads a dataset. The zero value reads CSV
// files with the default CSVOptions and allows any path.
type LoadOptions struct {
	// CSV applies when the spec is a CSV file (the label column, header,
	// separator, dropped columns); it is ignored for built-ins and IDX
	// directories.
	CSV CSVOptions
	// DataRoot, when set, confines Load to one directory tree: a relative
	// spec is taken relative to DataRoot, and any path must resolve,
	// after filepath.Clean and filepath.EvalSymlinks, inside it, or Load
	// returns an error matching ErrOutsideRoot. Files are then opened
	// through an os.Root, so a symbolic link swapped in afterwards cannot
	// escape either. Empty allows any path, relative to the working
	// directory. Workers set it: a path that arrives in a message must
	// not reach arbitrary files.
	DataRoot string
}

// Load reads the dataset spec names: a built-in name (see BuiltinNames),
// a CSV file, or an IDX directory. For an IDX directory train comes from
// the train-* files and test from the t10k-* files when they exist (nil
// otherwise), the two sharing their class list; for a built-in or CSV test
// is nil and the caller carves its own test split (see TrainTestSplit).
// A built-in name shadows a file of the same name; write ./digits for the
// file.
func Load(spec string, opt LoadOptions) (train, test *Dataset, err error) {
	if spec == "" {
		return nil, nil, errors.New("data: no dataset given: want a built-in name (" + strings.Join(BuiltinNames(), ", ") + "), a CSV file or an IDX directory")
	}
	if _, ok := builtins[spec]; ok {
		d, err := Builtin(spec)
		return d, nil, err
	}

	var files fileOpener = hostFiles{}
	path := spec
	if opt.DataRoot != "" {
		root, rel, err := confine(opt.DataRoot, spec)
		if err != nil {
			return nil, nil, err
		}
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, nil, fmt.Errorf("data: data root: %w", err)
		}
		defer r.Close()
		files, path = r, rel
	}

	st, err := files.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", spec, unwrapPath(err))
	}
	if !st.IsDir() {
		f, err := files.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: %w", spec, unwrapPath(err))
		}
		defer f.Close()
		d, err := ReadCSV(f, spec, opt.CSV)
		return d, nil, err
	}

	train, err = loadIDXSplit(files, path, spec, "train")
	if errors.Is(err, errNoSplit) {
		return nil, nil, fmt.Errorf("data: %s: a directory without train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]: %w", spec, os.ErrNotExist)
	}
	if err != nil {
		return nil, nil, err
	}
	test, err = loadIDXSplit(files, path, spec, "t10k")
	if errors.Is(err, errNoSplit) {
		return train, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if test.D != train.D {
		return nil, nil, fmt.Errorf("data: %s: t10k images have %d features, train images %d: %w", spec, test.D, train.D, ErrBadData)
	}
	if len(test.Classes) != len(train.Classes) {
		train.Classes = numberedClasses(max(len(test.Classes), len(train.Classes)))
	}
	test.Classes = train.Classes
	return train, test, nil
}

// confine resolves spec under root and returns the resolved root and
// spec's path relative to it.
func confine(root, spec string) (realRoot, rel string, err error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", "", fmt.Errorf("data: data root: %w", err)
	}
	realRoot, err = filepath.EvalSymlinks(filepath.Clean(absRoot))
	if err != nil {
		return "", "", fmt.Errorf("data: data root: %w", unwrapPath(err))
	}
	p := spec
	if !filepath.IsAbs(p) {
		p = filepath.Join(realRoot, p)
	}
	p = filepath.Clean(p)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if !within(realRoot, p) && !within(absRoot, p) {
			// Do not reveal what exists outside the root.
			return "", "", fmt.Errorf("%w: %s is not under %s", ErrOutsideRoot, spec, root)
		}
		return "", "", fmt.Errorf("data: %s: %w", spec, unwrapPath(err))
	}
	if !within(realRoot, real) {
		return "", "", fmt.Errorf("%w: %s resolves to %s, not under %s", ErrOutsideRoot, spec, real, root)
	}
	rel, err = filepath.Rel(realRoot, real)
	if err != nil {
		return "", "", fmt.Errorf("%w: %s: %w", ErrOutsideRoot, spec, err)
	}
	return realRoot, rel, nil
}

// within reports whether path p lies in directory dir (or is dir), both
// clean and absolute.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil || filepath.IsAbs(rel) {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// unwrapPath drops an *fs.PathError's path, which Load's messages already
// name as the user spelt it, keeping the cause (fs.ErrNotExist, …).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var _ fileOpener = (*os.Root)(nil)
