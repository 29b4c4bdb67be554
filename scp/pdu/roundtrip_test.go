package pdu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// fullUserInfo has every sub-item populated.
func fullUserInfo() UserInfo {
	return UserInfo{
		MaxPDULength:              131072,
		ImplementationClassUID:    "1.2.826.0.1.3680043.10.999",
		ImplementationVersionName: "DICOMINBOX_1",
		AsyncOps:                  &AsyncOpsWindow{MaxInvoked: 3, MaxPerformed: 1},
		RoleSelections: []RoleSelection{
			{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SCU: true},
			{SOPClassUID: "1.2.840.10008.5.1.4.1.1.4", SCU: true, SCP: true},
			{SOPClassUID: "1.2.840.10008.5.1.4.1.1.7"},
		},
		ExtendedNegotiations: []ExtendedNegotiation{
			{SOPClassUID: "1.2.840.10008.5.1.4.1.2.2.1", Info: []byte{1, 0, 1}},
			{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2"},
		},
		CommonExtended: []CommonExtended{
			{
				SOPClassUID:           "1.2.840.10008.5.1.4.1.1.88.22",
				ServiceClassUID:       "1.2.840.10008.4.2",
				RelatedGeneralSOPUIDs: []string{"1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.33"},
			},
			{SOPClassUID: "1.2.3", ServiceClassUID: "1.2.840.10008.4.2"},
		},
		UserIdentity: &UserIdentity{
			Type: 2, PositiveResponseRequested: true,
			Primary: []byte("alice"), Secondary: []byte("s3cret"),
		},
		UserIdentityResponse: []byte("server-token"),
		Unknown:              []RawItem{{Type: 0x5A, Data: []byte{1, 2, 3}}, {Type: 0x7F}},
	}
}

func fullAssociateRQ() *AssociateRQ {
	return &AssociateRQ{
		ProtocolVersion:    1,
		CalledAE:           "DICOMINBOX",
		CallingAE:          "CT_SCANNER_01234", // exactly 16 bytes
		ApplicationContext: ApplicationContextName,
		PresentationContexts: []PresentationContextRQ{
			{ID: 1, AbstractSyntax: "1.2.840.10008.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2"}},
			{ID: 3, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.2", TransferSyntaxes: []string{
				"1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.201",
			}},
			{ID: 255, AbstractSyntax: "1.2.840.10008.5.1.4.1.1.4", TransferSyntaxes: []string{"1.2.840.10008.1.2.1.99"}},
		},
		UserInfo: fullUserInfo(),
	}
}

func fullAssociateAC() *AssociateAC {
	ui := fullUserInfo()
	ui.UserIdentity = nil
	return &AssociateAC{
		ProtocolVersion:    1,
		CalledAE:           "DICOMINBOX",
		CallingAE:          "CT_SCANNER_01234",
		ApplicationContext: ApplicationContextName,
		PresentationContexts: []PresentationContextAC{
			{ID: 1, Result: PCAcceptance, TransferSyntax: "1.2.840.10008.1.2"},
			{ID: 3, Result: PCAcceptance, TransferSyntax: "1.2.840.10008.1.2.4.70"},
			{ID: 5, Result: PCAbstractSyntaxNotSupported},
			{ID: 7, Result: PCTransferSyntaxesNotSupported},
		},
		UserInfo: ui,
	}
}

// samplePDUs returns one fully populated PDU of every type, as Decode returns them.
func samplePDUs() []PDU {
	return []PDU{
		fullAssociateRQ(),
		fullAssociateAC(),
		&AssociateRJ{Result: RejectPermanent, Source: RejectSourceUser, Reason: RejectReasonCalledAENotRecognized},
		&PDataTF{Items: []PDV{
			{ContextID: 1, Command: true, Last: true, Data: []byte{0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00}},
			{ContextID: 3, Data: bytes.Repeat([]byte{0xAB}, 300)},
			{ContextID: 3, Last: true, Data: []byte{1}},
		}},
		&ReleaseRQ{},
		&ReleaseRP{},
		&Abort{Source: AbortSourceProvider, Reason: AbortReasonInvalidParamValue},
	}
}

// split returns the type and body of an encoded PDU, checking its header.
func split(t *testing.T, enc []byte) (Type, []byte) {
	t.Helper()
	if len(enc) < HeaderLen {
		t.Fatalf("encoding of %d bytes has no header", len(enc))
	}
	if n := binary.BigEndian.Uint32(enc[2:]); int(n) != len(enc)-HeaderLen {
		t.Fatalf("length field %d, body has %d bytes", n, len(enc)-HeaderLen)
	}
	return Type(enc[0]), enc[HeaderLen:]
}

func TestRoundTrip(t *testing.T) {
	for _, p := range samplePDUs() {
		t.Run(p.Type().String(), func(t *testing.T) {
			prefix := []byte("prefix")
			enc := p.Append(append([]byte(nil), prefix...))
			if !bytes.HasPrefix(enc, prefix) {
				t.Fatal("Append overwrote the bytes already in b")
			}
			typ, body := split(t, enc[len(prefix):])
			if typ != p.Type() {
				t.Fatalf("encoded type %v, want %v", typ, p.Type())
			}
			got, err := Decode(typ, body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("round trip mismatch\n got %#v\nwant %#v", got, p)
			}
			// A value receiver works as well as the pointer.
			if v := reflect.ValueOf(p).Elem().Interface().(PDU); !bytes.Equal(v.Append(nil), enc[len(prefix):]) {
				t.Fatal("value and pointer encodings differ")
			}
		})
	}
}

func TestAppendPDataHeader(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1000)
	for _, tc := range []struct{ command, last bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		want := PDataTF{Items: []PDV{{ContextID: 5, Command: tc.command, Last: tc.last, Data: data}}}.Append(nil)
		hdr := AppendPDataHeader(nil, 5, tc.command, tc.last, len(data))
		if len(hdr) != PDataHeaderLen {
			t.Fatalf("header of %d bytes, want %d", len(hdr), PDataHeaderLen)
		}
		if got := append(hdr, data...); !bytes.Equal(got, want) {
			t.Fatalf("command=%v last=%v: header+data\n% x\nwant\n% x", tc.command, tc.last, got[:16], want[:16])
		}
	}
	if n := testing.AllocsPerRun(100, func() { AppendPDataHeader(make([]byte, 0, 16), 1, false, true, 1<<20) }); n > 1 {
		t.Errorf("AppendPDataHeader: %v allocations with room in b", n)
	}
}

func TestAppendPDataHeaderPanics(t *testing.T) {
	for _, n := range []int{-1, 0xFFFFFFFF} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("dataLen %d: no panic", n)
				}
			}()
			AppendPDataHeader(nil, 1, false, false, n)
		}()
	}
}

// TestAssociateACRejectedContext checks the wire form of a rejected context:
// result byte set, and an empty transfer syntax sub-item still present.
func TestAssociateACRejectedContext(t *testing.T) {
	ac := AssociateAC{ProtocolVersion: 1, ApplicationContext: ApplicationContextName,
		PresentationContexts: []PresentationContextAC{{ID: 9, Result: PCAbstractSyntaxNotSupported}}}
	enc := ac.Append(nil)
	item := []byte{0x21, 0, 0, 8, 9, 0, 3, 0, 0x40, 0, 0, 0}
	if !bytes.Contains(enc, item) {
		t.Fatalf("encoding lacks % x:\n% x", item, enc)
	}
	// A peer may leave the transfer syntax out of a rejected context.
	body := bytes.Replace(enc[HeaderLen:], item, []byte{0x21, 0, 0, 4, 9, 0, 3, 0}, 1)
	got, err := Decode(TypeAssociateAC, body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &ac) {
		t.Fatalf("got %#v", got)
	}
}

func TestAppendAETitles(t *testing.T) {
	enc := AssociateRQ{CalledAE: "A", CallingAE: "ABCDEFGHIJKLMNOPQRST", ApplicationContext: "x",
		PresentationContexts: []PresentationContextRQ{{ID: 1}}}.Append(nil)
	if got := string(enc[10:26]); got != "A               " {
		t.Errorf("called AE %q", got)
	}
	if got := string(enc[26:42]); got != "ABCDEFGHIJKLMNOP" {
		t.Errorf("calling AE %q: a long title is cut to 16 bytes", got)
	}
}

func TestAppendNoAllocation(t *testing.T) {
	buf := make([]byte, 0, 4096)
	for _, p := range samplePDUs() {
		if n := testing.AllocsPerRun(100, func() { buf = p.Append(buf[:0]) }); n != 0 {
			t.Errorf("%v: %v allocations appending to a large enough buffer", p.Type(), n)
		}
	}
}

func TestAppendItemTooLongPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a 70000-byte implementation class UID")
		}
	}()
	AssociateAC{UserInfo: UserInfo{ImplementationClassUID: string(make([]byte, 70000))}}.Append(nil)
}

func TestAbortReasonFor(t *testing.T) {
	if r, ok := AbortReasonFor(invalidf("x")); !ok || r != AbortReasonInvalidParamValue {
		t.Errorf("invalidf: %d %v", r, ok)
	}
	if _, ok := AbortReasonFor(errors.New("read: connection reset")); ok {
		t.Error("plain error reported as a protocol error")
	}
	if _, ok := AbortReasonFor(nil); ok {
		t.Error("nil reported as a protocol error")
	}
}

func TestTypeString(t *testing.T) {
	if s := TypePDataTF.String(); s != "P-DATA-TF" {
		t.Error(s)
	}
	if s := Type(0x42).String(); s != "PDU type 0x42" {
		t.Error(s)
	}
}
