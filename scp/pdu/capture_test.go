package pdu

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// echoscuRQ is the A-ASSOCIATE-RQ DCMTK 3.6.7 echoscu sends to ANY-SCP,
// assembled byte by byte from PS3.8 9.3.2 rather than with Append:
// Verification SOP class in context 1 with three transfer syntaxes, maximum
// PDU length 16384, DCMTK's implementation class UID and version name.
const echoscuRQ = "" +
	"01 00 00 00 00 fb 00 01 00 00 41 4e 59 2d 53 43" + // PDU header, version 1, "ANY-SC
	"50 20 20 20 20 20 20 20 20 20 45 43 48 4f 53 43" + // P"         "ECHOSC
	"55 20 20 20 20 20 20 20 20 20 00 00 00 00 00 00" + // U"         reserved
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" + //
	"00 00 00 00 00 00 00 00 00 00 10 00 00 15 31 2e" + // 0x10 application context (21)
	"32 2e 38 34 30 2e 31 30 30 30 38 2e 33 2e 31 2e" + // 1.2.840.10008.3.1.1.1
	"31 2e 31 20 00 00 5c 01 00 00 00 30 00 00 11 31" + // 0x20 context (92) ID 1; 0x30 (17)
	"2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e 31" + // 1.2.840.10008.1.1
	"40 00 00 11 31 2e 32 2e 38 34 30 2e 31 30 30 30" + // 0x40 (17) 1.2.840.10008.1.2
	"38 2e 31 2e 32 40 00 00 13 31 2e 32 2e 38 34 30" + // 0x40 (19) 1.2.840.10008.1.2.1
	"2e 31 30 30 30 38 2e 31 2e 32 2e 31 40 00 00 13" + // 0x40 (19)
	"31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e" + // 1.2.840.10008.1.2.2
	"32 2e 32 50 00 00 3a 51 00 00 04 00 00 40 00 52" + // 0x50 user info (58); 0x51 16384; 0x52
	"00 00 1b 31 2e 32 2e 32 37 36 2e 30 2e 37 32 33" + // (27) 1.2.276.0.7230010.3.0.3.6.7
	"30 30 31 30 2e 33 2e 30 2e 33 2e 36 2e 37 55 00" + // 0x55
	"00 0f 4f 46 46 49 53 5f 44 43 4d 54 4b 5f 33 36" + // (15) OFFIS_DCMTK_367
	"37"

// mustHex decodes a space-separated hex dump.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func echoscuWant() *AssociateRQ {
	return &AssociateRQ{
		ProtocolVersion:    1,
		CalledAE:           "ANY-SCP",
		CallingAE:          "ECHOSCU",
		ApplicationContext: ApplicationContextName,
		PresentationContexts: []PresentationContextRQ{{
			ID:               1,
			AbstractSyntax:   "1.2.840.10008.1.1",
			TransferSyntaxes: []string{"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"},
		}},
		UserInfo: UserInfo{
			MaxPDULength:              16384,
			ImplementationClassUID:    "1.2.276.0.7230010.3.0.3.6.7",
			ImplementationVersionName: "OFFIS_DCMTK_367",
		},
	}
}

func TestDecodeEchoscuCapture(t *testing.T) {
	capture := mustHex(t, echoscuRQ)
	r := NewReader(bytes.NewReader(capture))
	p, err := r.Next(16384)
	if err != nil {
		t.Fatal(err)
	}
	want := echoscuWant()
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got  %#v\nwant %#v", p, want)
	}
	// Append produces the very same bytes.
	if enc := want.Append(nil); !bytes.Equal(enc, capture) {
		t.Fatalf("Append differs from the capture:\n% x\nwant\n% x", enc, capture)
	}
}

// TestDecodePaddedValues checks the tolerance for padding: AE titles with
// leading spaces or NUL padding, UIDs with a trailing NUL or space.
func TestDecodePaddedValues(t *testing.T) {
	capture := mustHex(t, echoscuRQ)
	body := capture[HeaderLen:]
	copy(body[4:20], "  ANY-SCP\x00\x00\x00\x00\x00\x00\x00")
	// Make "1.2.840.10008.1.2.1" (TS 2) "1.2.840.10008.1.2\x00 ": same length.
	i := bytes.Index(body, []byte("1.2.840.10008.1.2.1"))
	copy(body[i+17:], "\x00 ")
	got, err := Decode(TypeAssociateRQ, body)
	if err != nil {
		t.Fatal(err)
	}
	rq := got.(*AssociateRQ)
	if rq.CalledAE != "ANY-SCP" {
		t.Errorf("called AE %q", rq.CalledAE)
	}
	if ts := rq.PresentationContexts[0].TransferSyntaxes[1]; ts != "1.2.840.10008.1.2" {
		t.Errorf("padded UID decoded as %q", ts)
	}
}
