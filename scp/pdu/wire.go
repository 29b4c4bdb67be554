package pdu

import (
	"encoding/binary"
	"strings"
)

// Limits applied on decode. Anything past them is an *Error with
// AbortReasonInvalidParamValue; none of them is reached by a sane peer.
const (
	// MaxAssociatePDULen bounds the body of an A-ASSOCIATE-RQ/AC/RJ (and of a
	// PDU of unknown type, which is skipped only up to this size).
	MaxAssociatePDULen = 1 << 20
	// DefaultMaxPDataLen is the P-DATA-TF body limit Reader.Next applies
	// when it is passed 0.
	DefaultMaxPDataLen = 16 << 20
	// MaxPresentationContexts bounds the presentation context items of an
	// A-ASSOCIATE-RQ or -AC. Valid IDs are the odd numbers 1..255 (128 of
	// them), but ID parity is not checked on decode, so 256 are let through.
	MaxPresentationContexts = 256
	// MaxTransferSyntaxes bounds the transfer syntax sub-items of one
	// presentation context of an A-ASSOCIATE-RQ.
	MaxTransferSyntaxes = 64
	// MaxRoleSelections bounds the SCP/SCU role selection sub-items (0x54).
	MaxRoleSelections = 256
	// MaxExtendedNegotiations bounds the SOP class extended negotiation sub-items (0x56).
	MaxExtendedNegotiations = 256
	// MaxCommonExtended bounds the SOP class common extended negotiation sub-items (0x57).
	MaxCommonExtended = 256
	// MaxRelatedGeneralSOPClasses bounds the related general SOP class UIDs of one 0x57 sub-item.
	MaxRelatedGeneralSOPClasses = 64
	// MaxUnknownSubItems bounds the unrecognised user information sub-items
	// kept in UserInfo.Unknown.
	MaxUnknownSubItems = 64
)

// Item types of the variable fields of the association PDUs (PS3.8 9.3.2,
// 9.3.3, PS3.7 D.3.3).
const (
	itemApplicationContext  byte = 0x10
	itemPresentationRQ      byte = 0x20
	itemPresentationAC      byte = 0x21
	itemAbstractSyntax      byte = 0x30
	itemTransferSyntax      byte = 0x40
	itemUserInfo            byte = 0x50
	itemMaxLength           byte = 0x51
	itemImplClassUID        byte = 0x52
	itemAsyncOps            byte = 0x53
	itemRoleSelection       byte = 0x54
	itemImplVersionName     byte = 0x55
	itemExtendedNegotiation byte = 0x56
	itemCommonExtended      byte = 0x57
	itemUserIdentityRQ      byte = 0x58
	itemUserIdentityAC      byte = 0x59
)

// Sizes of fixed fields.
const (
	maxItemLen        = 0xFFFF
	aeTitleLen        = 16
	associateFixedLen = 68 // version, reserved, called AE, calling AE, 32 reserved
	itemHeaderLen     = 4  // type, reserved, 2-byte length
	pdvHeaderLen      = 6  // 4-byte item length, context ID, message control header
	sixteenSpaces     = "                "
	uidPadding        = "\x00 "
)

// appendHeader appends a PDU header with the given body length.
func appendHeader(b []byte, t Type, n uint32) []byte {
	b = append(b, byte(t), 0)
	return binary.BigEndian.AppendUint32(b, n)
}

// beginPDU appends a PDU header whose length endPDU fills in, and returns
// the offset of the header.
func beginPDU(b []byte, t Type) ([]byte, int) {
	at := len(b)
	return appendHeader(b, t, 0), at
}

// endPDU back-fills the length of the PDU begun at offset at.
func endPDU(b []byte, at int) []byte {
	n := len(b) - at - HeaderLen
	if uint64(n) > 0xFFFFFFFF {
		panic("pdu: PDU longer than 4 GiB")
	}
	binary.BigEndian.PutUint32(b[at+2:], uint32(n))
	return b
}

