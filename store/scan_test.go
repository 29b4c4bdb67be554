package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
)

func scanBytes(ds []byte, ts string) (Header, scanResult, error) {
	return readHeader(bytes.NewReader(ds), 0, int64(len(ds)), ts, make([]byte, headerWindow))
}

// seq wraps items into an undefined-length sequence element of the syntax.
func seq(ts string, tag uint32, items ...[]byte) []byte {
	sx := syntaxOf(ts)
	bo := sx.bo.(binary.AppendByteOrder)
	b := bo.AppendUint16(nil, uint16(tag>>16))
	b = bo.AppendUint16(b, uint16(tag))
	if sx.explicit {
		b = append(b, "SQ\x00\x00"...)
	}
	b = bo.AppendUint32(b, undefinedLen)
	for _, it := range items {
		b = bo.AppendUint16(b, 0xfffe)
		b = bo.AppendUint16(b, 0xe000)
		b = bo.AppendUint32(b, undefinedLen)
		b = append(b, it...)
		b = bo.AppendUint16(b, 0xfffe)
		b = bo.AppendUint16(b, 0xe00d)
		b = bo.AppendUint32(b, 0)
	}
	b = bo.AppendUint16(b, 0xfffe)
	b = bo.AppendUint16(b, 0xe0dd)
	return bo.AppendUint32(b, 0)
}

func TestScanNestedSequences(t *testing.T) {
	for _, ts := range []string{implicitVRLittleEndian, explicitVRLittleEndian, explicitVRBigEndian} {
		// A sequence before the patient module whose items hold elements with
		// the very tags the header wants: they must not leak into the header.
		inner := buildDataSet(ts, el{0x00100020, "LO", "WRONG"}, el{0x0020000D, "UI", "9.9"})
		nested := seq(ts, 0x00081115, inner, append(seq(ts, 0x0008114A, inner), inner...))
		ds := append(buildDataSet(ts, el{0x00080016, "UI", ctClass}, el{0x00080018, "UI", "1.2.3"}), nested...)
		ds = append(ds, buildDataSet(ts, el{0x00100020, "LO", "PID"}, el{0x0020000D, "UI", "1.2.4"}, el{0x00280008, "IS", "3"}, el{0x7FE00010, "OW", "xx"})...)
		h, res, err := scanBytes(ds, ts)
		if err != nil || res.err != nil {
			t.Fatalf("%s: %v %v", ts, err, res.err)
		}
		if h.PatientID != "PID" || h.StudyInstanceUID != "1.2.4" || h.SOPInstanceUID != "1.2.3" || h.NumberOfFrames != "3" {
			t.Errorf("%s: header %+v", ts, h)
		}
	}
}

func TestScanDeflated(t *testing.T) {
	plain := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "PID", 100)
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(plain)
	w.Close()
	h, res, err := scanBytes(z.Bytes(), deflatedExplicitVRLE)
	if err != nil || res.err != nil || h.SeriesInstanceUID != "1.2.5" || h.PatientName != "Doe^Jane" {
		t.Fatalf("%+v %v %v", h, err, res.err)
	}
}

func TestScanMalformed(t *testing.T) {
	good := buildDataSet(explicitVRLittleEndian, el{0x00080016, "UI", ctClass}, el{0x00080018, "UI", "1.2.3"})
	deep := seq(explicitVRLittleEndian, 0x00081115)
	for range maxDepth + 1 {
		deep = seq(explicitVRLittleEndian, 0x00081115, deep)
	}
	for name, tail := range map[string][]byte{
		"length beyond end": {0x10, 0, 0x10, 0, 'P', 'N', 0xf0, 0xff, 'a', 'b'},
		"truncated header":  {0x10, 0, 0x10},
		"item at top level": {0xfe, 0xff, 0, 0xe0, 0, 0, 0, 0},
		"undefined PN":      {0x10, 0, 0x10, 0, 'U', 'T', 0, 0, 0xff, 0xff, 0xff, 0xff},
		"too deep":          deep,
		"unterminated seq":  seq(explicitVRLittleEndian, 0x00081115)[:16],
		"non-item in seq":   append(seq(explicitVRLittleEndian, 0x00081115)[:12], 0x10, 0, 0x10, 0, 0, 0, 0, 0),
	} {
		h, res, err := scanBytes(append(append([]byte{}, good...), tail...), explicitVRLittleEndian)
		if err != nil || res.err == nil || h.SOPInstanceUID != "1.2.3" {
			t.Errorf("%s: header %+v, err %v, scan error %v; want the UIDs and a scan error", name, h, err, res.err)
		}
	}
}

func TestScanCannotUnderstand(t *testing.T) {
	for name, ds := range map[string][]byte{
		"empty":       nil,
		"zeros":       make([]byte, 1000),
		"text":        []byte(strings.Repeat("garbage!", 100)),
		"ones":        bytes.Repeat([]byte{0xff}, 64),
		"short":       {0x08, 0x00},
		"part10 file": append(append(make([]byte, 128), "DICM"...), make([]byte, 200)...)[:132],
	} {
		for _, ts := range []string{implicitVRLittleEndian, explicitVRLittleEndian, explicitVRBigEndian, deflatedExplicitVRLE} {
			if _, _, err := scanBytes(ds, ts); err == nil {
				t.Errorf("%s / %s: no error", name, ts)
			}
		}
	}
}

// TestScanHugeLengthAllocatesLittle checks that a value length of 2 GiB in a
// 200-byte data set does not make anything allocate it (the dicom library on
// its own allocates 4 GiB for this input).
func TestScanHugeLengthAllocatesLittle(t *testing.T) {
	ds := []byte{0x08, 0x00, 0x18, 0x00}
	ds = binary.LittleEndian.AppendUint32(ds, 0x7ffffff0)
	ds = append(ds, make([]byte, 200)...)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, _, err := scanBytes(ds, implicitVRLittleEndian)
	runtime.ReadMemStats(&m1)
	if err == nil {
		t.Error("want ErrCannotUnderstand")
	}
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 4<<20 {
		t.Errorf("allocated %d bytes", d)
	}
}

func TestScanLongValueSkipped(t *testing.T) {
	ds := buildDataSet(explicitVRLittleEndian, el{0x00080018, "UI", "1.2.3"},
		el{0x00081030, "UT", strings.Repeat("x", maxValueLen+2)}, el{0x00100020, "LO", "PID"})
	h, res, err := scanBytes(ds, explicitVRLittleEndian)
	if err != nil || res.err != nil || h.StudyDescription != "" || h.PatientID != "PID" {
		t.Errorf("%+v %v %v", h, err, res.err)
	}
}
