package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fashionDir holds Debian's dataset-fashion-mnist files, when installed.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// encodeIDX builds an unsigned-byte IDX file with the given dimensions
// and body.
func encodeIDX(dims []uint32, body []byte) []byte {
	b := []byte{0, 0, idxU8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, body...)
}

func TestReadIDX(t *testing.T) {
	pixels := []byte{0, 255, 51, 102, 255, 0, 0, 0, 1, 2, 3, 4}
	labels := []byte{3, 0, 1}
	images := encodeIDX([]uint32{3, 2, 2}, pixels)
	labelFile := encodeIDX([]uint32{3}, labels)
	tests := []struct {
		name           string
		images, labels []byte
		d              int
	}{
		{"plain", images, labelFile, 4},
		{"gzipped", gzipBytes(t, images), gzipBytes(t, labelFile), 4},
		{"mixed", images, gzipBytes(t, labelFile), 4},
		{"rank 2", encodeIDX([]uint32{3, 4}, pixels), labelFile, 4},
		{"rank 4", encodeIDX([]uint32{3, 2, 1, 2}, pixels), labelFile, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadIDX(bytes.NewReader(tc.images), bytes.NewReader(tc.labels), "mini")
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if d.N != 3 || d.D != tc.d || d.Name != "mini" || d.Features != nil {
				t.Fatalf("got %s %d×%d features %v", d.Name, d.N, d.D, d.Features)
			}
			for i, p := range pixels {
				if want := float32(p) / 255; math.Abs(float64(d.X[i]-want)) > 1e-7 {
					t.Errorf("X[%d] = %v, want %v", i, d.X[i], want)
				}
			}
			if d.X[1] != 1 || d.X[0] != 0 {
				t.Errorf("scaling: 0→%v, 255→%v", d.X[0], d.X[1])
			}
			if !slices.Equal(d.Y, []int32{3, 0, 1}) || !slices.Equal(d.Classes, []string{"0", "1", "2", "3"}) {
				t.Errorf("Y %v classes %q", d.Y, d.Classes)
			}
		})
	}
}

