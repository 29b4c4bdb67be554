package dimse

import "encoding/binary"

// Append encodes c as a command set onto b and returns the result: Implicit VR
// Little Endian, (0000,0000) CommandGroupLength first, then the elements in
// ascending tag order.
//
// An element is written when its command needs it (CommandField and
// CommandDataSetType always; MessageID in requests; MessageIDBeingRespondedTo
// and Status in responses and MessageIDBeingRespondedTo in C-CANCEL-RQ;
// Priority in C-STORE, C-FIND, C-GET and C-MOVE requests), when it has a
// non-zero value, or when Has reports it. UIDs are padded to even length with
// NUL, AE titles and the ErrorComment with a space; the ErrorComment is cut to
// MaxErrorCommentLen bytes.
func (c *Command) Append(b []byte) []byte {
	resp := c.IsResponse()
	start := len(b)
	b = appendHeader(b, ElemCommandGroupLength, 4)
	b = append(b, 0, 0, 0, 0) // patched below

	b = c.appendUID(b, ElemAffectedSOPClassUID, c.AffectedSOPClassUID)
	b = c.appendUID(b, ElemRequestedSOPClassUID, c.RequestedSOPClassUID)
	b = appendUS(b, ElemCommandField, c.CommandField)
	if c.wants(ElemMessageID, (!resp && c.CommandField != CCancelRQ) || c.MessageID != 0) {
		b = appendUS(b, ElemMessageID, c.MessageID)
	}
	if c.wants(ElemMessageIDBeingRespondedTo, resp || c.CommandField == CCancelRQ || c.MessageIDBeingRespondedTo != 0) {
		b = appendUS(b, ElemMessageIDBeingRespondedTo, c.MessageIDBeingRespondedTo)
	}
	b = c.appendText(b, ElemMoveDestination, c.MoveDestination)
	if c.wants(ElemPriority, c.Priority != 0 || hasPriority(c.CommandField)) {
		b = appendUS(b, ElemPriority, c.Priority)
	}
	b = appendUS(b, ElemCommandDataSetType, c.CommandDataSetType)
	if c.wants(ElemStatus, resp || c.Status != 0) {
		b = appendUS(b, ElemStatus, c.Status)
	}
	if c.wants(ElemOffendingElement, len(c.OffendingElements) > 0) {
		b = appendHeader(b, ElemOffendingElement, 4*len(c.OffendingElements))
		for _, t := range c.OffendingElements {
			b = binary.LittleEndian.AppendUint16(b, uint16(t>>16))
			b = binary.LittleEndian.AppendUint16(b, uint16(t))
		}
	}
	comment := c.ErrorComment
	if len(comment) > MaxErrorCommentLen {
		comment = comment[:MaxErrorCommentLen]
	}
	b = c.appendText(b, ElemErrorComment, comment)
	if c.wants(ElemErrorID, c.ErrorID != 0) {
		b = appendUS(b, ElemErrorID, c.ErrorID)
	}
	b = c.appendUID(b, ElemAffectedSOPInstanceUID, c.AffectedSOPInstanceUID)
	b = c.appendUID(b, ElemRequestedSOPInstanceUID, c.RequestedSOPInstanceUID)
	b = c.appendText(b, ElemMoveOriginatorAET, c.MoveOriginatorAET)
	if c.wants(ElemMoveOriginatorMessageID, c.MoveOriginatorMessageID != 0) {
		b = appendUS(b, ElemMoveOriginatorMessageID, c.MoveOriginatorMessageID)
	}

	binary.LittleEndian.PutUint32(b[start+8:], uint32(len(b)-start-12))
	return b
}

// hasPriority reports whether requests with this command field carry (0000,0700).
func hasPriority(field uint16) bool {
	switch field {
	case CStoreRQ, CFindRQ, CGetRQ, CMoveRQ:
		return true
	}
	return false
}

// wants reports whether elem is to be written: needed says so, or Has does.
func (c *Command) wants(elem uint16, needed bool) bool {
	return needed || c.Has(elem)
}

// appendHeader appends an implicit-VR element header: tag (0000,elem) and length.
func appendHeader(b []byte, elem uint16, n int) []byte {
	b = append(b, 0, 0, byte(elem), byte(elem>>8))
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// appendUS appends a US element.
func appendUS(b []byte, elem, v uint16) []byte {
	b = appendHeader(b, elem, 2)
	return binary.LittleEndian.AppendUint16(b, v)
}

// appendUID appends a UI element padded with NUL, if set.
func (c *Command) appendUID(b []byte, elem uint16, s string) []byte {
	if !c.wants(elem, s != "") {
		return b
	}
	return appendPadded(b, elem, s, 0)
}

// appendText appends an AE or LO element padded with a space, if set.
func (c *Command) appendText(b []byte, elem uint16, s string) []byte {
	if !c.wants(elem, s != "") {
		return b
	}
	return appendPadded(b, elem, s, ' ')
}

// appendPadded appends a string element padded to even length with pad.
func appendPadded(b []byte, elem uint16, s string, pad byte) []byte {
	n := len(s) + len(s)&1
	b = appendHeader(b, elem, n)
	b = append(b, s...)
	if len(s)&1 == 1 {
		b = append(b, pad)
	}
	return b
}
