package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// idxU8 is the IDX element type code for unsigned bytes, the only one
// read.
const idxU8 = 0x08

// maxIDXElements bounds the element count an IDX header may declare, so
// size arithmetic cannot overflow. Memory is allocated as data actually
// arrives, never from the header alone.
const maxIDXElements = min(1<<40, math.MaxInt/4)

// idxPixel maps a byte to its [0,1] float32 value.
var idxPixel = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(float64(i) / 255)
	}
	return t
}()

// ReadIDX reads a dataset in the IDX format of MNIST and Fashion-MNIST
// from an images stream and a labels stream, each gzipped or not (detected
// from its first bytes). Images are unsigned-byte tensors of rank ≥ 2,
// N×d1×d2…, flattened to D = d1·d2·… features scaled to [0,1]; labels are
// an unsigned-byte vector of N class numbers, and the classes are "0" up
// to the largest label. A malformed stream returns a *ParseError
// (matching ErrBadData) naming name's images or labels: a wrong magic
// number or element type, a wrong rank, counts that disagree, data that
// ends before the header's sizes are filled or continues after them.
// Memory grows with the data read, so a header claiming billions of items
// fails on the missing bytes without allocating for them.
func ReadIDX(images, labels io.Reader, name string) (*Dataset, error) {
	return readIDX(images, labels, name, name+" images", name+" labels")
}

func readIDX(images, labels io.Reader, name, imagesName, labelsName string) (*Dataset, error) {
	ir, err := idxStream(images, imagesName)
	if err != nil {
		return nil, err
	}
	defer ir.Close()
	lr, err := idxStream(labels, labelsName)
	if err != nil {
		return nil, err
	}
	defer lr.Close()

	idims, err := readIDXHeader(ir, imagesName)
	if err != nil {
		return nil, err
	}
	if len(idims) < 2 {
		return nil, &ParseError{Name: imagesName, Err: fmt.Errorf("images have rank %d, want at least 2 (samples × features)", len(idims))}
	}
	ldims, err := readIDXHeader(lr, labelsName)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 {
		return nil, &ParseError{Name: labelsName, Err: fmt.Errorf("labels have rank %d, want 1", len(ldims))}
	}
	n := int64(idims[0])
	if n == 0 {
		return nil, &ParseError{Name: imagesName, Err: errors.New("no samples: the header declares 0 images")}
	}
	if int64(ldims[0]) != n {
		return nil, &ParseError{Name: labelsName, Err: fmt.Errorf("%d labels for %d images", ldims[0], n)}
	}
	d := int64(1)
	for _, s := range idims[1:] {
		d *= int64(s)
		if d == 0 {
			return nil, &ParseError{Name: imagesName, Err: fmt.Errorf("dimensions %v leave no features", idims)}
		}
		if d > maxIDXElements {
			return nil, &ParseError{Name: imagesName, Err: fmt.Errorf("dimensions %v are too large", idims)}
		}
	}
	if n > maxIDXElements/d {
		return nil, &ParseError{Name: imagesName, Err: fmt.Errorf("dimensions %v are too large", idims)}
	}

	lab, err := readIDXBody(lr, n, labelsName)
	if err != nil {
		return nil, err
	}
	pix, err := readIDXBody(ir, n*d, imagesName)
	if err != nil {
		return nil, err
	}

	ds := &Dataset{
		Name: name,
		X:    make([]float32, len(pix)),
		Y:    make([]int32, len(lab)),
		N:    int(n),
		D:    int(d),
	}
	for i, b := range pix {
		ds.X[i] = idxPixel[b]
	}
	maxLabel := 0
	for i, b := range lab {
		ds.Y[i] = int32(b)
		maxLabel = max(maxLabel, int(b))
	}
	ds.Classes = numberedClasses(maxLabel + 1)
	return ds, nil
}

// numberedClasses returns "0", "1", … "k-1".
func numberedClasses(k int) []string {
	c := make([]string, k)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}

// idxStream buffers r and decompresses it when it starts with the gzip
// magic bytes.
func idxStream(r io.Reader, name string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(2)
	if !isGzip(head) {
		return io.NopCloser(br), nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, readError(name, err)
	}
	return zr, nil
}

