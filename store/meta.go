package store

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
)

// Transfer syntax UIDs this package needs by name.
const (
	implicitVRLittleEndian = "1.2.840.10008.1.2"
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
	explicitVRBigEndian    = "1.2.840.10008.1.2.2"
	deflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	jpipReferencedDeflate  = "1.2.840.10008.1.2.4.95"
)

// File Meta Information tags (PS3.10 Table 7.1-1).
const (
	tagMetaGroupLength  = 0x00020000
	tagMetaVersion      = 0x00020001
	tagMediaSOPClass    = 0x00020002
	tagMediaSOPInstance = 0x00020003
	tagTransferSyntax   = 0x00020010
	tagImplClassUID     = 0x00020012
	tagImplVersionName  = 0x00020013
	tagSourceAETitle    = 0x00020016
	tagSendingAETitle   = 0x00020017
	tagReceivingAETitle = 0x00020018
	tagSendingAddress   = 0x00020027 // Sending Presentation Address
	preambleLen         = 128
	maxUILen, maxAELen  = 64, 16
	maxSHLen            = 16
)

// metaInfo holds the values written into the File Meta Information group.
type metaInfo struct {
	SOPClassUID, SOPInstanceUID, TransferSyntaxUID    string
	ImplementationClassUID, ImplementationVersionName string
	CallingAE, CalledAE                               string
	RemoteAddr                                        string // the peer's "ip:port"
}

// appendFileMeta appends the 128-byte zero preamble, "DICM" and the File Meta
// Information group (Explicit VR Little Endian, with a correct (0002,0000)
// group length) to b. Type 3 elements with empty values are left out.
func appendFileMeta(b []byte, m metaInfo) []byte {
	b = append(b, make([]byte, preambleLen)...)
	b = append(b, "DICM"...)
	b = appendElement(b, tagMetaGroupLength, "UL", []byte{0, 0, 0, 0})
	lenAt := len(b) - 4
	start := len(b)
	b = appendElement(b, tagMetaVersion, "OB", []byte{0x00, 0x01})
	b = appendElement(b, tagMediaSOPClass, "UI", uiValue(m.SOPClassUID))
	b = appendElement(b, tagMediaSOPInstance, "UI", uiValue(m.SOPInstanceUID))
	b = appendElement(b, tagTransferSyntax, "UI", uiValue(m.TransferSyntaxUID))
	b = appendElement(b, tagImplClassUID, "UI", uiValue(m.ImplementationClassUID))
	if v := textValue(m.ImplementationVersionName, maxSHLen); len(v) > 0 {
		b = appendElement(b, tagImplVersionName, "SH", v)
	}
	if v := textValue(m.CallingAE, maxAELen); len(v) > 0 {
		b = appendElement(b, tagSourceAETitle, "AE", v)
		b = appendElement(b, tagSendingAETitle, "AE", v)
	}
	if v := textValue(m.CalledAE, maxAELen); len(v) > 0 {
		b = appendElement(b, tagReceivingAETitle, "AE", v)
	}
	if v := presentationAddress(m.RemoteAddr); len(v) > 0 {
		b = appendElement(b, tagSendingAddress, "UR", v)
	}
	binary.LittleEndian.PutUint32(b[lenAt:], uint32(len(b)-start))
	return b
}

// longVR reports whether an explicit VR element of this VR has a 2-byte
// reserved field and a 4-byte value length (PS3.5 7.1.2).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// appendElement appends one Explicit VR Little Endian element. The value must
// already be padded as its VR requires and be at most 0xfffe bytes long for
// short-length VRs (values here are bounded by their callers).
func appendElement(b []byte, tag uint32, vr string, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(tag>>16))
	b = binary.LittleEndian.AppendUint16(b, uint16(tag))
	b = append(b, vr...)
	if longVR(vr) {
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	}
	return append(b, v...)
}

// uiValue returns a UID value: surrounding spaces and NULs removed, at most
// 64 bytes, padded with a NUL to even length.
func uiValue(s string) []byte {
	s = strings.Trim(s, " \x00")
	if len(s) > maxUILen {
		s = s[:maxUILen]
	}
	v := []byte(s)
	if len(v)%2 == 1 {
		v = append(v, 0)
	}
	return v
}

// textValue returns an AE or SH value: only printable ASCII other than the
// value delimiter '\' is kept (the inputs come from the peer), surrounding
// spaces are removed, at most max bytes, padded with a space to even length.
func textValue(s string, max int) []byte {
	v := make([]byte, 0, len(s)+1)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '\\' {
			v = append(v, c)
		}
	}
	v = []byte(strings.TrimSpace(string(v)))
	if len(v) > max {
		v = []byte(strings.TrimSpace(string(v[:max])))
	}
	if len(v)%2 == 1 {
		v = append(v, ' ')
	}
	return v
}

// presentationAddress returns the Sending Presentation Address value
// (PS3.10 7.1.1.1) of a peer at addr ("ip:port"): a "dicom" URI such as
// dicom://192.0.2.7:40123 or dicom://[2001:db8::7]:104, padded with a space
// to even length; nil when addr is not an IP address and port.
func presentationAddress(addr string) []byte {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) == nil {
		return nil
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return nil
	}
	v := []byte(addressScheme + net.JoinHostPort(host, port))
	if len(v)%2 == 1 {
		v = append(v, ' ')
	}
	return v
}

// addressScheme begins a presentation address of the DICOM Upper Layer
// protocol over TCP.
const addressScheme = "dicom://"

// remoteAddrOf is presentationAddress backwards: the "ip:port" of a
// Sending Presentation Address value, or "" when it is not one this
// package writes.
func remoteAddrOf(uri string) string {
	rest, ok := strings.CutPrefix(uri, addressScheme)
	if !ok {
		return ""
	}
	if presentationAddress(rest) == nil {
		return ""
	}
	return rest
}
