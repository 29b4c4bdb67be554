package dimse

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

const (
	ctClass    = "1.2.840.10008.5.1.4.1.1.2"
	ctInstance = "1.2.826.0.1.3680043.8.498.12345678901234567890123456789"
)

// sameFields reports whether a and b have the same field values, ignoring
// which elements are marked present.
func sameFields(a, b *Command) bool {
	x, y := *a, *b
	x.present, y.present = 0, 0
	return reflect.DeepEqual(x, y)
}

// constructed returns one command of every constructor and setter, by name.
func constructed() map[string]*Command {
	echo := NewCEchoRQ(7)
	store := NewCStoreRQ(0xFFFF, ctClass, ctInstance, PriorityHigh)
	moved := NewCStoreRQ(3, ctClass, ctInstance+"1", PriorityLow)
	moved.SetMoveOriginator("MOVESCU", 42)
	nget := &Command{CommandField: NGetRQ, MessageID: 9, RequestedSOPClassUID: "1.2.840.10008.5.1.1.16",
		RequestedSOPInstanceUID: "1.2.840.10008.5.1.1.17", CommandDataSetType: NoDataSet}
	warn := NewCStoreRSP(store, StatusWarningCoercion, "coerced (0010,0010)")
	warn.OffendingElements = []uint32{0x00100010, 0x7FE00010}
	warn.SetErrorID(0)
	return map[string]*Command{
		"C-ECHO-RQ":             echo,
		"C-ECHO-RSP":            NewCEchoRSP(echo, StatusSuccess),
		"C-STORE-RQ":            store,
		"C-STORE-RQ move":       moved,
		"C-STORE-RSP success":   NewCStoreRSP(store, StatusSuccess, "ignored on success"),
		"C-STORE-RSP warning":   warn,
		"C-STORE-RSP failure":   NewCStoreRSP(store, StatusOutOfResources, strings.Repeat("x", 80)),
		"N-GET-RSP failure":     NewFailureRSP(nget, StatusUnrecognizedOperation),
		"C-FIND-RSP failure":    NewFailureRSP(&Command{CommandField: CFindRQ, MessageID: 5, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.1"}, StatusUnrecognizedOperation),
		"C-CANCEL-RQ":           {CommandField: CCancelRQ, MessageIDBeingRespondedTo: 5, CommandDataSetType: NoDataSet},
		"C-MOVE-RQ destination": {CommandField: CMoveRQ, MessageID: 1, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.2", MoveDestination: "DEST", CommandDataSetType: DataSetPresent},
	}
}

func TestRoundTrip(t *testing.T) {
	for name, c := range constructed() {
		t.Run(name, func(t *testing.T) {
			enc := c.Append(nil)
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := *c
			if len(want.ErrorComment) > MaxErrorCommentLen {
				want.ErrorComment = want.ErrorComment[:MaxErrorCommentLen]
			}
			if !sameFields(got, &want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", *got, want)
			}
			for _, e := range knownElems {
				if c.Has(e) && !got.Has(e) {
					t.Errorf("element (0000,%04X) set but not encoded", e)
				}
			}
			if again := got.Append(nil); !bytes.Equal(again, enc) {
				t.Errorf("re-encoding differs:\n%x\n%x", enc, again)
			}
			checkLayout(t, enc)
		})
	}
}

// checkLayout checks the group length and ascending tag order of a command set.
func checkLayout(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 12 || binary.LittleEndian.Uint32(b) != 0 || binary.LittleEndian.Uint32(b[4:]) != 4 {
		t.Fatalf("does not start with (0000,0000) UL: %x", b)
	}
	if gl := binary.LittleEndian.Uint32(b[8:]); int(gl) != len(b)-12 {
		t.Errorf("group length %d, want %d", gl, len(b)-12)
	}
	prev := -1
	for off := 0; off < len(b); {
		tag := int(binary.LittleEndian.Uint16(b[off+2:]))
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if tag <= prev || n%2 != 0 {
			t.Errorf("element (0000,%04X) length %d after (0000,%04X)", tag, n, prev)
		}
		prev, off = tag, off+8+n
	}
}

// TestCEchoRQBytes checks a C-ECHO-RQ byte for byte against PS3.7 as DCMTK
// echoscu sends it.
func TestCEchoRQBytes(t *testing.T) {
	want := []byte{
		0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, // (0000,0000) UL 56
		0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00, // (0000,0002) UI, 18 bytes
		'1', '.', '2', '.', '8', '4', '0', '.', '1', '0', '0', '0', '8', '.', '1', '.', '1', 0x00,
		0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x00, // (0000,0100) US 0x0030
		0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, // (0000,0110) US 1
		0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01, // (0000,0800) US 0x0101
	}
	got := NewCEchoRQ(1).Append(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("C-ECHO-RQ:\n got %x\nwant %x", got, want)
	}
	c, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if c.CommandField != CEchoRQ || c.MessageID != 1 || c.AffectedSOPClassUID != VerificationSOPClass || c.HasDataSet() {
		t.Errorf("decoded %+v", *c)
	}
	rsp := NewCEchoRSP(c, StatusSuccess)
	if rsp.CommandField != CEchoRSP || rsp.MessageIDBeingRespondedTo != 1 || rsp.Has(ElemMessageID) || rsp.AffectedSOPInstanceUID != "" {
		t.Errorf("C-ECHO-RSP %+v", *rsp)
	}
}

func TestAppendPaddingAndPrefix(t *testing.T) {
	c := NewCStoreRSP(NewCStoreRQ(2, ctClass, "1.23", 0), StatusCannotUnderstand, "bad")
	c.MoveOriginatorAET = "ABC"
	prefix := []byte("prefix")
	b := c.Append(prefix)
	if !bytes.HasPrefix(b, prefix) {
		t.Fatal("Append dropped its prefix")
	}
	b = b[len(prefix):]
	checkLayout(t, b)
	for _, want := range [][]byte{
		[]byte(ctClass + "\x00"), []byte("1.23"), []byte("bad "), []byte("ABC "),
	} {
		if !bytes.Contains(b, want) {
			t.Errorf("encoding lacks %q", want)
		}
	}
	if i := bytes.Index(b, []byte("1.23")); i < 4 || binary.LittleEndian.Uint32(b[i-4:]) != 4 {
		t.Error("even-length UID padded")
	}
	if NewCStoreRSP(NewCStoreRQ(1, "1.2", "1.3", 0), StatusSuccess, "x").Has(ElemErrorComment) {
		t.Error("success response carries an ErrorComment")
	}
}

func TestResponsesEcho(t *testing.T) {
	rq := NewCStoreRQ(77, ctClass, ctInstance, PriorityMedium)
	rsp := NewCStoreRSP(rq, StatusDuplicateSOPInstance, "duplicate")
	if rsp.CommandField != CStoreRSP || rsp.MessageIDBeingRespondedTo != 77 ||
		rsp.AffectedSOPClassUID != ctClass || rsp.AffectedSOPInstanceUID != ctInstance ||
		rsp.HasDataSet() || rsp.Status != StatusDuplicateSOPInstance || rsp.ErrorComment != "duplicate" {
		t.Errorf("C-STORE-RSP %+v", *rsp)
	}
	if !rq.HasDataSet() || rq.IsResponse() || !rsp.IsResponse() {
		t.Error("HasDataSet/IsResponse wrong")
	}
	f := NewFailureRSP(&Command{CommandField: NActionRQ, MessageID: 4, RequestedSOPClassUID: "1.2.840.10008.1.20.1",
		RequestedSOPInstanceUID: "1.2.840.10008.1.20.1.1"}, StatusUnrecognizedOperation)
	if f.CommandField != 0x8130 || f.MessageIDBeingRespondedTo != 4 || f.AffectedSOPClassUID != "1.2.840.10008.1.20.1" ||
		f.AffectedSOPInstanceUID != "1.2.840.10008.1.20.1.1" || f.HasDataSet() {
		t.Errorf("N-ACTION-RSP %+v", *f)
	}
}
