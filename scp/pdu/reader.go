package pdu

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Decode parses the body of one whole PDU of type t: the bytes that follow
// its 6-byte header, len(body) being the header's length field.
//
// It returns a pointer: *AssociateRQ, *AssociateAC, *AssociateRJ, *PDataTF,
// *ReleaseRQ, *ReleaseRP or *Abort. The PDVs of a *PDataTF alias body; the
// association PDUs never do (their strings and byte slices are copies).
//
// Errors are *Error values whose AbortReason tells which A-ABORT to send: an
// unknown t gives AbortReasonUnrecognizedPDU, a malformed body
// AbortReasonInvalidParamValue. Decode applies no size limit of its own
// beyond the count limits (MaxPresentationContexts and the like); Reader.Next
// bounds the body before reading it.
func Decode(t Type, body []byte) (PDU, error) {
	switch t {
	case TypeAssociateRQ:
		return nilIfErr(decodeAssociateRQ(body))
	case TypeAssociateAC:
		return nilIfErr(decodeAssociateAC(body))
	case TypeAssociateRJ:
		return nilIfErr(decodeAssociateRJ(body))
	case TypePDataTF:
		p := &PDataTF{}
		if err := decodePData(p, body); err != nil {
			return nil, err
		}
		return p, nil
	case TypeReleaseRQ:
		if err := checkFixedBody(t, len(body)); err != nil {
			return nil, err
		}
		return &ReleaseRQ{}, nil
	case TypeReleaseRP:
		if err := checkFixedBody(t, len(body)); err != nil {
			return nil, err
		}
		return &ReleaseRP{}, nil
	case TypeAbort:
		return nilIfErr(decodeAbort(body))
	}
	return nil, unrecognized(t)
}

// nilIfErr converts a typed result to a PDU, making sure an error comes with
// a nil interface rather than a typed nil pointer.
func nilIfErr[P PDU](p P, err error) (PDU, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

func unrecognized(t Type) error {
	return errorf(AbortReasonUnrecognizedPDU, "unrecognized PDU type 0x%02X", byte(t))
}

// Reader reads PDUs from a byte stream such as a net.Conn. It reads the
// header, then the body, with io.ReadFull and never past the PDU's end, into
// one buffer that it reuses and grows to the largest PDU seen.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	r     io.Reader
	hdr   [HeaderLen]byte
	buf   []byte
	pdata PDataTF // returned by Next for every P-DATA-TF, its Items reused
}

// NewReader returns a Reader reading from r. Give it the connection itself:
// it needs no buffering.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r}
}

// Next reads the next PDU and decodes it as Decode does.
//
// Limits are checked on the header's length field before anything is read
// or allocated: a P-DATA-TF body may be at most maxPDataLen bytes (0 selects
// DefaultMaxPDataLen), an A-ASSOCIATE-RQ/AC body at most MaxAssociatePDULen,
// and A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT bodies must be exactly 4
// bytes. A length past its limit gives an error wrapping ErrPDUTooLarge; a
// wrong fixed length an *Error. A PDU of unknown type gives an *Error with
// AbortReasonUnrecognizedPDU; its body is read and discarded first when it
// is at most MaxAssociatePDULen long, and left unread otherwise.
//
// For a P-DATA-TF, Next returns the same *PDataTF every time, and neither it
// nor its PDVs' Data (which alias the Reader's buffer) are valid after the
// next call to Next: in steady state reading P-DATA allocates nothing.
//
// If the stream ends before the first byte of a header, Next returns io.EOF
// itself. If it ends inside a header or a body the error wraps
// io.ErrUnexpectedEOF. Other read errors (timeouts, closed connections) are
// returned wrapped, so errors.Is still matches them.
func (r *Reader) Next(maxPDataLen uint32) (PDU, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("pdu: reading PDU header: %w", err)
	}
	t := Type(r.hdr[0])
	n := binary.BigEndian.Uint32(r.hdr[2:])
	if t < TypeAssociateRQ || t > TypeAbort {
		if n <= MaxAssociatePDULen {
			// Skip the body through io.Discard's pooled buffer, not ours.
			_, _ = io.CopyN(io.Discard, r.r, int64(n))
		}
		return nil, unrecognized(t)
	}
	if err := checkLength(t, n, maxPDataLen); err != nil {
		return nil, err
	}
	if uint64(cap(r.buf)) < uint64(n) {
		r.buf = make([]byte, n)
	}
	body := r.buf[:n]
	if _, err := io.ReadFull(r.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("pdu: reading %v body of %d bytes: %w", t, n, err)
	}
	if t == TypePDataTF {
		r.pdata.Items = r.pdata.Items[:0] // old PDVs only alias r.buf: nothing to clear
		if err := decodePData(&r.pdata, body); err != nil {
			return nil, err
		}
		return &r.pdata, nil
	}
	return Decode(t, body)
}

// checkLength checks the length field n of a PDU of known type t against
// its limit.
func checkLength(t Type, n, maxPDataLen uint32) error {
	limit := uint32(MaxAssociatePDULen)
	switch t {
	case TypePDataTF:
		limit = maxPDataLen
		if limit == 0 {
			limit = DefaultMaxPDataLen
		}
	case TypeAssociateRJ, TypeReleaseRQ, TypeReleaseRP, TypeAbort:
		if n != fixedBodyLen {
			return invalidf("%v: length field %d, want %d", t, n, fixedBodyLen)
		}
		return nil
	}
	if n > limit {
		return fmt.Errorf("%w: %v body of %d bytes exceeds the limit of %d", ErrPDUTooLarge, t, n, limit)
	}
	return nil
}
