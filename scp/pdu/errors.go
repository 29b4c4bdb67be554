package pdu

import (
	"errors"
	"fmt"
)

// Error is a decoding error. AbortReason is the reason of the A-ABORT
// (source 2, service provider) a provider should send when it meets the
// error, one of the AbortReason* constants.
//
// Decoding functions return either an *Error, an error wrapping one (use
// errors.As, or AbortReasonFor), or an I/O error of the underlying reader.
type Error struct {
	AbortReason byte
	Msg         string
}

// Error implements the error interface.
func (e *Error) Error() string { return "pdu: " + e.Msg }

// ErrPDUTooLarge is wrapped by the error Reader.Next returns when the length
// field of a PDU exceeds the limit for its type. errors.Is(err, ErrPDUTooLarge)
// reports it, and errors.As finds this *Error with its abort reason.
var ErrPDUTooLarge = &Error{AbortReason: AbortReasonInvalidParamValue, Msg: "PDU too large"}

// AbortReasonFor returns the A-ABORT reason for an error returned by Decode or
// Reader.Next, and false when err is not a protocol error (an I/O error, a
// closed connection, a timeout, or nil), in which case no A-ABORT is due.
func AbortReasonFor(err error) (reason byte, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.AbortReason, true
	}
	return 0, false
}

// errorf returns an *Error with the given abort reason. It always returns a
// non-nil error interface.
func errorf(reason byte, format string, args ...any) error {
	return &Error{AbortReason: reason, Msg: fmt.Sprintf(format, args...)}
}

// invalidf returns an *Error with AbortReasonInvalidParamValue.
func invalidf(format string, args ...any) error {
	return errorf(AbortReasonInvalidParamValue, format, args...)
}

// String returns the name PS3.8 gives the PDU type, for example "A-ASSOCIATE-RQ".
func (t Type) String() string {
	switch t {
	case TypeAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case TypeAssociateAC:
		return "A-ASSOCIATE-AC"
	case TypeAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case TypePDataTF:
		return "P-DATA-TF"
	case TypeReleaseRQ:
		return "A-RELEASE-RQ"
	case TypeReleaseRP:
		return "A-RELEASE-RP"
	case TypeAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("PDU type 0x%02X", byte(t))
}
