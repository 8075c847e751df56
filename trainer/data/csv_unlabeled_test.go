package data

import (
	"strings"
	"testing"
)

func TestReadCSVUnlabeled(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"header", "a,b,c\n1,2,3\n4,5,6\n"},
		{"no header", "1,2,3\n4,5,6\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(tc.in), "x.csv", CSVOptions{Unlabeled: true})
			if err != nil {
				t.Fatal(err)
			}
			if d.N != 2 || d.D != 3 || d.X[5] != 6 || len(d.Classes) != 1 || d.Y[1] != 0 {
				t.Fatalf("got %+v", d)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
