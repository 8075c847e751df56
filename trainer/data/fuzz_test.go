package data

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// checkFuzzResult asserts what every reader guarantees: a dataset that
// validates, or an error that says where it came from.
func checkFuzzResult(t *testing.T, d *Dataset, err error) {
	t.Helper()
	if err != nil {
		if d != nil {
			t.Fatalf("both a dataset and error %v", err)
		}
		if !strings.HasPrefix(err.Error(), "data: ") {
			t.Fatalf("error %q lacks the data: prefix", err)
		}
		return
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("returned dataset does not validate: %v", err)
	}
	if d.Features != nil && len(d.Features) != d.D {
		t.Fatalf("%d feature names for %d features", len(d.Features), d.D)
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		irisLike,
		"1,2,3\n4,5,6\n",
		"a,b,class\n1,2,x\n1,2\n",
		"a;b;c\n1;2;x\n",
		"\ufeffa,b\n1,x\n",
		"x,\"1\n2\",y\n",
		"1,NaN,x\n1,1e39,y\n",
		"",
		"\n\n",
		"class\na\n",
		"a,b,c\n1,2\"3,x\n",
	} {
		f.Add([]byte(s), "", uint8(0), uint8(0))
		f.Add([]byte(s), "-1", uint8(1), uint8(1))
		f.Add([]byte(s), "class", uint8(2), uint8(2))
	}
	f.Add(gzipBytes(f, []byte(irisLike)), "1", uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, label string, header, sep uint8) {
		opt := CSVOptions{
			Header: HeaderMode(header % 4), // 3 is invalid on purpose
			Label:  label,
			Comma:  []rune{0, ',', ';', '\t', '"'}[int(sep)%5],
		}
		if sep >= 128 {
			opt.Drop = []string{"1"}
		}
		d, err := ReadCSV(bytes.NewReader(in), "fuzz.csv", opt)
		checkFuzzResult(t, d, err)
	})
}

func FuzzReadIDX(f *testing.F) {
	img := encodeIDX([]uint32{3, 2, 2}, []byte{0, 255, 51, 102, 255, 0, 0, 0, 1, 2, 3, 4})
	lab := encodeIDX([]uint32{3}, []byte{3, 0, 1})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(img)
	_ = zw.Close()
	f.Add(img, lab)
	f.Add(gz.Bytes(), lab)
	f.Add(encodeIDX([]uint32{3, 4}, make([]byte, 12)), lab)
	f.Add(encodeIDX([]uint32{4_000_000_000, 1}, []byte{1}), encodeIDX([]uint32{4_000_000_000}, []byte{1}))
	f.Add(img[:7], lab)
	f.Add(img, lab[:6])
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		d, err := ReadIDX(bytes.NewReader(images), bytes.NewReader(labels), "fuzz")
		checkFuzzResult(t, d, err)
		if err == nil && !isGzip(images) && d.N*d.D >= len(images) {
			t.Fatalf("%d×%d features from %d bytes", d.N, d.D, len(images))
		}
	})
}
