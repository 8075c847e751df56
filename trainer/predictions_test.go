package trainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"
)

func samplePredictions() *Predictions {
	return &Predictions{
		Classes:    []string{"cat", "dog", "emu"},
		Labels:     []int32{0, 2, 1, 1},
		Folds:      []int32{0, 1, 0, 1},
		OOF:        []float32{0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.6, 0.1, 0.2, 0.5, 0.3},
		TestLabels: []int32{2},
		Test:       []float32{0.1, 0.2, 0.7},
	}
}

func TestPredictionsRoundTrip(t *testing.T) {
	p := samplePredictions()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q, err := UnmarshalPredictions(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip changed the predictions:\n%+v\n%+v", p, q)
	}
	b2, _ := q.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding is not byte-identical")
	}
}

func TestPredictionsCorruptionIsAnError(t *testing.T) {
	b, _ := samplePredictions().MarshalBinary()
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		if _, err := UnmarshalPredictions(c); !errors.Is(err, ErrPredictions) {
			t.Fatalf("flipping byte %d: %v", i, err)
		}
	}
	for n := 0; n < len(b); n++ {
		if _, err := UnmarshalPredictions(b[:n]); !errors.Is(err, ErrPredictions) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// FuzzUnmarshalPredictions feeds the decoder arbitrary bodies with a valid
// checksum appended, so that the parser behind the checksum is exercised.
func FuzzUnmarshalPredictions(f *testing.F) {
	b, _ := samplePredictions().MarshalBinary()
	f.Add(b[:len(b)-4])
	f.Add([]byte("CONSORTP\x01"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in := binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, castagnoli))
		p, err := UnmarshalPredictions(in)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("decoded predictions do not validate: %v", err)
		}
		if _, err := p.MarshalBinary(); err != nil {
			t.Fatalf("decoded predictions do not re-encode: %v", err)
		}
	})
}
