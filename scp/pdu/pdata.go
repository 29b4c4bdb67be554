package pdu

import "encoding/binary"

// Message control header bits of a PDV (PS3.8 E.2).
const (
	pdvCommand byte = 1 << 0 // 1: command information, 0: data set
	pdvLast    byte = 1 << 1 // 1: last fragment
)

// PDataHeaderLen is the number of bytes AppendPDataHeader writes: the PDU
// header, the 4-byte PDV item length, the context ID and the message
// control header.
const PDataHeaderLen = HeaderLen + pdvHeaderLen

// Type returns TypePDataTF.
func (PDataTF) Type() Type { return TypePDataTF }

// Append encodes the P-DATA-TF with all its PDVs onto b. It panics if the
// PDU would be longer than 4 GiB.
func (p PDataTF) Append(b []byte) []byte {
	var n uint64
	for i := range p.Items {
		n += pdvHeaderLen + uint64(len(p.Items[i].Data))
	}
	if n > 0xFFFFFFFF {
		panic("pdu: P-DATA-TF longer than 4 GiB")
	}
	b = appendHeader(b, TypePDataTF, uint32(n))
	for i := range p.Items {
		v := &p.Items[i]
		b = appendPDVHeader(b, v.ContextID, v.Command, v.Last, len(v.Data))
		b = append(b, v.Data...)
	}
	return b
}

// AppendPDataHeader appends the first PDataHeaderLen bytes of a P-DATA-TF
// that carries a single PDV of dataLen bytes: the PDU header, the PDV item
// length, the presentation context ID and the message control header. The
// caller sends the dataLen payload bytes right after it, for example with
// net.Buffers{hdr, payload}, so a large fragment is never copied.
//
// It panics if dataLen is negative or the PDU would be longer than 4 GiB.
func AppendPDataHeader(b []byte, contextID byte, command, last bool, dataLen int) []byte {
	if dataLen < 0 || uint64(dataLen) > 0xFFFFFFFF-pdvHeaderLen {
		panic("pdu: AppendPDataHeader: data length out of range")
	}
	b = appendHeader(b, TypePDataTF, uint32(pdvHeaderLen+dataLen))
	return appendPDVHeader(b, contextID, command, last, dataLen)
}

// appendPDVHeader appends the PDV item length, context ID and message
// control header of a PDV with dataLen bytes of data.
func appendPDVHeader(b []byte, contextID byte, command, last bool, dataLen int) []byte {
	var mch byte
	if command {
		mch |= pdvCommand
	}
	if last {
		mch |= pdvLast
	}
	b = binary.BigEndian.AppendUint32(b, uint32(2+dataLen))
	return append(b, contextID, mch)
}

// decodePData appends the PDVs of a P-DATA-TF body to p.Items. Each PDV's
// Data aliases body and has its capacity cut to its length, so appending to
// one never overwrites the next. The reserved bits of the message control
// header are not tested (PS3.8 E.2).
func decodePData(p *PDataTF, body []byte) error {
	if len(body) == 0 {
		return invalidf("P-DATA-TF without a PDV item")
	}
	for len(body) > 0 {
		if len(body) < pdvHeaderLen {
			return invalidf("P-DATA-TF: %d trailing bytes are too short for a PDV item", len(body))
		}
		n := binary.BigEndian.Uint32(body)
		if n < 2 {
			return invalidf("P-DATA-TF: PDV item length %d is shorter than its 2-byte header", n)
		}
		if uint64(n) > uint64(len(body)-4) {
			return invalidf("P-DATA-TF: PDV item length %d overruns the PDU (%d bytes left)", n, len(body)-4)
		}
		id := body[4]
		if id&1 == 0 {
			return invalidf("P-DATA-TF: PDV with presentation context ID %d, which is not odd", id)
		}
		mch := body[5]
		end := 4 + int(n)
		p.Items = append(p.Items, PDV{
			ContextID: id,
			Command:   mch&pdvCommand != 0,
			Last:      mch&pdvLast != 0,
			Data:      body[pdvHeaderLen:end:end],
		})
		body = body[end:]
	}
	return nil
}
