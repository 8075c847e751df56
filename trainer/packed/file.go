package packed

import (
	"encoding"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxFileSize caps how many bytes Decode, ReadFile, ReadBundleFile and
// Load read; a longer input fails with ErrTooLarge.
const MaxFileSize = 1 << 30

// Classifier is what a packed file holds: a *Model or a *Bundle.
type Classifier interface {
	// Inputs returns the number of raw input features.
	Inputs() int
	// Labels returns the class labels, one per output probability.
	Labels() []string
	// Proba writes class probabilities for n raw rows of x into dst.
	Proba(dst, x []float32, n int) error
	// MarshalBinary encodes the classifier in the packed format.
	MarshalBinary() ([]byte, error)
}

// Compile-time checks.
var (
	_ Classifier                 = (*Model)(nil)
	_ Classifier                 = (*Bundle)(nil)
	_ encoding.BinaryUnmarshaler = (*Model)(nil)
	_ encoding.BinaryUnmarshaler = (*Bundle)(nil)
	_ encoding.BinaryAppender    = (*Model)(nil)
	_ encoding.BinaryAppender    = (*Bundle)(nil)
)

// Parse decodes a packed file of either kind, with the guarantees and
// errors of Unmarshal.
func Parse(b []byte) (Classifier, error) { return parse(b, MaxDecodedBytes) }

// parse is Parse with a decoded-memory budget.
func parse(b []byte, budget int64) (Classifier, error) {
	_, kind, err := open(b, budget)
	if err != nil {
		return nil, err
	}
	if kind == KindBundle {
		bd, err := unmarshalBundle(b, budget)
		if err != nil {
			return nil, err
		}
		return bd, nil
	}
	m, err := unmarshalModel(b, budget)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Decode reads a packed file of either kind from r, reading at most
// maxSize bytes (MaxFileSize when maxSize ≤ 0): a longer input fails with
// ErrTooLarge. I/O errors are returned wrapped.
func Decode(r io.Reader, maxSize int64) (Classifier, error) {
	b, err := readAll(r, maxSize)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

func readAll(r io.Reader, maxSize int64) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = MaxFileSize
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("packed: read: %w", err)
	}
	if int64(len(b)) > maxSize {
		return nil, fmt.Errorf("%w: input longer than %d bytes", ErrTooLarge, maxSize)
	}
	return b, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("packed: %w", err)
	}
	defer f.Close()
	b, err := readAll(f, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ReadFile reads a single model from path. Decoding errors are those of
// Unmarshal, prefixed with the path.
func ReadFile(path string) (*Model, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadBundleFile reads a bundle from path.
func ReadBundleFile(path string) (*Bundle, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	bd, err := UnmarshalBundle(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bd, nil
}

// Load reads a packed file of either kind from path, as consort predict
// does.
func Load(path string) (Classifier, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WriteFile encodes v (a *Model or *Bundle) and writes it to path
// atomically: to a temporary file in the same directory, synced, then
// renamed over path. It returns the encoded length, the size_bytes of v.
func WriteFile(path string, v encoding.BinaryMarshaler) (int, error) {
	b, err := v.MarshalBinary()
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("packed: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("packed: write %s: %w", path, err)
	}
	return len(b), nil
}
