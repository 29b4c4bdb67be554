package store

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

func TestAppendFileMetaBytes(t *testing.T) {
	b := appendFileMeta(nil, metaInfo{
		SOPClassUID: "1.2", SOPInstanceUID: "1.23", TransferSyntaxUID: "1.2.840.10008.1.2",
		ImplementationClassUID: "9.9", ImplementationVersionName: "V1X",
		CallingAE: " SCU ", CalledAE: "INBOX",
	})
	want := append(make([]byte, 128), "DICM"...)
	for _, e := range []struct {
		hdr, val string
	}{
		{"\x02\x00\x00\x00UL\x04\x00", "\x00\x00\x00\x00"}, // patched below
		{"\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00", "\x00\x01"},
		{"\x02\x00\x02\x00UI\x04\x00", "1.2\x00"},
		{"\x02\x00\x03\x00UI\x04\x00", "1.23"},
		{"\x02\x00\x10\x00UI\x12\x00", "1.2.840.10008.1.2\x00"},
		{"\x02\x00\x12\x00UI\x04\x00", "9.9\x00"},
		{"\x02\x00\x13\x00SH\x04\x00", "V1X "},
		{"\x02\x00\x16\x00AE\x04\x00", "SCU "},
		{"\x02\x00\x17\x00AE\x04\x00", "SCU "},
		{"\x02\x00\x18\x00AE\x06\x00", "INBOX "},
	} {
		want = append(want, e.hdr...)
		want = append(want, e.val...)
	}
	binary.LittleEndian.PutUint32(want[140:], uint32(len(want)-144))
	if !bytes.Equal(b, want) {
		t.Fatalf("meta group\n got % x\nwant % x", b, want)
	}

	// The dicom library reads it back, group length included.
	p, err := dicom.NewParser(bytes.NewReader(b), int64(len(b)), nil)
	if p == nil {
		t.Fatal(err)
	}
	got := map[tag.Tag]string{}
	for _, e := range p.GetMetadata().Elements {
		if e.Value.ValueType() == dicom.Strings {
			got[e.Tag] = dicom.MustGetStrings(e.Value)[0]
		}
	}
	if got[tag.MediaStorageSOPInstanceUID] != "1.23" || got[tag.SourceApplicationEntityTitle] != "SCU" ||
		got[tag.ReceivingApplicationEntityTitle] != "INBOX" || got[tag.TransferSyntaxUID] != "1.2.840.10008.1.2" {
		t.Errorf("library reads %v", got)
	}
}

func TestAppendFileMetaOmitsEmptyOptional(t *testing.T) {
	b := appendFileMeta(nil, metaInfo{SOPClassUID: "1.2", SOPInstanceUID: "1.2", TransferSyntaxUID: "1.2", ImplementationClassUID: "1.2"})
	if len(b) != 132+12+14+4*(8+4) {
		t.Errorf("meta length %d", len(b))
	}
	if bytes.Contains(b, []byte("AE")) || bytes.Contains(b, []byte("SH")) {
		t.Errorf("empty Type 3 elements written: % x", b)
	}
}

func TestMetaValues(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ABC", "ABC "}, {"  A  ", "A "}, {"A\\B\x00\x1bC", "ABC "}, {"12345678901234567", "1234567890123456"},
		{"\xe4\xf6", ""}, {"", ""},
	} {
		if got := string(textValue(tt.in, maxAELen)); got != tt.want {
			t.Errorf("textValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(uiValue(" 1.2.3\x00 ")); got != "1.2.3\x00" {
		t.Errorf("uiValue = %q", got)
	}
	if got := uiValue(string(make([]byte, 100))); len(got) != 0 {
		t.Errorf("uiValue of NULs = %q", got)
	}
	if got := uiValue(string(bytes.Repeat([]byte("1"), 100))); len(got) != 64 {
		t.Errorf("uiValue of 100 digits has %d bytes", len(got))
	}
}

func TestSendingPresentationAddress(t *testing.T) {
	for _, tt := range []struct{ addr, value string }{
		{"192.0.2.7:40123", "dicom://192.0.2.7:40123 "},
		{"[2001:db8::7]:104", "dicom://[2001:db8::7]:104 "}, {"[2001:db8::7]:1040", "dicom://[2001:db8::7]:1040"},
		{"127.0.0.1:1", "dicom://127.0.0.1:1 "},
		{"", ""}, {"192.0.2.7", ""}, {"host.example:104", ""}, {"192.0.2.7:0", ""}, {"192.0.2.7:70000", ""},
		{"192.0.2.7:x", ""},
	} {
		if got := string(presentationAddress(tt.addr)); got != tt.value {
			t.Errorf("presentationAddress(%q) = %q, want %q", tt.addr, got, tt.value)
		}
		b := appendFileMeta(nil, metaInfo{SOPClassUID: "1.2", SOPInstanceUID: "1.3", TransferSyntaxUID: explicitVRLittleEndian,
			ImplementationClassUID: "1.4", RemoteAddr: tt.addr})
		m, err := readFileMeta(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: tt.addr, false: ""}[tt.value != ""]; m.remoteAddr != want {
			t.Errorf("%q: read back remote address %q, want %q", tt.addr, m.remoteAddr, want)
		}
		if tt.value != "" && !bytes.Contains(b, append([]byte("\x02\x00\x27\x00UR\x00\x00"), byte(len(tt.value)), 0, 0, 0)) {
			t.Errorf("%q: no (0002,0027) UR element of %d bytes in % x", tt.addr, len(tt.value), b)
		}
	}
	// A value this package did not write gives no address.
	for _, v := range []string{"http://192.0.2.7:80", "dicom://name:104", "dicom://192.0.2.7"} {
		if got := remoteAddrOf(v); got != "" {
			t.Errorf("remoteAddrOf(%q) = %q, want empty", v, got)
		}
	}
}
