package apptest

import (
	"encoding/binary"
	"fmt"
)

// CTImageStorage is the SOP Class UID of CT Image Storage.
const CTImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// ImplicitElement appends one data element in Implicit VR Little Endian to
// b: tag, 32-bit length, value, padded to an even length with pad.
func ImplicitElement(b []byte, tag uint32, value string, pad byte) []byte {
	v := []byte(value)
	if len(v)%2 == 1 {
		v = append(v, pad)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(tag>>16))
	b = binary.LittleEndian.AppendUint16(b, uint16(tag))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// CT describes a small generated CT Image Storage instance. Empty strings
// and a zero InstanceNumber leave their element out.
type CT struct {
	SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID string
	PatientID, PatientName                              string
	StudyDate, AccessionNumber                          string
	InstanceNumber                                      int
	PixelBytes                                          int // length of the (zero) pixel data
}

// DataSet returns the instance's data set in Implicit VR Little Endian.
func (c CT) DataSet() []byte {
	number := ""
	if c.InstanceNumber != 0 {
		number = fmt.Sprint(c.InstanceNumber)
	}
	var b []byte
	for _, e := range []struct {
		tag   uint32
		value string
	}{
		{0x00080016, CTImageStorage},
		{0x00080018, c.SOPInstanceUID},
		{0x00080020, c.StudyDate},
		{0x00080050, c.AccessionNumber},
		{0x00080060, "CT"},
		{0x00100010, c.PatientName},
		{0x00100020, c.PatientID},
		{0x0020000D, c.StudyInstanceUID},
		{0x0020000E, c.SeriesInstanceUID},
		{0x00200013, number},
	} {
		if e.value != "" {
			b = ImplicitElement(b, e.tag, e.value, 0)
		}
	}
	return ImplicitElement(b, 0x7FE00010, string(make([]byte, c.PixelBytes)), 0)
}