// beginItem appends an item header whose length endItem fills in, and
// returns the offset of the header.
func beginItem(b []byte, typ byte) ([]byte, int) {
	at := len(b)
	return append(b, typ, 0, 0, 0), at
}

// endItem back-fills the length of the item begun at offset at. Items have a
// 2-byte length: a longer one is a programming error of the caller, and
// panics rather than putting a corrupt PDU on the wire.
func endItem(b []byte, at int) []byte {
	n := len(b) - at - itemHeaderLen
	if n > maxItemLen {
		panic("pdu: item 0x" + hexByte(b[at]) + " longer than 65535 bytes")
	}
	binary.BigEndian.PutUint16(b[at+2:], uint16(n))
	return b
}

// appendStringItem appends an item whose whole value is s.
func appendStringItem(b []byte, typ byte, s string) []byte {
	b, at := beginItem(b, typ)
	b = append(b, s...)
	return endItem(b, at)
}

// appendLenPrefixed appends a 2-byte length and s, as the UID fields inside
// user information sub-items are encoded.
func appendLenPrefixed[S string | []byte](b []byte, s S) []byte {
	if len(s) > maxItemLen {
		panic("pdu: field longer than 65535 bytes")
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendAE appends an AE title as a 16-byte space-padded field; a longer
// title is cut to 16 bytes.
func appendAE(b []byte, ae string) []byte {
	if len(ae) > aeTitleLen {
		ae = ae[:aeTitleLen]
	}
	b = append(b, ae...)
	return append(b, sixteenSpaces[:aeTitleLen-len(ae)]...)
}

// decodeAE returns an AE title field without its leading spaces and its
// trailing spaces and NULs (some peers pad with NULs).
func decodeAE(b []byte) string {
	return strings.TrimLeft(strings.TrimRight(string(b), uidPadding), " ")
}

// decodeUID returns a UID (or another short string value) without trailing
// NUL or space padding. All trailing padding is stripped, not just one byte,
// so that decoding is idempotent: a UID never contains either byte.
func decodeUID(b []byte) string {
	return strings.TrimRight(string(b), uidPadding)
}

// cloneBytes copies b; an empty b gives nil, so that decoded values compare
// equal whatever the buffer they came from.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func hexByte(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// items walks a sequence of items that have 4-byte headers (type, reserved,
// 2-byte length). where names the parent for error messages.
type items struct {
	b     []byte
	where string
}

// next returns the next item. ok is false at the end of the sequence or on error.
func (it *items) next() (typ byte, data []byte, ok bool, err error) {
	if len(it.b) == 0 {
		return 0, nil, false, nil
	}
	if len(it.b) < itemHeaderLen {
		return 0, nil, false, invalidf("%s: %d trailing bytes are too short for an item header", it.where, len(it.b))
	}
	typ = it.b[0]
	n := int(binary.BigEndian.Uint16(it.b[2:]))
	if n > len(it.b)-itemHeaderLen {
		return 0, nil, false, invalidf("%s: item 0x%02X of length %d overruns its parent (%d bytes left)",
			it.where, typ, n, len(it.b)-itemHeaderLen)
	}
	data = it.b[itemHeaderLen : itemHeaderLen+n]
	it.b = it.b[itemHeaderLen+n:]
	return typ, data, true, nil
}

// fields reads the fixed and length-prefixed fields inside a sub-item. The
// first read past the end sets short and returns zero values, so a decoder
// reads everything and checks short once.
type fields struct {
	b     []byte
	short bool
}

func (f *fields) u8() byte {
	if len(f.b) < 1 {
		f.short = true
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fields) u16() uint16 {
	if len(f.b) < 2 {
		f.short = true
		f.b = nil
		return 0
	}
	v := binary.BigEndian.Uint16(f.b)
	f.b = f.b[2:]
	return v
}

// lenPrefixed reads a 2-byte length and that many bytes.
func (f *fields) lenPrefixed() []byte {
	n := int(f.u16())
	if f.short || n > len(f.b) {
		f.short = true
		f.b = nil
		return nil
	}
	v := f.b[:n]
	f.b = f.b[n:]
	return v
}
