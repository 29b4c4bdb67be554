package pdu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// TestReaderLyingLengths corrupts each length field of the echoscu capture
// and reads it with a Reader.
func TestReaderLyingLengths(t *testing.T) {
	const (
		offPDU     = 2   // 4-byte PDU length
		offApp     = 76  // application context item length
		offPC      = 101 // presentation context item length
		offAbs     = 109 // abstract syntax sub-item length
		offTS      = 130 // first transfer syntax sub-item length
		offUI      = 197 // user information item length
		offMaxLen  = 201 // maximum length sub-item length
		offImpl    = 209 // implementation class UID sub-item length
		offVersion = 240 // implementation version name sub-item length
	)
	capture := mustHex(t, echoscuRQ)
	for off, typ := range map[int]byte{offApp: 0x10, offPC: 0x20, offAbs: 0x30, offTS: 0x40, offUI: 0x50, offMaxLen: 0x51, offImpl: 0x52, offVersion: 0x55} {
		if capture[off-2] != typ {
			t.Fatalf("offset %d: item type %#x, want %#x", off, capture[off-2], typ)
		}
	}
	const (
		unexpectedEOF = iota
		tooLarge
		invalid
	)
	tests := []struct {
		name string
		off  int
		val  uint32 // written as 4 bytes at offPDU, 2 bytes elsewhere
		want int
	}{
		{"PDU length +1", offPDU, 252, unexpectedEOF},
		{"PDU length -1", offPDU, 250, invalid},
		{"PDU length 0", offPDU, 0, invalid},
		{"PDU length 0xFFFFFFFF", offPDU, 0xFFFFFFFF, tooLarge},
		{"PDU length just over the limit", offPDU, MaxAssociatePDULen + 1, tooLarge},
		{"application context 0xFFFF", offApp, 0xFFFF, invalid},
		{"application context +1", offApp, 22, invalid},
		{"application context -1", offApp, 20, invalid},
		{"application context 0", offApp, 0, invalid},
		{"presentation context 0xFFFF", offPC, 0xFFFF, invalid},
		{"presentation context +1", offPC, 93, invalid},
		{"presentation context -1", offPC, 91, invalid},
		{"presentation context 0", offPC, 0, invalid},
		{"abstract syntax 0xFFFF", offAbs, 0xFFFF, invalid},
		{"abstract syntax +1", offAbs, 18, invalid},
		{"transfer syntax 0xFFFF", offTS, 0xFFFF, invalid},
		{"transfer syntax +1", offTS, 18, invalid},
		{"user info 0xFFFF", offUI, 0xFFFF, invalid},
		{"user info +1", offUI, 59, invalid},
		{"user info -1", offUI, 57, invalid},
		{"max length 0xFFFF", offMaxLen, 0xFFFF, invalid},
		{"max length 3", offMaxLen, 3, invalid},
		{"max length 5", offMaxLen, 5, invalid},
		{"max length 0", offMaxLen, 0, invalid},
		{"implementation class 0xFFFF", offImpl, 0xFFFF, invalid},
		{"implementation class +1", offImpl, 28, invalid},
		{"version name +1", offVersion, 16, invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), capture...)
			if tc.off == offPDU {
				binary.BigEndian.PutUint32(b[tc.off:], tc.val)
			} else {
				binary.BigEndian.PutUint16(b[tc.off:], uint16(tc.val))
			}
			src := &countingReader{r: bytes.NewReader(b)}
			p, err := NewReader(src).Next(16384)
			if err == nil {
				t.Fatalf("no error; decoded %#v", p)
			}
			switch tc.want {
			case unexpectedEOF:
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
				}
			case tooLarge:
				if !errors.Is(err, ErrPDUTooLarge) {
					t.Fatalf("got %v, want ErrPDUTooLarge", err)
				}
				wantAbort(t, err, AbortReasonInvalidParamValue)
				if src.n != HeaderLen {
					t.Fatalf("read %d bytes, want only the header", src.n)
				}
			case invalid:
				wantAbort(t, err, AbortReasonInvalidParamValue)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestDecodeTruncated decodes every proper prefix of a full A-ASSOCIATE-RQ
// body: each must fail, except those that end at the end of a presentation
// context item (a request with fewer contexts and no user information item,
// which is tolerated).
func TestDecodeTruncated(t *testing.T) {
	enc := fullAssociateRQ().Append(nil)
	body := enc[HeaderLen:]
	valid := map[int]bool{}
	for off := associateFixedLen; off < len(body); {
		typ, n := body[off], int(binary.BigEndian.Uint16(body[off+2:]))
		off += itemHeaderLen + n
		if typ == 0x20 {
			valid[off] = true
		}
	}
	if len(valid) != len(fullAssociateRQ().PresentationContexts) {
		t.Fatalf("found %d context ends", len(valid))
	}
	for n := range len(body) {
		_, err := Decode(TypeAssociateRQ, body[:n])
		if valid[n] {
			if err != nil {
				t.Errorf("prefix ending after a context: %v", err)
			}
			continue
		}
		if err == nil {
			t.Errorf("prefix of %d bytes (of %d) decoded without error", n, len(body))
			continue
		}
		wantAbort(t, err, AbortReasonInvalidParamValue)
	}
}
