package data

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HeaderMode says whether a CSV file starts with a header row.
type HeaderMode int

const (
	// HeaderAuto, the zero value, detects a header: the first row is one
	// when CSVOptions.Label or Drop names a column by a non-integer name,
	// or when one of the row's feature fields is non-empty and not a
	// number. A header made only of numbers is not detected; use HeaderYes.
	HeaderAuto HeaderMode = iota
	// HeaderYes treats the first row as column names.
	HeaderYes
	// HeaderNo treats every row as data.
	HeaderNo
)

// String returns "auto", "yes" or "no".
func (m HeaderMode) String() string {
	switch m {
	case HeaderAuto:
		return "auto"
	case HeaderYes:
		return "yes"
	case HeaderNo:
		return "no"
	}
	return "HeaderMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseHeaderMode parses "auto" (or ""), "yes" or "no", as a config file
// or flag spells them.
func ParseHeaderMode(s string) (HeaderMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return HeaderAuto, nil
	case "yes", "true":
		return HeaderYes, nil
	case "no", "false":
		return HeaderNo, nil
	}
	return 0, fmt.Errorf("data: header %q: want auto, yes or no", s)
}

// CSVOptions says how to read a CSV file. The zero value reads a
// comma-separated file, detects a header and takes the last column as the
// label.
type CSVOptions struct {
	// Header says whether the first row names the columns; the zero
	// value detects it (see HeaderAuto).
	Header HeaderMode
	// Label selects the label column: a header name, or a 1-based column
	// number where a negative number counts from the end (-1 is the last
	// column), so it reads like the column numbers in error messages. A
	// header name takes precedence over the same text read as a number.
	// Empty means the last column.
	Label string
	// Drop lists feature columns to ignore (an ID column, say), each
	// spelt like Label. Nil keeps every column.
	Drop []string
	// Comma is the field separator; zero means ','.
	Comma rune
	// Unlabeled reads a file without a label column — features to predict
	// on: every column not dropped is a feature. The dataset then has one
	// class named "" and every label is 0.
	Unlabeled bool
}

// LoadCSV reads the CSV file at path (gunzipped transparently when it is
// gzip data, whatever its extension); see ReadCSV.
func LoadCSV(path string, opt CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, path, opt)
}

// ReadCSV reads a classification dataset from CSV text: numeric feature
// columns and one label column holding class names. Gzip data is
// decompressed transparently and a leading UTF-8 byte order mark is
// skipped; fields are trimmed of surrounding spaces. Integer labels make
// classes in numeric order ("2" before "10", "01" the same class as "1");
// any other labels are strings in lexical order.
//
// Problems with the content return a *ParseError (matching ErrBadData)
// naming name, the line as an editor shows it and the column by header
// name or 1-based number: an empty file, a header without data, a ragged
// row, a feature that is empty, not a number, NaN, infinite or beyond
// float32 range, an empty label, a label column that is missing or the
// only column.
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Dataset, error) {
	comma := opt.Comma
	if comma == 0 {
		comma = ','
	}
	if !validComma(comma) {
		return nil, fmt.Errorf("data: %s: invalid separator %q", name, comma)
	}
	if opt.Header < HeaderAuto || opt.Header > HeaderNo {
		return nil, fmt.Errorf("data: %s: invalid header mode %d", name, int(opt.Header))
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(2); isGzip(head) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, readError(name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	head, _ := br.Peek(3)
	switch {
	case bytes.Equal(head, []byte{0xef, 0xbb, 0xbf}):
		_, _ = br.Discard(3)
	case len(head) >= 2 && head[0] == 0 && head[1] == 0:
		return nil, &ParseError{Name: name, Err: errors.New("binary data, not CSV (for IDX files load their directory)")}
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	p := &csvParser{name: name, cr: cr, classID: map[string]int32{}}
	return p.parse(opt)
}

type csvParser struct {
	name string
	cr   *csv.Reader

	header    []string // header names; nil without a header
	ncol      int      // fields per row, from the first row
	firstLine int      // line of the first row
	labelCol  int      // 0-based
	featCols  []int    // 0-based columns kept as features

	x       []float32
	y       []int32
	classID map[string]int32 // raw label → provisional id
	raw     []string         // provisional id → raw label
}

func (p *csvParser) parse(opt CSVOptions) (*Dataset, error) {
	first, err := p.cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Name: p.name, Err: errors.New("empty file: no rows")}
	}
	if err != nil {
		return nil, readError(p.name, err)
	}
	p.firstLine, _ = p.cr.FieldPos(0)
	p.ncol = len(first)
	names := make([]string, len(first))
	for i, f := range first {
		names[i] = strings.TrimSpace(f)
	}

	header, err := p.detectHeader(opt, names)
	if err != nil {
		return nil, err
	}
	if header {
		p.header = names
	}
	if err := p.resolveColumns(opt, names); err != nil {
		return nil, err
	}
	if !header {
		if err := p.row(first); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := p.cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(p.name, err)
		}
		if err := p.row(rec); err != nil {
			return nil, err
		}
	}
	if len(p.y) == 0 {
		return nil, &ParseError{Name: p.name, Line: p.firstLine, Err: errors.New("header only: no data rows")}
	}

	classes, remap := classNames(p.raw)
	if p.labelCol < 0 {
		classes, remap = []string{""}, []int32{0}
	}
	for i, id := range p.y {
		p.y[i] = remap[id]
	}
	d := &Dataset{
		Name:    p.name,
		X:       slices.Clip(p.x),
		Y:       slices.Clip(p.y),
		N:       len(p.y),
		D:       len(p.featCols),
		Classes: classes,
	}
	if header {
		d.Features = make([]string, len(p.featCols))
		for k, j := range p.featCols {
			d.Features[k] = names[j]
		}
	}
	return d, nil
}

