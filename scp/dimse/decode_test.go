package dimse

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// el encodes one implicit-VR element of group 0000.
func el(elem uint16, v []byte) []byte {
	b := appendHeader(nil, elem, len(v))
	return append(b, v...)
}

// us returns a little-endian US value.
func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// cat joins byte slices.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	field := el(ElemCommandField, us(CEchoRQ))
	long := appendHeader(nil, ElemAffectedSOPClassUID, 0xFFFFFFF0)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "(0000,0100): CommandField is missing"},
		{"short header", string(field[:5]), "too few for an element header"},
		{"trailing bytes", string(cat(field, []byte{0, 0, 0})), "too few for an element header"},
		{"value past end", string(field[:9]), "(0000,0100): length 2 exceeds the 1 bytes"},
		{"absurd length", string(cat(field, long, []byte("1.2"))), "(0000,0002): length 4294967280 exceeds"},
		{"undefined length", string(cat(field, appendHeader(nil, 0x0002, 0xFFFFFFFF))), "(0000,0002): undefined length"},
		{"wrong group", string(cat(field, []byte{0x08, 0x00, 0x16, 0x00, 0, 0, 0, 0})), "(0008,0016) at offset 10 is not in group 0000"},
		{"US of length 4", string(el(ElemCommandField, []byte{0x30, 0, 0, 0})), "(0000,0100): US value has length 4, want 2"},
		{"empty US", string(cat(field, el(ElemStatus, nil))), "(0000,0900): US value has length 0"},
		{"bad group length", string(cat(el(0, []byte{1, 2}), field)), "(0000,0000): UL value has length 2"},
		{"bad AT", string(cat(field, el(ElemOffendingElement, []byte{1, 2, 3, 4, 5, 6}))), "(0000,0901): AT value has length 6"},
		{"duplicate", string(cat(field, el(ElemMessageID, us(1)), el(ElemMessageID, us(2)))), "(0000,0110): occurs twice"},
		{"missing command field", string(cat(el(ElemMessageID, us(1)), el(ElemCommandDataSetType, us(NoDataSet)))), "CommandField is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("no error, decoded %+v", *c)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	in := cat(
		el(ElemCommandDataSetType, us(0x0000)), // out of order
		el(ElemCommandField, us(CStoreRQ)),
		el(0x0001, []byte{1, 2, 3, 4}), // retired CommandLengthToEnd: skipped
		el(ElemAffectedSOPClassUID, []byte(ctClass+" ")),
		el(ElemMessageID, us(12)),
		el(ElemAffectedSOPInstanceUID, []byte("1.2.3\x00\x00\x00")),
		el(ElemMoveOriginatorAET, []byte("  SCU\x00\x00  ")),
		el(ElemErrorComment, []byte(" "+strings.Repeat("y", 70))),
	)
	c, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if c.CommandField != CStoreRQ || c.MessageID != 12 || !c.HasDataSet() || c.AffectedSOPClassUID != ctClass ||
		c.AffectedSOPInstanceUID != "1.2.3" || c.MoveOriginatorAET != "SCU" || c.ErrorComment != strings.Repeat("y", MaxErrorCommentLen) {
		t.Errorf("decoded %+v", *c)
	}
	if c.Has(0x0001) || c.Has(ElemCommandGroupLength) || !c.Has(ElemMessageID) || c.Has(ElemPriority) {
		t.Error("Has wrong")
	}

	noType, err := Decode(cat(el(ElemCommandField, us(CEchoRQ)), el(ElemMessageID, us(1))))
	if err != nil {
		t.Fatal(err)
	}
	if noType.HasDataSet() || noType.Has(ElemCommandDataSetType) {
		t.Error("a command without CommandDataSetType must not announce a data set")
	}
}
