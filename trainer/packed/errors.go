package packed

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for bad input wraps one
// of these, so callers branch with errors.Is.
var (
	// ErrInvalid reports a model, bundle, scheme or weight matrix that
	// cannot be packed: a bit-width outside {2,3,4,5,6,8,16,32}, shapes that
	// do not chain, a NaN or infinite weight, duplicate class labels…
	ErrInvalid = errors.New("packed: invalid model")

	// ErrCorrupt reports bytes that are not a well-formed packed file: bad
	// magic, checksum mismatch, truncation, a field out of range. Retrying
	// will not help. ErrChecksum and ErrTruncated match it too.
	ErrCorrupt = errors.New("packed: corrupt file")

	// ErrChecksum reports a CRC-32C mismatch: the file was damaged after it
	// was written. It matches ErrCorrupt.
	ErrChecksum = fmt.Errorf("%w: checksum mismatch", ErrCorrupt)

	// ErrTruncated reports a file that ends inside a section. It matches
	// ErrCorrupt.
	ErrTruncated = fmt.Errorf("%w: truncated", ErrCorrupt)

	// ErrVersion reports a well-formed file of a format version this build
	// does not read, typically one written by a newer consort.
	ErrVersion = errors.New("packed: unsupported format version")

	// ErrKind reports a file of the other kind: a bundle where a single
	// model was asked for, or the reverse.
	ErrKind = errors.New("packed: wrong kind of file")

	// ErrTooLarge reports a file, or a decoded model, over the size limits
	// (MaxFileSize, MaxDecodedBytes and the shape limits).
	ErrTooLarge = errors.New("packed: too large")
)
