package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Header holds the values Ingest reads from the top level of a data set, as
// the dicom library decodes them (Specific Character Set applied where the
// library supports it), surrounding spaces and NULs removed, multiple values
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
	{tag.StudyDescription, "LO", func(h *Header) *string { return &h.StudyDescription }},
	{tag.SeriesDescription, "LO", func(h *Header) *string { return &h.SeriesDescription }},
	{tag.PatientName, "PN", func(h *Header) *string { return &h.PatientName }},
	{tag.PatientID, "LO", func(h *Header) *string { return &h.PatientID }},
	{tag.PatientBirthDate, "DA", func(h *Header) *string { return &h.PatientBirthDate }},
	{tag.PatientSex, "CS", func(h *Header) *string { return &h.PatientSex }},
	{tag.StudyInstanceUID, "UI", func(h *Header) *string { return &h.StudyInstanceUID }},
	{tag.SeriesInstanceUID, "UI", func(h *Header) *string { return &h.SeriesInstanceUID }},
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

// decodeHeader has the dicom library decode the raw values found by the
// scanner. They are re-encoded as a tiny Part-10 stream in Explicit VR Little
// Endian (all header values are character strings, whose bytes do not depend
// on the byte order), so the library needs neither the transfer syntax nor
// its own guessing. An element the library fails on (or panics on) is left
// out and the rest decoded again.
func decodeHeader(res *scanResult) Header {
	var h Header
	include := res.values
	for range numFields + 1 {
		elems, failed := libraryParse(include)
		for _, e := range elems {
			if i := fieldIndex(e.Tag.Uint32()); i >= 0 {
				*headerFields[i].field(&h) = elementString(e)
			}
		}
		if failed < 0 {
			break
		}
		include[failed] = nil
	}
	return h
}

// libraryParse parses the present values with the library. It returns the
// parsed elements and the index of the field it failed on, or -1.
func libraryParse(values [numFields][]byte) (elems []*dicom.Element, failed int) {
	b := appendFileMeta(nil, metaInfo{TransferSyntaxUID: explicitVRLittleEndian})
	var order []int
	for i, v := range values {
		if v != nil {
			b = appendElement(b, headerFields[i].tag.Uint32(), headerFields[i].vr, v)
			order = append(order, i)
		}
	}
	failed = -1
	defer func() {
		if recover() != nil && len(elems) < len(order) {
			failed = order[len(elems)]
		}
	}()
	p, err := dicom.NewParser(bytes.NewReader(b), int64(len(b)), nil,
		dicom.SkipPixelData(), dicom.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return nil, -1
	}
	for len(elems) < len(order) {
		e, err := p.Next()
		if err != nil {
			if errors.Is(err, dicom.ErrorEndOfDICOM) || errors.Is(err, io.EOF) {
				return elems, -1
			}
			return elems, order[len(elems)]
		}
		elems = append(elems, e)
	}
	return elems, -1
}

// elementString returns the values of a string element, trimmed, joined
// with '\'.
func elementString(e *dicom.Element) string {
	if e.Value == nil || e.Value.ValueType() != dicom.Strings {
		return ""
	}
	vs, ok := e.Value.GetValue().([]string)
	if !ok {
		return ""
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.Trim(v, " \x00")
	}
	return strings.Join(out, `\`)
}

// trimUID removes the padding a UID may carry.
func trimUID(s string) string { return strings.Trim(s, " \x00") }
