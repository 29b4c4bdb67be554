package pdu

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// stream encodes PDUs back to back.
func stream(pdus ...PDU) []byte {
	var b []byte
	for _, p := range pdus {
		b = p.Append(b)
	}
	return b
}

func TestReaderStream(t *testing.T) {
	want := samplePDUs()
	data := stream(want...)
	for name, src := range map[string]io.Reader{
		"whole":    bytes.NewReader(data),
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(src)
			for i, w := range want {
				got, err := r.Next(0)
				if err != nil {
					t.Fatalf("PDU %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, w) {
					t.Fatalf("PDU %d: got %#v\nwant %#v", i, got, w)
				}
			}
			if _, err := r.Next(0); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF itself", err)
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	data := stream(fullAssociateRQ(), &PDataTF{Items: []PDV{{ContextID: 1, Data: []byte("abc")}}})
	for n := 1; n < len(data); n++ {
		r := NewReader(bytes.NewReader(data[:n]))
		var err error
		for err == nil {
			_, err = r.Next(0)
		}
		if n == len(data)-15 { // ends right after the RQ
			if err != io.EOF {
				t.Errorf("cut at a PDU boundary: %v, want io.EOF", err)
			}
			continue
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut after %d bytes: %v, want io.ErrUnexpectedEOF", n, err)
		}
		if _, ok := AbortReasonFor(err); ok {
			t.Errorf("cut after %d bytes: a truncation must not ask for an A-ABORT", n)
		}
	}
	if _, err := NewReader(bytes.NewReader(nil)).Next(0); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	data := ReleaseRQ{}.Append(nil)
	for _, n := range []int{0, 3, HeaderLen, HeaderLen + 2} {
		r := NewReader(io.MultiReader(bytes.NewReader(data[:n]), iotest.ErrReader(boom)))
		if _, err := r.Next(0); !errors.Is(err, boom) {
			t.Errorf("error after %d bytes: %v, want it to wrap the read error", n, err)
		}
	}
}

// headerOnly serves a header and fails the test if anything more is read.
type headerOnly struct {
	t   *testing.T
	hdr []byte
}

func (h *headerOnly) Read(p []byte) (int, error) {
	if len(h.hdr) == 0 {
		h.t.Fatal("read past the PDU header")
	}
	n := copy(p, h.hdr)
	h.hdr = h.hdr[n:]
	return n, nil
}

func TestReaderLimitsBeforeReading(t *testing.T) {
	tests := []struct {
		name   string
		typ    Type
		length uint32
		max    uint32
		reason byte
		large  bool
	}{
		{"P-DATA over the caller's limit", TypePDataTF, 16385, 16384, AbortReasonInvalidParamValue, true},
		{"P-DATA 0xFFFFFFFF", TypePDataTF, 0xFFFFFFFF, 1 << 30, AbortReasonInvalidParamValue, true},
		{"P-DATA over the default limit", TypePDataTF, DefaultMaxPDataLen + 1, 0, AbortReasonInvalidParamValue, true},
		{"A-ASSOCIATE-RQ over 1 MiB", TypeAssociateRQ, MaxAssociatePDULen + 1, 0, AbortReasonInvalidParamValue, true},
		{"A-ASSOCIATE-AC 0xFFFFFFFF", TypeAssociateAC, 0xFFFFFFFF, 0, AbortReasonInvalidParamValue, true},
		{"A-ASSOCIATE-RJ of 5 bytes", TypeAssociateRJ, 5, 0, AbortReasonInvalidParamValue, false},
		{"A-RELEASE-RQ of 0xFFFFFFFF", TypeReleaseRQ, 0xFFFFFFFF, 0, AbortReasonInvalidParamValue, false},
		{"A-RELEASE-RP of 3", TypeReleaseRP, 3, 0, AbortReasonInvalidParamValue, false},
		{"A-ABORT of 0", TypeAbort, 0, 0, AbortReasonInvalidParamValue, false},
		{"unknown type, huge body", 0x08, MaxAssociatePDULen + 1, 0, AbortReasonUnrecognizedPDU, false},
		{"unknown type 0", 0x00, 0xFFFFFFFF, 0, AbortReasonUnrecognizedPDU, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(&headerOnly{t: t, hdr: appendHeader(nil, tc.typ, tc.length)})
			_, err := r.Next(tc.max)
			wantAbort(t, err, tc.reason)
			if errors.Is(err, ErrPDUTooLarge) != tc.large {
				t.Errorf("errors.Is(%v, ErrPDUTooLarge) = %v", err, !tc.large)
			}
			if cap(r.buf) != 0 {
				t.Errorf("allocated a %d-byte buffer", cap(r.buf))
			}
		})
	}
}

func TestReaderBadPData(t *testing.T) {
	data := cat(appendHeader(nil, TypePDataTF, 6), u32(2), []byte{2, 0}) // even context ID
	_, err := NewReader(bytes.NewReader(data)).Next(0)
	wantAbort(t, err, AbortReasonInvalidParamValue)
}

func TestReaderSkipsUnknownPDU(t *testing.T) {
	data := cat(appendHeader(nil, 0x09, 5), []byte("hello"), ReleaseRP{}.Append(nil))
	r := NewReader(bytes.NewReader(data))
	_, err := r.Next(0)
	wantAbort(t, err, AbortReasonUnrecognizedPDU)
	if p, err := r.Next(0); err != nil || p.Type() != TypeReleaseRP {
		t.Fatalf("after the unknown PDU: %v %v", p, err)
	}
}

func TestReaderPDataReuse(t *testing.T) {
	first := PDataTF{Items: []PDV{{ContextID: 1, Command: true, Last: true, Data: []byte("command")},
		{ContextID: 1, Data: []byte("data")}}}
	second := PDataTF{Items: []PDV{{ContextID: 3, Last: true, Data: []byte("x")}}}
	r := NewReader(bytes.NewReader(stream(first, second)))
	p1, err := r.Next(1024)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1, &first) {
		t.Fatalf("got %#v", p1)
	}
	d := p1.(*PDataTF).Items[0].Data
	if cap(d) != len(d) {
		t.Errorf("PDV data has capacity %d past its length %d", cap(d), len(d))
	}
	p2, err := r.Next(1024)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Error("the *PDataTF is not reused")
	}
	if !reflect.DeepEqual(p2, &second) {
		t.Fatalf("got %#v", p2)
	}
}

// cycle serves data over and over.
type cycle struct {
	data []byte
	off  int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}

func TestReaderPDataNoAllocs(t *testing.T) {
	data := stream(
		PDataTF{Items: []PDV{{ContextID: 1, Command: true, Last: true, Data: make([]byte, 100)}}},
		PDataTF{Items: []PDV{{ContextID: 1, Data: make([]byte, 16000)}, {ContextID: 1, Last: true, Data: make([]byte, 300)}}},
	)
	r := NewReader(&cycle{data: data})
	for range 4 { // warm up: buffer and Items reach their final sizes
		if _, err := r.Next(16384); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := r.Next(16384); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Next: %v allocations per P-DATA-TF in steady state", n)
	}
}
