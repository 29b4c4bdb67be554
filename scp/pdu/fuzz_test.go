package pdu

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// fuzzSeeds returns valid encodings of every PDU type, plus a few odd ones.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, p := range samplePDUs() {
		seeds = append(seeds, p.Append(nil))
	}
	seeds = append(seeds,
		mustHex(t, echoscuRQ),
		fullAssociateAC().Append(nil),
		cat(appendHeader(nil, TypeAssociateRQ, uint32(len(assocBody(appCtx, verifyPC)))), assocBody(appCtx, verifyPC)),
		AppendPDataHeader(nil, 1, false, true, 0),
	)
	return seeds
}

// checkError fails unless err is one Decode or Next may return.
func checkError(t *testing.T, err error) {
	t.Helper()
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	if _, ok := AbortReasonFor(err); !ok {
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}

// checkReencode re-encodes p, decodes the result and wants p back.
func checkReencode(t *testing.T, p PDU) {
	t.Helper()
	enc := p.Append(nil)
	typ, body := split(t, enc)
	if typ != p.Type() {
		t.Fatalf("encoded type %v, want %v", typ, p.Type())
	}
	again, err := Decode(typ, body)
	if err != nil {
		t.Fatalf("re-encoded %v does not decode: %v\n% x", typ, err, enc)
	}
	if !reflect.DeepEqual(again, p) {
		t.Fatalf("re-encoding changed the %v:\nfirst  %#v\nsecond %#v", typ, p, again)
	}
}

// FuzzDecode decodes arbitrary bodies: no panic, and whatever decodes
// re-encodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[0], s[HeaderLen:])
	}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		orig := bytes.Clone(body)
		p, err := Decode(Type(typ), body)
		if err != nil {
			if p != nil {
				t.Fatal("a PDU with an error")
			}
			checkError(t, err)
			return
		}
		if p.Type() != Type(typ) {
			t.Fatalf("decoded %v from type %#x", p.Type(), typ)
		}
		checkReencode(t, p)
		if !bytes.Equal(body, orig) {
			t.Fatal("Decode modified its input")
		}
	})
}

// FuzzReader feeds an arbitrary stream to Reader.Next until it fails.
func FuzzReader(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add(bytes.Join(seeds, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for range 1000 {
			p, err := r.Next(4096)
			if err != nil {
				checkError(t, err)
				return
			}
			checkReencode(t, p)
		}
	})
}