func TestReadIDXBadData(t *testing.T) {
	img := encodeIDX([]uint32{2, 2, 2}, make([]byte, 8))
	lab := encodeIDX([]uint32{2}, []byte{1, 0})
	badCRC := gzipBytes(t, img)
	badCRC[len(badCRC)-6] ^= 0xff
	tests := []struct {
		name           string
		images, labels []byte
		want           string
	}{
		{"empty images", nil, lab, "mini images: empty file"},
		{"empty labels", img, nil, "mini labels: empty file"},
		{"short magic", []byte{0, 0}, lab, "mini images: truncated header"},
		{"wrong magic", append([]byte{1, 2}, img[2:]...), lab, "mini images: not an IDX file: magic bytes 01 02 08 03"},
		{"CSV text", []byte("1,2,3\n"), lab, "not an IDX file"},
		{"float32 elements", append([]byte{0, 0, 0x0d}, img[3:]...), lab, "IDX element type 0x0d is not supported, only unsigned bytes (0x08)"},
		{"rank 0", []byte{0, 0, 8, 0}, lab, "mini images: IDX rank 0"},
		{"truncated dimensions", img[:9], lab, "mini images: truncated header of rank 3"},
		{"images of rank 1", encodeIDX([]uint32{2}, []byte{1, 2}), lab, "images have rank 1, want at least 2"},
		{"labels of rank 2", img, encodeIDX([]uint32{2, 1}, []byte{1, 0}), "mini labels: labels have rank 2, want 1"},
		{"count mismatch", img, encodeIDX([]uint32{3}, []byte{1, 0, 1}), "mini labels: 3 labels for 2 images"},
		{"no images", encodeIDX([]uint32{0, 2, 2}, nil), encodeIDX([]uint32{0}, nil), "no samples"},
		{"zero width", encodeIDX([]uint32{2, 2, 0}, nil), lab, "leave no features"},
		{"truncated pixels", img[:len(img)-1], lab, "mini images: truncated: the header declares 8 data bytes, the file has 7"},
		{"truncated labels", img, lab[:len(lab)-1], "mini labels: truncated: the header declares 2 data bytes, the file has 1"},
		{"trailing pixels", append(slices.Clone(img), 7), lab, "mini images: trailing data after the 8 bytes"},
		{"trailing labels", img, append(slices.Clone(lab), 7), "mini labels: trailing data"},
		{"huge claim", encodeIDX([]uint32{4_000_000_000, 1}, make([]byte, 100)), encodeIDX([]uint32{4_000_000_000}, make([]byte, 100)), "mini labels: truncated: the header declares 4000000000 data bytes, the file has 100"},
		{"huge claim, complete labels", encodeIDX([]uint32{100_000, 10_000}, make([]byte, 100)), encodeIDX([]uint32{100_000}, make([]byte, 100_000)), "mini images: truncated: the header declares 1000000000 data bytes, the file has 100"},
		{"beyond the size cap", encodeIDX([]uint32{4_000_000_000, 28, 28}, nil), encodeIDX([]uint32{4_000_000_000}, nil), "dimensions [4000000000 28 28] are too large"},
		{"overflowing dimensions", encodeIDX([]uint32{math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32}, nil), encodeIDX([]uint32{math.MaxUint32}, nil), "are too large"},
		{"corrupt gzip", badCRC, lab, "mini images: corrupt or truncated gzip data"},
		{"truncated gzip", gzipBytes(t, img)[:20], lab, "mini images:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadIDX(bytes.NewReader(tc.images), bytes.NewReader(tc.labels), "mini")
			if err == nil {
				t.Fatalf("no error; got %d×%d", d.N, d.D)
			}
			if !errors.Is(err, ErrBadData) {
				t.Errorf("error %q does not match ErrBadData", err)
			}
			if !strings.HasPrefix(err.Error(), "data: mini ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestReadIDXHugeClaimAllocatesLittle checks that a header declaring
// gigabytes of data allocates for the data present, not the claim.
func TestReadIDXHugeClaimAllocatesLittle(t *testing.T) {
	img := encodeIDX([]uint32{1_000_000, 4000}, make([]byte, 1000))
	lab := encodeIDX([]uint32{1_000_000}, make([]byte, 1_000_000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadIDX(bytes.NewReader(img), bytes.NewReader(lab), "huge")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBadData) {
		t.Fatalf("error %v, want ErrBadData", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("allocated %d bytes for a 1 MB input claiming 4 GB", got)
	}
}

func TestLoadIDXDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gzipBytes(t, encodeIDX([]uint32{2, 1, 3}, []byte{0, 1, 2, 3, 4, 5})))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), encodeIDX([]uint32{2}, []byte{1, 0}))
	d, err := LoadIDXDir(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || d.D != 3 || d.Name != dir || !slices.Equal(d.Y, []int32{1, 0}) {
		t.Errorf("got %s %d×%d Y %v", d.Name, d.N, d.D, d.Y)
	}

	if _, err := LoadIDXDir(dir, "t10k"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing split: error %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadIDXDir(dir, "../train"); err == nil || !strings.Contains(err.Error(), "want train or t10k") {
		t.Errorf("bad split name: error %v", err)
	}
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), encodeIDX([]uint32{1, 3}, []byte{0, 1, 2}))
	if _, err := LoadIDXDir(dir, "t10k"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no t10k-labels-idx1-ubyte[.gz]") {
		t.Errorf("half a split: error %v", err)
	}
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), encodeIDX([]uint32{2}, []byte{0, 1}))
	_, err = LoadIDXDir(dir, "t10k")
	if want := filepath.Join(dir, "t10k-labels-idx1-ubyte") + ": 2 labels for 1 images"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one naming the file: %s", err, want)
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	if _, err := os.Stat(fashionDir); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	if testing.Short() {
		t.Skip("reads 30 MB of gzip; skipped with -short")
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 60000}, {"t10k", 10000}} {
		d, err := LoadIDXDir(fashionDir, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.N != tc.n || d.D != 784 || len(d.Classes) != 10 {
			t.Fatalf("%s: %d×%d, %d classes", tc.split, d.N, d.D, len(d.Classes))
		}
		for c, n := range d.ClassCounts() {
			if n != tc.n/10 {
				t.Errorf("%s: class %d has %d samples, want %d", tc.split, c, n, tc.n/10)
			}
		}
		lo, hi := slices.Min(d.X), slices.Max(d.X)
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels in [%v,%v], want [0,1]", tc.split, lo, hi)
		}
	}
}

func BenchmarkLoadFashionMNISTTrain(b *testing.B) {
	if _, err := os.Stat(fashionDir); err != nil {
		b.Skipf("Fashion-MNIST not installed: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadIDXDir(fashionDir, "train"); err != nil {
			b.Fatal(err)
		}
	}
}
