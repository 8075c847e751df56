package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// irisLike is a small iris-shaped CSV; line n of the file is row n-1.
const irisLike = `sepal_length,sepal_width,petal_length,petal_width,class
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica
`

func TestReadCSVBadData(t *testing.T) {
	gz := gzipBytes(t, []byte(irisLike))
	corrupt := slices.Clone(gz)
	corrupt[len(corrupt)-6] ^= 0xff // in the CRC-32 trailer

	tests := []struct {
		name   string
		in     string
		opt    CSVOptions
		line   int // want ParseError.Line
		column int // want ParseError.Column
		want   []string
	}{
		{name: "empty file", in: "", want: []string{"x.csv: empty file"}},
		{name: "blank lines only", in: "\n\n\r\n", want: []string{"empty file"}},
		{name: "header only", in: "a,b,class\n", line: 1, want: []string{"x.csv line 1: header only"}},
		{name: "header only, told", in: "1,2,3\n", opt: CSVOptions{Header: HeaderYes}, line: 1, want: []string{"line 1: header only"}},
		{
			name: "ragged short row", in: "a,b,class\n1,2,x\n1,2\n", line: 3, column: 3,
			want: []string{`x.csv line 3: column "class": missing: the line has 2 fields, line 1 has 3`},
		},
		{
			name: "ragged long row without header", in: "1,2,x\n1,2,3,x\n", line: 2, column: 4,
			want: []string{`x.csv line 2: column 4: unexpected extra field: the line has 4 fields, line 1 has 3`},
		},
		{
			name: "non-numeric feature", in: strings.Repeat("\n", 10) + "a,sepal_width,class\n1,2,x\n1,abc,y\n", line: 13, column: 2,
			want: []string{`data: x.csv line 13: column "sepal_width": "abc" is not a number`},
		},
		{
			name: "non-numeric feature without header", in: "1,2,a\n3,x,b\n", opt: CSVOptions{Header: HeaderNo}, line: 2, column: 2,
			want: []string{`x.csv line 2: column 2: "x" is not a number`},
		},
		{name: "NaN", in: "a,b,c\n1,NaN,x\n", line: 2, column: 2, want: []string{`column "b": "NaN" is not a finite number`}},
		{name: "+Inf", in: "a,b,c\n1,2,x\n+Inf,2,y\n", line: 3, column: 1, want: []string{`line 3: column "a": "+Inf" is not a finite number`}},
		{name: "-infinity", in: "1,2,x\n1,-infinity,y\n", line: 2, column: 2, want: []string{`line 2: column 2: "-infinity" is not a finite number`}},
		{name: "float32 overflow", in: "a,b,c\n1,2,x\n1,1e39,y\n", line: 3, column: 2, want: []string{`line 3: column "b": "1e39" is beyond the float32 range`}},
		{name: "float32 overflow just past max", in: "1,3.4028236e38,x\n", line: 1, column: 2, want: []string{`"3.4028236e38" is beyond the float32 range`}},
		{name: "empty feature", in: "a,b,c\n1,,x\n", line: 2, column: 2, want: []string{`line 2: column "b": empty field, want a number`}},
		{
			name: "missing label column by name", in: irisLike, opt: CSVOptions{Label: "species"}, line: 1,
			want: []string{`x.csv line 1: label column "species" is not in the header; columns are "sepal_length", "sepal_width"`},
		},
		{name: "label index out of range", in: irisLike, opt: CSVOptions{Label: "6"}, line: 1, want: []string{"label column 6 is out of range: the file has 5 columns"}},
		{name: "negative label index out of range", in: irisLike, opt: CSVOptions{Label: "-6"}, line: 1, want: []string{"label column -6 is out of range"}},
		{name: "label index zero", in: irisLike, opt: CSVOptions{Label: "0"}, line: 1, want: []string{"label column 0: columns are numbered from 1"}},
		{name: "label by name without header", in: "1,2,x\n", opt: CSVOptions{Header: HeaderNo, Label: "class"}, line: 1, want: []string{`label column "class" is given by name but the file has no header`}},
		{name: "ambiguous label name", in: "a,y,y\n1,2,3\n", opt: CSVOptions{Label: "y"}, line: 1, want: []string{`label column "y": the header names columns 2 and 3 so`}},
		{name: "empty label", in: "a,b,class\n1,2,x\n1,2, \n", line: 3, column: 3, want: []string{`line 3: column "class": empty label`}},
		{name: "label only column", in: "class\na\nb\n", line: 1, want: []string{"line 1: the label column is the only column: no features"}},
		{name: "drop the label", in: irisLike, opt: CSVOptions{Drop: []string{"class"}}, line: 1, want: []string{`dropped column "class" is the label column`}},
		{name: "drop every feature", in: "a,b,c\n1,2,x\n", opt: CSVOptions{Drop: []string{"a", "2"}}, line: 1, want: []string{"every feature column is dropped"}},
		{name: "drop unknown column", in: irisLike, opt: CSVOptions{Drop: []string{"id"}}, line: 1, want: []string{`dropped column "id" is not in the header`}},
		{name: "bare quote", in: "a,b,c\n1,2\"3,x\n", line: 2, want: []string{`x.csv line 2: byte 4: bare " in non-quoted-field`}},
		{name: "unterminated quote", in: "a,b,c\n1,2,x\n1,\"2,x\n", line: 3, want: []string{"line 3: byte 8", `extraneous or missing " in quoted-field`}},
		{
			name: "line numbers count quoted newlines", in: "a,b,class\n1,2,\"multi\nline\"\n3,oops,c\n", line: 4, column: 2,
			want: []string{`x.csv line 4: column "b": "oops" is not a number`},
		},
		{name: "CRLF", in: "a,b,c\r\n1,2,x\r\n3,y,z\r\n", line: 3, column: 2, want: []string{`line 3: column "b": "y" is not a number`}},
		{name: "binary data", in: "\x00\x00\x08\x03\x00\x00\x00\x01", want: []string{"binary data, not CSV"}},
		{name: "corrupt gzip", in: string(corrupt), want: []string{"x.csv: corrupt or truncated gzip data"}},
		{name: "truncated gzip", in: string(gz[:len(gz)-10]), want: []string{"x.csv: truncated data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(tc.in), "x.csv", tc.opt)
			if err == nil {
				t.Fatalf("no error; got %d×%d dataset", d.N, d.D)
			}
			if !errors.Is(err, ErrBadData) {
				t.Errorf("error %q does not match ErrBadData", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", err)
			}
			if pe.Line != tc.line || pe.Column != tc.column {
				t.Errorf("at line %d column %d, want line %d column %d (%q)", pe.Line, pe.Column, tc.line, tc.column, err)
			}
			if !strings.HasPrefix(err.Error(), "data: x.csv") {
				t.Errorf("error %q does not start with the file name", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReadCSVBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  CSVOptions
		want string
	}{
		{"quote separator", CSVOptions{Comma: '"'}, "invalid separator"},
		{"newline separator", CSVOptions{Comma: '\n'}, "invalid separator"},
		{"invalid rune separator", CSVOptions{Comma: 0xD800}, "invalid separator"},
		{"header mode", CSVOptions{Header: 7}, "invalid header mode 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(irisLike), "x.csv", tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		opt      CSVOptions
		x        []float32
		y        []int32
		classes  []string
		features []string
	}{
		{
			name: "header detected, label last",
			in:   "a,b,class\n1,2,dog\n3,4,cat\n",
			x:    []float32{1, 2, 3, 4}, y: []int32{1, 0}, classes: []string{"cat", "dog"}, features: []string{"a", "b"},
		},
		{
			name: "no header detected",
			in:   "1,2,dog\n3,4,cat\n",
			x:    []float32{1, 2, 3, 4}, y: []int32{1, 0}, classes: []string{"cat", "dog"},
		},
		{
			name: "label by name in the middle",
			in:   "a,species,b\n1,x,2\n3,y,4\n",
			opt:  CSVOptions{Label: "species"},
			x:    []float32{1, 2, 3, 4}, y: []int32{0, 1}, classes: []string{"x", "y"}, features: []string{"a", "b"},
		},
		{
			name: "label by first column number",
			in:   "7,1,2\n8,3,4\n",
			opt:  CSVOptions{Label: "1"},
			x:    []float32{1, 2, 3, 4}, y: []int32{0, 1}, classes: []string{"7", "8"},
		},
		{
			name: "label counted from the end",
			in:   "1,x,2\n3,y,4\n",
			opt:  CSVOptions{Label: "-2"},
			x:    []float32{1, 2, 3, 4}, y: []int32{0, 1}, classes: []string{"x", "y"},
		},
		{
			name: "header name wins over column number",
			in:   "a,3,b\n5,1,6\n7,0,8\n",
			opt:  CSVOptions{Header: HeaderYes, Label: "3"},
			x:    []float32{5, 6, 7, 8}, y: []int32{1, 0}, classes: []string{"0", "1"}, features: []string{"a", "b"},
		},
		{
			name: "integer labels sort numerically",
			in:   "1,10\n2,2\n3,1\n4,01\n5,-3\n",
			x:    []float32{1, 2, 3, 4, 5}, y: []int32{3, 2, 1, 1, 0}, classes: []string{"-3", "1", "2", "10"},
		},
		{
			name: "mixed labels sort as strings",
			in:   "1,10\n2,2\n3,b\n",
			x:    []float32{1, 2, 3}, y: []int32{0, 1, 2}, classes: []string{"10", "2", "b"},
		},
		{
			name: "semicolons, spaces, BOM",
			in:   "\ufeff a ; b ; class \n 1.5 ; -2e3 ; x \n",
			opt:  CSVOptions{Comma: ';'},
			x:    []float32{1.5, -2000}, y: []int32{0}, classes: []string{"x"}, features: []string{"a", "b"},
		},
		{
			name: "tabs and quotes",
			in:   "a\tb\tclass\n\"1\"\t2\t\"new york\"\n",
			opt:  CSVOptions{Comma: '\t'},
			x:    []float32{1, 2}, y: []int32{0}, classes: []string{"new york"}, features: []string{"a", "b"},
		},
		{
			name: "drop by name and number",
			in:   "id,a,note,b,class\nr1,1,hi,2,x\nr2,3,yo,4,y\n",
			opt:  CSVOptions{Drop: []string{"id", "3"}},
			x:    []float32{1, 2, 3, 4}, y: []int32{0, 1}, classes: []string{"x", "y"}, features: []string{"a", "b"},
		},
		{
			name: "string ID dropped by number still detects no header",
			in:   "r1,1,2,x\nr2,3,4,y\n",
			opt:  CSVOptions{Drop: []string{"1"}},
			x:    []float32{1, 2, 3, 4}, y: []int32{0, 1}, classes: []string{"x", "y"},
		},
		{
			name: "float32 extremes",
			in:   "3.4028234e38,-3.4028234e38,1e-50,x\n",
			x:    []float32{3.4028234e38, -3.4028234e38, 0}, y: []int32{0}, classes: []string{"x"},
		},
		{
			name: "forced header of numbers",
			in:   "1,2,3\n4,5,6\n",
			opt:  CSVOptions{Header: HeaderYes},
			x:    []float32{4, 5}, y: []int32{0}, classes: []string{"6"}, features: []string{"1", "2"},
		},
		{
			name: "forced no header keeps a text first row as data error free when numeric",
			in:   "1,2,a\n",
			opt:  CSVOptions{Header: HeaderNo},
			x:    []float32{1, 2}, y: []int32{0}, classes: []string{"a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.X, tc.x) || !slices.Equal(d.Y, tc.y) || !slices.Equal(d.Classes, tc.classes) || !slices.Equal(d.Features, tc.features) {
				t.Errorf("got X %v Y %v classes %q features %q\nwant X %v Y %v classes %q features %q",
					d.X, d.Y, d.Classes, d.Features, tc.x, tc.y, tc.classes, tc.features)
			}
			if (d.Features == nil) != (tc.features == nil) {
				t.Errorf("features %#v, want %#v", d.Features, tc.features)
			}
			if d.Name != "t.csv" || d.N != len(tc.y) || d.D != len(tc.x)/len(tc.y) {
				t.Errorf("name %q shape %d×%d", d.Name, d.N, d.D)
			}
		})
	}
}

func TestLoadCSV(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "iris.csv")
	packed := filepath.Join(dir, "iris.csv.gz")
	writeFile(t, plain, []byte(irisLike))
	writeFile(t, packed, gzipBytes(t, []byte(irisLike)))
	for _, p := range []string{plain, packed} {
		d, err := LoadCSV(p, CSVOptions{Label: "class"})
		if err != nil {
			t.Fatal(err)
		}
		if d.N != 6 || d.D != 4 || d.Name != p || !slices.Equal(d.ClassCounts(), []int{2, 2, 2}) {
			t.Errorf("%s: %d×%d %v", p, d.N, d.D, d.ClassCounts())
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, []byte("a,b\n1,x\nz,y\n"))
	_, err := LoadCSV(bad, CSVOptions{})
	if want := "data: " + bad + ` line 3: column "a": "z" is not a number`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = LoadCSV(filepath.Join(dir, "missing.csv"), CSVOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want fs.ErrNotExist", err)
	}
}

func TestParseHeaderMode(t *testing.T) {
	for s, want := range map[string]HeaderMode{"": HeaderAuto, "auto": HeaderAuto, "Yes": HeaderYes, "no": HeaderNo, "true": HeaderYes} {
		got, err := ParseHeaderMode(s)
		if err != nil || got != want {
			t.Errorf("ParseHeaderMode(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := ParseHeaderMode("maybe"); err == nil || !strings.Contains(err.Error(), "want auto, yes or no") {
		t.Errorf("ParseHeaderMode(maybe): error %v", err)
	}
	if HeaderNo.String() != "no" || HeaderMode(9).String() != "HeaderMode(9)" {
		t.Errorf("String: %v %v", HeaderNo, HeaderMode(9))
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