// detectHeader decides whether the first row (names) is a header.
func (p *csvParser) detectHeader(opt CSVOptions, names []string) (bool, error) {
	switch opt.Header {
	case HeaderYes:
		return true, nil
	case HeaderNo:
		return false, nil
	}
	for _, s := range append([]string{opt.Label}, opt.Drop...) {
		if s != "" && !isInt(s) {
			return true, nil // a column given by name needs a header
		}
	}
	// Only column numbers: resolve them without a header and look for a
	// non-numeric feature field.
	label := -1
	if !opt.Unlabeled {
		var err error
		if label, err = p.column(opt.Label, "label", names, false); err != nil {
			return false, err
		}
	}
	drop := map[int]bool{}
	for _, s := range opt.Drop {
		j, err := p.column(s, "dropped", names, false)
		if err != nil {
			return false, err
		}
		drop[j] = true
	}
	for j, f := range names {
		if j == label || drop[j] || f == "" {
			continue
		}
		if _, err := strconv.ParseFloat(f, 32); err != nil && !errors.Is(err, strconv.ErrRange) {
			return true, nil
		}
	}
	return false, nil
}

// resolveColumns sets labelCol and featCols.
func (p *csvParser) resolveColumns(opt CSVOptions, names []string) error {
	header := p.header != nil
	label := -1
	if !opt.Unlabeled {
		var err error
		if label, err = p.column(opt.Label, "label", names, header); err != nil {
			return err
		}
	}
	p.labelCol = label
	drop := make([]bool, p.ncol)
	for _, s := range opt.Drop {
		j, err := p.column(s, "dropped", names, header)
		if err != nil {
			return err
		}
		if j == label {
			return p.headerError(fmt.Errorf("dropped column %q is the label column", s))
		}
		drop[j] = true
	}
	for j := range p.ncol {
		if j != label && !drop[j] {
			p.featCols = append(p.featCols, j)
		}
	}
	if len(p.featCols) == 0 {
		if p.ncol == 1 {
			return p.headerError(errors.New("the label column is the only column: no features"))
		}
		return p.headerError(errors.New("every feature column is dropped: no features"))
	}
	return nil
}

// column resolves a column spec (a header name or a 1-based, possibly
// negative, number; empty means the last column) to a 0-based index.
func (p *csvParser) column(spec, role string, names []string, header bool) (int, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return p.ncol - 1, nil
	}
	if header {
		at := -1
		for j, n := range names {
			if n != spec {
				continue
			}
			if at >= 0 {
				return 0, p.headerError(fmt.Errorf("%s column %q: the header names columns %d and %d so", role, spec, at+1, j+1))
			}
			at = j
		}
		if at >= 0 {
			return at, nil
		}
	}
	if isInt(spec) {
		n, err := strconv.Atoi(spec)
		switch {
		case err != nil || n == 0:
			return 0, p.headerError(fmt.Errorf("%s column %s: columns are numbered from 1 (negative from the end)", role, spec))
		case n > p.ncol || -n > p.ncol:
			return 0, p.headerError(fmt.Errorf("%s column %s is out of range: the file has %d columns", role, spec, p.ncol))
		case n > 0:
			return n - 1, nil
		default:
			return p.ncol + n, nil
		}
	}
	if !header {
		return 0, p.headerError(fmt.Errorf("%s column %q is given by name but the file has no header", role, spec))
	}
	return 0, p.headerError(fmt.Errorf("%s column %q is not in the header; columns are %s", role, spec, quoteList(names, 20)))
}