// readIDXHeader reads the magic number (0x00 0x00, type, rank) and the
// dimension sizes.
func readIDXHeader(r io.Reader, name string) ([]uint32, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		if err == io.EOF {
			return nil, &ParseError{Name: name, Err: errors.New("empty file")}
		}
		return nil, idxReadError(name, "header", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("not an IDX file: magic bytes % x, want 00 00 08 <rank>", magic)}
	}
	if magic[2] != idxU8 {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("IDX element type 0x%02x is not supported, only unsigned bytes (0x08)", magic[2])}
	}
	if magic[3] == 0 {
		return nil, &ParseError{Name: name, Err: errors.New("IDX rank 0: no dimensions")}
	}
	raw := make([]byte, 4*int(magic[3]))
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, idxReadError(name, fmt.Sprintf("header of rank %d", magic[3]), err)
	}
	dims := make([]uint32, magic[3])
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(raw[4*i:])
	}
	return dims, nil
}

// readIDXBody reads exactly n bytes and checks that the stream ends there.
// The buffer grows (doubling from 1 MiB) as bytes arrive, so a header that
// overstates n costs no more memory than the data actually present.
func readIDXBody(r io.Reader, n int64, name string) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<20))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF && int64(len(buf)) < n {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("truncated: the header declares %d data bytes, the file has %d", n, len(buf))}
		}
		if err != nil && err != io.EOF {
			return nil, idxReadError(name, "data", err)
		}
	}
	var one [1]byte
	for {
		m, err := r.Read(one[:])
		if m > 0 {
			return nil, &ParseError{Name: name, Err: fmt.Errorf("trailing data after the %d bytes the header declares", n)}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, idxReadError(name, "data", err)
		}
	}
}

func idxReadError(name, what string, err error) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return &ParseError{Name: name, Err: fmt.Errorf("truncated %s", what)}
	}
	return readError(name, err)
}

// LoadIDXDir reads split "train" or "t10k" from an IDX directory laid out
// like MNIST: <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte,
// each optionally gzipped with a .gz suffix. The dataset is named dir.
func LoadIDXDir(dir, split string) (*Dataset, error) {
	ds, err := loadIDXSplit(hostFiles{}, dir, dir, split)
	if errors.Is(err, errNoSplit) {
		return nil, fmt.Errorf("data: %s: no %s split: %w", dir, split, fs.ErrNotExist)
	}
	return ds, err
}

// errNoSplit says that neither the images nor the labels file of a split
// exists.
var errNoSplit = errors.New("data: no such IDX split")

// loadIDXSplit reads a split through files; dir is the path to use with
// files, display the path to show in errors. It returns errNoSplit when
// neither file exists.
func loadIDXSplit(files fileOpener, dir, display, split string) (*Dataset, error) {
	if split != "train" && split != "t10k" {
		return nil, fmt.Errorf("data: IDX split %q: want train or t10k", split)
	}
	img, imgOK, err := findIDXFile(files, dir, split+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lab, labOK, err := findIDXFile(files, dir, split+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	switch {
	case !imgOK && !labOK:
		return nil, errNoSplit
	case !imgOK:
		return nil, fmt.Errorf("data: %s: %s found but no %s-images-idx3-ubyte[.gz]: %w", display, lab, split, fs.ErrNotExist)
	case !labOK:
		return nil, fmt.Errorf("data: %s: %s found but no %s-labels-idx1-ubyte[.gz]: %w", display, img, split, fs.ErrNotExist)
	}
	fi, err := files.Open(filepath.Join(dir, img))
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer fi.Close()
	fl, err := files.Open(filepath.Join(dir, lab))
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer fl.Close()
	return readIDX(fi, fl, display, filepath.Join(display, img), filepath.Join(display, lab))
}

// findIDXFile returns base or base+".gz", whichever is a regular file in
// dir (the plain one first).
func findIDXFile(files fileOpener, dir, base string) (string, bool, error) {
	for _, name := range []string{base, base + ".gz"} {
		st, err := files.Stat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", false, fmt.Errorf("data: %w", err)
		}
		if st.Mode().IsRegular() {
			return name, true, nil
		}
	}
	return "", false, nil
}

// fileOpener is the file access Load needs; *os.Root satisfies it, which
// confines access to a data root.
type fileOpener interface {
	Open(name string) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
}

// hostFiles opens paths on the host file system without confinement.
type hostFiles struct{}

func (hostFiles) Open(name string) (*os.File, error)    { return os.Open(name) }
func (hostFiles) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }
