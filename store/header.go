package store

import (
	"fmt"
	"io"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/dicominbox/dicominbox/store/charset"
)

// Header holds the values Ingest reads from the top level of a data set,
// decoded to UTF-8 by its Specific Character Set (store/charset), surrounding spaces and NULs removed, multiple values
// joined with '\'. Absent and empty elements both give "".
type Header struct {
	SOPClassUID, SOPInstanceUID         string
	StudyInstanceUID, SeriesInstanceUID string
	PatientID, PatientName              string
	StudyDate, StudyTime                string
	Modality, AccessionNumber           string
	StudyDescription, SeriesDescription string
	SeriesNumber, InstanceNumber        string
	SpecificCharacterSet                string
	PatientBirthDate, PatientSex        string
	NumberOfFrames                      string
	StudyID, ReferringPhysicianName     string
	BodyPartExamined                    string
}

// headerFields lists the header elements in ascending tag order, with the
// VR they are re-encoded with for the library and where their value goes.
var headerFields = [...]struct {
	tag   tag.Tag
	vr    string
	field func(*Header) *string
}{
	{tag.SpecificCharacterSet, "CS", func(h *Header) *string { return &h.SpecificCharacterSet }},
	{tag.SOPClassUID, "UI", func(h *Header) *string { return &h.SOPClassUID }},
	{tag.SOPInstanceUID, "UI", func(h *Header) *string { return &h.SOPInstanceUID }},
	{tag.StudyDate, "DA", func(h *Header) *string { return &h.StudyDate }},
	{tag.StudyTime, "TM", func(h *Header) *string { return &h.StudyTime }},
	{tag.AccessionNumber, "SH", func(h *Header) *string { return &h.AccessionNumber }},
	{tag.Modality, "CS", func(h *Header) *string { return &h.Modality }},
	{tag.ReferringPhysicianName, "PN", func(h *Header) *string { return &h.ReferringPhysicianName }},
	{tag.StudyDescription, "LO", func(h *Header) *string { return &h.StudyDescription }},
	{tag.SeriesDescription, "LO", func(h *Header) *string { return &h.SeriesDescription }},
	{tag.PatientName, "PN", func(h *Header) *string { return &h.PatientName }},
	{tag.PatientID, "LO", func(h *Header) *string { return &h.PatientID }},
	{tag.PatientBirthDate, "DA", func(h *Header) *string { return &h.PatientBirthDate }},
	{tag.PatientSex, "CS", func(h *Header) *string { return &h.PatientSex }},
	{tag.BodyPartExamined, "CS", func(h *Header) *string { return &h.BodyPartExamined }},
	{tag.StudyInstanceUID, "UI", func(h *Header) *string { return &h.StudyInstanceUID }},
	{tag.SeriesInstanceUID, "UI", func(h *Header) *string { return &h.SeriesInstanceUID }},
	{tag.StudyID, "SH", func(h *Header) *string { return &h.StudyID }},
	{tag.SeriesNumber, "IS", func(h *Header) *string { return &h.SeriesNumber }},
	{tag.InstanceNumber, "IS", func(h *Header) *string { return &h.InstanceNumber }},
	{tag.NumberOfFrames, "IS", func(h *Header) *string { return &h.NumberOfFrames }},
}

const numFields = len(headerFields)

// fieldIndex returns the index in headerFields of a tag, or -1.
func fieldIndex(t uint32) int {
	for i := range headerFields {
		if headerFields[i].tag.Uint32() == t {
			return i
		}
	}
	return -1
}

// readHeader scans the data set stored at [off, off+size) of f, framed as the
// transfer syntax ts says, and decodes the header values. buf is scratch
// space of at least maxRead bytes. It returns ErrCannotUnderstand when not a
// single element could be parsed; otherwise a non-nil res.err tells that the
// data set is malformed after its first elements.
func readHeader(f io.ReaderAt, off, size int64, ts string, buf []byte) (Header, scanResult, error) {
	sx := syntaxOf(ts)
	var src source = newAtSource(f, off, size, buf)
	if sx.deflated {
		src = newFlateSource(io.NewSectionReader(f, off, size))
	}
	res := scanHeader(src, sx)
	if res.understood == 0 {
		why := "empty data set"
		if res.err != nil {
			why = res.err.Error()
		} else if size > 0 {
			why = "no data element"
		}
		return Header{}, res, fmt.Errorf("%w: %s", ErrCannotUnderstand, why)
	}
	return decodeHeader(&res), res, nil
}

// decodeHeader decodes the raw header values to UTF-8 by the data set's
// Specific Character Set (store/charset). The dicom library is not used for
// this: its decoder mis-decodes Korean ISO 2022 IR 149 and mixed
// ISO 2022 IR 13\IR 87, and its parser allocates a value at its declared
// length before checking it against the data (a 200-byte data set can make
// it allocate gigabytes), so the bounded scanner above finds the values and
// the charset package decodes them.
func decodeHeader(res *scanResult) Header {
	var h Header
	var scs string
	if v := res.values[fieldIndex(tag.SpecificCharacterSet.Uint32())]; v != nil {
		scs = string(v)
	}
	dec := charset.New(scs)
	for i, v := range res.values {
		if v != nil {
			*headerFields[i].field(&h) = dec.Decode(v, headerFields[i].vr)
		}
	}
	h.SOPClassUID, h.SOPInstanceUID = trimUID(h.SOPClassUID), trimUID(h.SOPInstanceUID)
	h.StudyInstanceUID, h.SeriesInstanceUID = trimUID(h.StudyInstanceUID), trimUID(h.SeriesInstanceUID)
	h.SpecificCharacterSet = strings.Trim(h.SpecificCharacterSet, " ")
	return h
}

// trimUID removes the padding a UID may carry.
func trimUID(s string) string { return strings.Trim(s, " \x00") }