func (p *csvParser) headerError(err error) error {
	return &ParseError{Name: p.name, Line: p.firstLine, Err: err}
}

// row parses one data record.
func (p *csvParser) row(rec []string) error {
	if len(rec) != p.ncol {
		line, _ := p.cr.FieldPos(0)
		e := &ParseError{Name: p.name, Line: line}
		if len(rec) < p.ncol {
			e.Column = len(rec) + 1
			e.Header = p.headerName(len(rec))
			e.Err = fmt.Errorf("missing: the line has %d fields, line %d has %d", len(rec), p.firstLine, p.ncol)
		} else {
			e.Column = p.ncol + 1
			e.Err = fmt.Errorf("unexpected extra field: the line has %d fields, line %d has %d", len(rec), p.firstLine, p.ncol)
		}
		return e
	}
	for _, j := range p.featCols {
		s := strings.TrimSpace(rec[j])
		v, err := strconv.ParseFloat(s, 32)
		if err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			p.x = append(p.x, float32(v))
			continue
		}
		switch {
		case s == "":
			err = errors.New("empty field, want a number")
		case errors.Is(err, strconv.ErrRange):
			err = fmt.Errorf("%q is beyond the float32 range", s)
		case err != nil:
			err = fmt.Errorf("%q is not a number", s)
		default:
			err = fmt.Errorf("%q is not a finite number", s)
		}
		return p.fieldError(j, err)
	}
	if p.labelCol < 0 {
		p.y = append(p.y, 0)
		return nil
	}
	s := strings.TrimSpace(rec[p.labelCol])
	if s == "" {
		return p.fieldError(p.labelCol, errors.New("empty label"))
	}
	id, ok := p.classID[s]
	if !ok {
		id = int32(len(p.raw))
		s = strings.Clone(s) // do not pin the whole record's string
		p.raw = append(p.raw, s)
		p.classID[s] = id
	}
	p.y = append(p.y, id)
	return nil
}

func (p *csvParser) fieldError(j int, err error) error {
	line, _ := p.cr.FieldPos(j)
	return &ParseError{Name: p.name, Line: line, Column: j + 1, Header: p.headerName(j), Err: err}
}

func (p *csvParser) headerName(j int) string {
	if j < len(p.header) {
		return p.header[j]
	}
	return ""
}

// classNames orders the distinct raw labels into classes and returns the
// class names and, for each raw label's provisional id, its class index.
func classNames(raw []string) (classes []string, remap []int32) {
	remap = make([]int32, len(raw))
	ints := make([]int64, len(raw))
	allInt := true
	for i, s := range raw {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			allInt = false
			break
		}
		ints[i] = v
	}
	if allInt {
		vals := slices.Clone(ints)
		slices.Sort(vals)
		vals = slices.Compact(vals)
		classes = make([]string, len(vals))
		for k, v := range vals {
			classes[k] = strconv.FormatInt(v, 10)
		}
		for i, v := range ints {
			k, _ := slices.BinarySearch(vals, v)
			remap[i] = int32(k)
		}
		return classes, remap
	}
	classes = slices.Clone(raw)
	slices.Sort(classes)
	for i, s := range raw {
		k, _ := slices.BinarySearch(classes, s)
		remap[i] = int32(k)
	}
	return classes, remap
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return err == nil
}

func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }

func validComma(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// readError turns a read failure into an error naming the file: a CSV
// syntax error or corrupt gzip stream is bad data, anything else is I/O.
func readError(name string, err error) error {
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		return &ParseError{Name: name, Line: ce.Line, Err: fmt.Errorf("byte %d: %w", ce.Column, ce.Err)}
	}
	var fe flate.CorruptInputError
	if errors.As(err, &fe) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) {
		return &ParseError{Name: name, Err: fmt.Errorf("corrupt or truncated gzip data: %w", err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &ParseError{Name: name, Err: fmt.Errorf("truncated data: %w", err)}
	}
	return fmt.Errorf("data: %s: %w", name, err)
}

// quoteList renders up to max names as "a", "b", … for an error message.
func quoteList(names []string, max int) string {
	var b strings.Builder
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&b, ", … (%d more)", len(names)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}
