package dimse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error Decode returns.
var ErrMalformed = errors.New("dimse: malformed command set")

// Decode decodes a whole command set (Implicit VR Little Endian, group 0000).
//
// b is bounded by the caller; Decode reads nothing past it and allocates only
// for the values it keeps. Every element must be in group 0000 and have a
// defined length that fits in what remains. Elements may come in any order
// (PS3.5 7.1 requires ascending order, but a receiver gains nothing by
// refusing a sender that gets it wrong), but a known element may occur only
// once. Unknown group-0000 elements are skipped. US values must be 2 bytes
// long, AT values a multiple of 4. Trailing NULs and spaces are stripped from
// UIDs and text (and leading spaces from AE titles and the ErrorComment); the
// ErrorComment is cut to MaxErrorCommentLen bytes. The value of
// CommandGroupLength is not checked against the bytes that follow it.
//
// A command set without CommandField is an error. One without
// CommandDataSetType decodes with CommandDataSetType = NoDataSet, and
// Has(ElemCommandDataSetType) reports false.
func Decode(b []byte) (*Command, error) {
	c := &Command{}
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return nil, fmt.Errorf("%w: %d bytes at offset %d are too few for an element header",
				ErrMalformed, len(b)-off, off)
		}
		group := binary.LittleEndian.Uint16(b[off:])
		elem := binary.LittleEndian.Uint16(b[off+2:])
		n := binary.LittleEndian.Uint32(b[off+4:])
		if group != 0x0000 {
			return nil, fmt.Errorf("%w: element (%04X,%04X) at offset %d is not in group 0000",
				ErrMalformed, group, elem, off)
		}
		off += 8
		if n == 0xFFFFFFFF {
			return nil, elemErr(elem, "undefined length")
		}
		if uint64(n) > uint64(len(b)-off) {
			return nil, elemErr(elem, "length %d exceeds the %d bytes that remain", n, len(b)-off)
		}
		v := b[off : off+int(n)]
		off += int(n)
		if err := c.set(elem, v); err != nil {
			return nil, err
		}
	}
	if !c.Has(ElemCommandField) {
		return nil, elemErr(ElemCommandField, "CommandField is missing")
	}
	if !c.Has(ElemCommandDataSetType) {
		c.CommandDataSetType = NoDataSet
	}
	return c, nil
}

// elemErr returns an ErrMalformed error about element (0000,elem).
func elemErr(elem uint16, format string, args ...any) error {
	return fmt.Errorf("%w: element (0000,%04X): %s", ErrMalformed, elem, fmt.Sprintf(format, args...))
}

// set stores the value v of element (0000,elem).
func (c *Command) set(elem uint16, v []byte) error {
	bit := bitOf(elem)
	if bit == 0 {
		return nil // an element Command does not keep
	}
	if c.present&bit != 0 {
		return elemErr(elem, "occurs twice")
	}
	c.present |= bit

	var us *uint16
	switch elem {
	case ElemCommandGroupLength:
		if len(v) != 4 {
			return elemErr(elem, "UL value has length %d, want 4", len(v))
		}
	case ElemAffectedSOPClassUID:
		c.AffectedSOPClassUID = uid(v)
	case ElemRequestedSOPClassUID:
		c.RequestedSOPClassUID = uid(v)
	case ElemAffectedSOPInstanceUID:
		c.AffectedSOPInstanceUID = uid(v)
	case ElemRequestedSOPInstanceUID:
		c.RequestedSOPInstanceUID = uid(v)
	case ElemMoveDestination:
		c.MoveDestination = text(v)
	case ElemMoveOriginatorAET:
		c.MoveOriginatorAET = text(v)
	case ElemErrorComment:
		v = trimText(v)
		if len(v) > MaxErrorCommentLen {
			v = trimText(v[:MaxErrorCommentLen])
		}
		c.ErrorComment = string(v)
	case ElemOffendingElement:
		if len(v)%4 != 0 {
			return elemErr(elem, "AT value has length %d, not a multiple of 4", len(v))
		}
		c.OffendingElements = make([]uint32, 0, len(v)/4)
		for i := 0; i < len(v); i += 4 {
			g, e := binary.LittleEndian.Uint16(v[i:]), binary.LittleEndian.Uint16(v[i+2:])
			c.OffendingElements = append(c.OffendingElements, uint32(g)<<16|uint32(e))
		}
	case ElemCommandField:
		us = &c.CommandField
	case ElemMessageID:
		us = &c.MessageID
	case ElemMessageIDBeingRespondedTo:
		us = &c.MessageIDBeingRespondedTo
	case ElemPriority:
		us = &c.Priority
	case ElemCommandDataSetType:
		us = &c.CommandDataSetType
	case ElemStatus:
		us = &c.Status
	case ElemErrorID:
		us = &c.ErrorID
	case ElemMoveOriginatorMessageID:
		us = &c.MoveOriginatorMessageID
	}
	if us != nil {
		if len(v) != 2 {
			return elemErr(elem, "US value has length %d, want 2", len(v))
		}
		*us = binary.LittleEndian.Uint16(v)
	}
	return nil
}

// uid returns a UI value without its trailing NUL and space padding.
func uid(v []byte) string {
	return string(bytes.TrimRight(v, "\x00 "))
}

// text returns an AE or LO value without leading spaces and trailing padding.
func text(v []byte) string {
	return string(trimText(v))
}

// trimText strips leading spaces and trailing spaces and NULs.
func trimText(v []byte) []byte {
	return bytes.TrimLeft(bytes.TrimRight(v, "\x00 "), " ")
}
