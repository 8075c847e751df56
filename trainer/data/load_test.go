package data

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeIDXDir writes a train split (and a t10k split when testLabels is
// non-nil) of 1×2 images into dir.
func writeIDXDir(t *testing.T, dir string, trainLabels, testLabels []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(split string, labels []byte) {
		n := uint32(len(labels))
		writeFile(t, filepath.Join(dir, split+"-images-idx3-ubyte.gz"), gzipBytes(t, encodeIDX([]uint32{n, 1, 2}, make([]byte, 2*n))))
		writeFile(t, filepath.Join(dir, split+"-labels-idx1-ubyte.gz"), gzipBytes(t, encodeIDX([]uint32{n}, labels)))
	}
	write("train", trainLabels)
	if testLabels != nil {
		write("t10k", testLabels)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "flowers.csv")
	writeFile(t, csvPath, []byte("species,a,b\nx,1,2\ny,3,4\n"))
	both := filepath.Join(dir, "both")
	writeIDXDir(t, both, []byte{0, 1, 2}, []byte{4, 0})
	trainOnly := filepath.Join(dir, "trainonly")
	writeIDXDir(t, trainOnly, []byte{0, 1}, nil)

	tests := []struct {
		name          string
		spec          string
		opt           LoadOptions
		trainN, testN int // testN -1: no test split
		d, numClasses int
	}{
		{"built-in", "iris", LoadOptions{}, 150, -1, 4, 3},
		{"CSV with label option", csvPath, LoadOptions{CSV: CSVOptions{Label: "species"}}, 2, -1, 2, 2},
		{"IDX with test split", both, LoadOptions{}, 3, 2, 2, 5},
		{"IDX without test split", trainOnly, LoadOptions{}, 2, -1, 2, 2},
		{"relative to the data root", "both", LoadOptions{DataRoot: dir}, 3, 2, 2, 5},
		{"absolute under the data root", csvPath, LoadOptions{DataRoot: dir, CSV: CSVOptions{Label: "1"}}, 2, -1, 2, 2},
		{"built-in with a data root", "digits", LoadOptions{DataRoot: dir}, 1797, -1, 64, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test, err := Load(tc.spec, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := train.Validate(); err != nil {
				t.Fatal(err)
			}
			if train.N != tc.trainN || train.D != tc.d || train.NumClasses() != tc.numClasses {
				t.Errorf("train %d×%d with %d classes", train.N, train.D, train.NumClasses())
			}
			if tc.testN < 0 {
				if test != nil {
					t.Errorf("test split of %d samples, want none", test.N)
				}
				return
			}
			if test == nil {
				t.Fatal("no test split")
			}
			if err := test.Validate(); err != nil {
				t.Fatal(err)
			}
			if test.N != tc.testN || test.D != tc.d || !slices.Equal(test.Classes, train.Classes) {
				t.Errorf("test %d×%d classes %q, train classes %q", test.N, test.D, test.Classes, train.Classes)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "ok.csv"), []byte("1,2,x\n"))
	writeFile(t, filepath.Join(outside, "secret.csv"), []byte("1,2,x\n"))
	writeIDXDir(t, filepath.Join(outside, "idx"), []byte{0, 1}, nil)
	symlink(t, filepath.Join(outside, "secret.csv"), filepath.Join(root, "escape.csv"))
	symlink(t, outside, filepath.Join(root, "escapedir"))
	symlink(t, filepath.Join(outside, "idx"), filepath.Join(root, "idxlink"))
	symlink(t, filepath.Join(root, "ok.csv"), filepath.Join(root, "inside.csv"))
	symlink(t, root, filepath.Join(base, "rootlink"))
	writeIDXDir(t, filepath.Join(root, "mixed"), []byte{0, 1}, nil)
	writeFile(t, filepath.Join(root, "mixed", "t10k-images-idx3-ubyte"), encodeIDX([]uint32{1, 3}, []byte{1, 2, 3}))
	writeFile(t, filepath.Join(root, "mixed", "t10k-labels-idx1-ubyte"), encodeIDX([]uint32{1}, []byte{1}))

	confined := LoadOptions{DataRoot: root}
	tests := []struct {
		name   string
		spec   string
		opt    LoadOptions
		target error // nil: only check want
		want   string
	}{
		{"empty spec", "", LoadOptions{}, nil, "no dataset given: want a built-in name (digits, iris)"},
		{"missing file", filepath.Join(root, "nope.csv"), LoadOptions{}, fs.ErrNotExist, "nope.csv: no such file"},
		{"missing file under root", "nope.csv", confined, fs.ErrNotExist, "data: nope.csv: no such file"},
		{"dot-dot", "../outside/secret.csv", confined, ErrOutsideRoot, "not under"},
		{"absolute outside", filepath.Join(outside, "secret.csv"), confined, ErrOutsideRoot, "not under"},
		{"missing file outside", "../outside/nope.csv", confined, ErrOutsideRoot, "not under"},
		{"symlink out", "escape.csv", confined, ErrOutsideRoot, "resolves to " + filepath.Join(outside, "secret.csv")},
		{"through a symlinked dir", "escapedir/secret.csv", confined, ErrOutsideRoot, "not under"},
		{"symlinked IDX dir", "idxlink", confined, ErrOutsideRoot, "not under"},
		{"directory without IDX files", "empty", confined, fs.ErrNotExist, "a directory without train-images-idx3-ubyte[.gz]"},
		{"test split of another shape", "mixed", confined, ErrBadData, "t10k images have 3 features, train images 2"},
		{"bad CSV names the spec", "ok.csv", LoadOptions{DataRoot: root, CSV: CSVOptions{Label: "class"}}, ErrBadData, `data: ok.csv line 1: label column "class" is not in the header`},
		{"missing data root", "ok.csv", LoadOptions{DataRoot: filepath.Join(base, "nope")}, fs.ErrNotExist, "data root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, _, err := Load(tc.spec, tc.opt)
			if err == nil {
				t.Fatalf("no error; loaded %d samples", train.N)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %q does not match %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	// Symlinks that stay inside the root, and a root reached through a
	// symlink, are fine.
	for _, tc := range []struct{ spec, root string }{
		{"inside.csv", root},
		{"ok.csv", filepath.Join(base, "rootlink")},
		{filepath.Join(base, "rootlink", "ok.csv"), filepath.Join(base, "rootlink")},
		{filepath.Join(base, "rootlink", "ok.csv"), root},
	} {
		if _, _, err := Load(tc.spec, LoadOptions{DataRoot: tc.root}); err != nil {
			t.Errorf("Load(%s) under %s: %v", tc.spec, tc.root, err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}
