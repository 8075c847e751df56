package data

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors callers branch on. Every problem with the content of a data file
// (CSV or IDX) matches ErrBadData under errors.Is and carries its position
// in a *ParseError; I/O failures such as a missing file do not.
var (
	// ErrBadData marks malformed input: an empty or ragged CSV, a
	// non-numeric or non-finite feature, a missing or empty label, a
	// truncated or inconsistent IDX file. Retrying will not help.
	ErrBadData = errors.New("data: bad data")
	// ErrUnknownBuiltin is returned by Builtin for a name it does not know.
	ErrUnknownBuiltin = errors.New("data: unknown built-in dataset")
	// ErrOutsideRoot is returned by Load when LoadOptions.DataRoot is set
	// and the path resolves outside it.
	ErrOutsideRoot = errors.New("data: path outside the data root")
	// ErrTooFewSamples is returned by the splitters when a class has too
	// few samples for the requested split; the error is a *ClassSizeError.
	ErrTooFewSamples = errors.New("data: too few samples in a class")
)

// ParseError locates a problem in a data file. It matches ErrBadData
// under errors.Is, as well as its Err.
type ParseError struct {
	// Name is the file (or dataset) name as the caller gave it.
	Name string
	// Line is the 1-based line of a text file, as an editor shows it;
	// zero when the problem is not on one line (an empty file, an IDX
	// header).
	Line int
	// Column is the 1-based field index within the line; zero when the
	// problem concerns the whole line or file.
	Column int
	// Header is the column's name from the CSV header; empty when the
	// file has no header (the message then names Column by number).
	Header string
	// Err describes the problem.
	Err error
}

// Error formats as `data: iris.csv line 12: column "sepal_width": "abc" is
// not a number`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("data:")
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(e.Name)
	}
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	switch {
	case e.Header != "":
		fmt.Fprintf(&b, ": column %q", e.Header)
	case e.Column > 0:
		fmt.Fprintf(&b, ": column %d", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap exposes both ErrBadData and the specific cause.
func (e *ParseError) Unwrap() []error { return []error{ErrBadData, e.Err} }

// ClassSizeError reports a class too small for a split. It matches
// ErrTooFewSamples under errors.Is.
type ClassSizeError struct {
	// Class is the class index (an index into Dataset.Classes).
	Class int
	// Count is how many samples the class has.
	Count int
	// Need is the minimum the split requires (the number of folds).
	Need int
}

// Error formats as "data: class 3 has 2 samples, fewer than the 5 folds".
func (e *ClassSizeError) Error() string {
	return fmt.Sprintf("data: class %d has %d samples, fewer than the %d folds", e.Class, e.Count, e.Need)
}

// Is reports whether target is ErrTooFewSamples.
func (e *ClassSizeError) Is(target error) bool { return target == ErrTooFewSamples }
