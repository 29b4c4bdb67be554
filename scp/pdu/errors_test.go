package pdu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// Builders for hand-made PDU bodies.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }

func u32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// lp is a 2-byte length-prefixed string field.
func lp(s string) []byte { return cat(u16(len(s)), []byte(s)) }

// item builds an item with a 4-byte header whose value is the concatenated parts.
func item(typ byte, parts ...[]byte) []byte {
	v := cat(parts...)
	return cat([]byte{typ, 0}, u16(len(v)), v)
}

var (
	appCtx    = item(0x10, []byte(ApplicationContextName))
	verifyPC  = item(0x20, []byte{1, 0, 0, 0}, item(0x30, []byte("1.2.840.10008.1.1")), item(0x40, []byte("1.2.840.10008.1.2")))
	acceptPC  = item(0x21, []byte{1, 0, 0, 0}, item(0x40, []byte("1.2.840.10008.1.2")))
	maxLen16K = item(0x51, u32(16384))
)

// assocBody prepends the 68-byte fixed part of an A-ASSOCIATE-RQ/AC.
func assocBody(items ...[]byte) []byte {
	fixed := make([]byte, associateFixedLen)
	fixed[1] = 1
	copy(fixed[4:], "CALLED          CALLING         ")
	return cat(fixed, cat(items...))
}

// userInfo builds a user information item with a maximum length first.
func userInfo(sub ...[]byte) []byte { return item(0x50, maxLen16K, cat(sub...)) }

// wantAbort checks that err carries the given A-ABORT reason.
func wantAbort(t *testing.T, err error, reason byte) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *pdu.Error", err, err)
	}
	if e.AbortReason != reason {
		t.Fatalf("abort reason %d, want %d (%v)", e.AbortReason, reason, err)
	}
}

func repeat(n int, b []byte) []byte { return bytes.Repeat(b, n) }

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		body []byte
	}{
		{"RQ shorter than its fixed part", TypeAssociateRQ, make([]byte, 67)},
		{"RQ without application context", TypeAssociateRQ, assocBody(verifyPC, userInfo())},
		{"RQ with two application contexts", TypeAssociateRQ, assocBody(appCtx, appCtx, verifyPC, userInfo())},
		{"RQ without presentation context", TypeAssociateRQ, assocBody(appCtx, userInfo())},
		{"RQ with two user info items", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(), userInfo())},
		{"RQ with 3 trailing bytes", TypeAssociateRQ, cat(assocBody(appCtx, verifyPC, userInfo()), []byte{0x99, 0, 0})},
		{"RQ with 257 presentation contexts", TypeAssociateRQ, assocBody(appCtx, repeat(257, verifyPC), userInfo())},
		{"context shorter than 4 bytes", TypeAssociateRQ, assocBody(appCtx, item(0x20, []byte{1, 0, 0}), userInfo())},
		{"context with 65 transfer syntaxes", TypeAssociateRQ, assocBody(appCtx,
			item(0x20, []byte{1, 0, 0, 0}, repeat(65, item(0x40, []byte("1.2"))), userInfo()))},
		{"context with two abstract syntaxes", TypeAssociateRQ, assocBody(appCtx,
			item(0x20, []byte{1, 0, 0, 0}, item(0x30, []byte("1.2")), item(0x30, []byte("1.3"))), userInfo())},
		{"sub-item overruns its context", TypeAssociateRQ, assocBody(appCtx,
			item(0x20, []byte{1, 0, 0, 0}, []byte{0x30, 0, 0, 9}, []byte("1.2")), userInfo())},
		{"duplicate max length", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(maxLen16K))},
		{"max length of 3 bytes", TypeAssociateRQ, assocBody(appCtx, verifyPC, item(0x50, item(0x51, []byte{0, 0x40, 0})))},
		{"max length of 5 bytes", TypeAssociateRQ, assocBody(appCtx, verifyPC, item(0x50, item(0x51, []byte{0, 0, 0x40, 0, 0})))},
		{"duplicate implementation class", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x52, []byte("1.2")), item(0x52, []byte("1.3"))))},
		{"async window of 3 bytes", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x53, []byte{0, 1, 0})))},
		{"role UID overruns", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x54, u16(10), []byte("1.2"), []byte{1, 1})))},
		{"role without role bytes", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x54, lp("1.2"), []byte{1})))},
		{"role with a trailing byte", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x54, lp("1.2"), []byte{1, 1, 0})))},
		{"257 roles", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(repeat(257, item(0x54, lp("1.2"), []byte{1, 0}))))},
		{"extended negotiation UID overruns", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x56, u16(4), []byte("1.2"))))},
		{"extended negotiation of 1 byte", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x56, []byte{0})))},
		{"common extended service UID overruns", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x57, lp("1.2"), u16(9), []byte("1.2"))))},
		{"common extended related field overruns", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x57, lp("1.2"), lp("1.3"), u16(20), lp("1.4"))))},
		{"common extended related UID overruns its field", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x57, lp("1.2"), lp("1.3"), u16(5), u16(4), []byte("1.4"))))},
		{"common extended with 65 related UIDs", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x57, lp("1.2"), lp("1.3"), u16(65*5), repeat(65, lp("1.4")))))},
		{"user identity primary overruns", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x58, []byte{1, 0}, u16(9), []byte("bob"))))},
		{"user identity with a trailing byte", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x58, []byte{2, 0}, lp("bob"), lp("pw"), []byte{0})))},
		{"user identity of 1 byte", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(item(0x58, []byte{1})))},
		{"duplicate user identity", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			userInfo(item(0x58, []byte{1, 0}, lp("a"), lp("")), item(0x58, []byte{1, 0}, lp("b"), lp(""))))},
		{"user identity response too long", TypeAssociateAC, assocBody(appCtx, acceptPC, userInfo(item(0x59, u16(5), []byte("tok"))))},
		{"user identity response too short", TypeAssociateAC, assocBody(appCtx, acceptPC, userInfo(item(0x59, lp("tok"), []byte{0})))},
		{"65 unknown sub-items", TypeAssociateRQ, assocBody(appCtx, verifyPC, userInfo(repeat(65, item(0x5F))))},
		{"user info too long to re-encode", TypeAssociateRQ, assocBody(appCtx, verifyPC,
			item(0x50, item(0x52, make([]byte, maxItemLen-4))))},
		{"AC accepted without transfer syntax", TypeAssociateAC, assocBody(appCtx, item(0x21, []byte{1, 0, 0, 0}), userInfo())},
		{"AC with two transfer syntaxes", TypeAssociateAC, assocBody(appCtx,
			item(0x21, []byte{1, 0, 0, 0}, item(0x40, []byte("1.2")), item(0x40, []byte("1.3"))), userInfo())},
		{"AC without application context", TypeAssociateAC, assocBody(acceptPC, userInfo())},
		{"AC with 257 presentation contexts", TypeAssociateAC, assocBody(appCtx, repeat(257, acceptPC), userInfo())},
		{"AC context shorter than 4 bytes", TypeAssociateAC, assocBody(appCtx, item(0x21, []byte{1, 0, 0}), userInfo())},
		{"AC transfer syntax overruns its context", TypeAssociateAC, assocBody(appCtx,
			item(0x21, []byte{1, 0, 0, 0}, []byte{0x40, 0, 0, 9}, []byte("1.2")), userInfo())},
		{"AC user info overruns", TypeAssociateAC, assocBody(appCtx, acceptPC, []byte{0x50, 0, 0, 9}, maxLen16K)},
		{"RJ of 3 bytes", TypeAssociateRJ, []byte{0, 1, 1}},
		{"RJ of 5 bytes", TypeAssociateRJ, []byte{0, 1, 1, 1, 0}},
		{"release RQ of 0 bytes", TypeReleaseRQ, nil},
		{"release RP of 5 bytes", TypeReleaseRP, make([]byte, 5)},
		{"abort of 3 bytes", TypeAbort, make([]byte, 3)},
		{"P-DATA without PDV", TypePDataTF, nil},
		{"PDV length 0", TypePDataTF, cat(u32(0), []byte{1, 3})},
		{"PDV length 1", TypePDataTF, cat(u32(1), []byte{1, 3})},
		{"PDV length overruns", TypePDataTF, cat(u32(5), []byte{1, 3, 0, 0})},
		{"PDV length 0xFFFFFFFF", TypePDataTF, cat(u32(0xFFFFFFFF), []byte{1, 3, 0, 0})},
		{"PDV context ID 0", TypePDataTF, cat(u32(3), []byte{0, 3, 9})},
		{"PDV context ID even", TypePDataTF, cat(u32(3), []byte{2, 3, 9})},
		{"PDV followed by 3 bytes", TypePDataTF, cat(u32(3), []byte{1, 3, 9}, []byte{0, 0, 0})},
		{"second PDV overruns", TypePDataTF, cat(u32(3), []byte{1, 3, 9}, u32(10), []byte{1, 3, 9})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.typ, tc.body)
			if p != nil {
				t.Errorf("non-nil PDU %#v with the error", p)
			}
			wantAbort(t, err, AbortReasonInvalidParamValue)
		})
	}
}

func TestDecodeUnknownPDUType(t *testing.T) {
	for _, typ := range []Type{0x00, 0x08, 0x10, 0xFF} {
		p, err := Decode(typ, []byte{0, 0, 0, 0})
		if p != nil {
			t.Errorf("type %#x: got a PDU", typ)
		}
		wantAbort(t, err, AbortReasonUnrecognizedPDU)
	}
}

// TestDecodeTolerated lists departures from PS3.8 that are accepted.
func TestDecodeTolerated(t *testing.T) {
	verify := PresentationContextRQ{ID: 1, AbstractSyntax: "1.2.840.10008.1.1", TransferSyntaxes: []string{"1.2.840.10008.1.2"}}
	rq := func(pcs []PresentationContextRQ, ui UserInfo) *AssociateRQ {
		return &AssociateRQ{ProtocolVersion: 1, CalledAE: "CALLED", CallingAE: "CALLING",
			ApplicationContext: ApplicationContextName, PresentationContexts: pcs, UserInfo: ui}
	}
	one := []PresentationContextRQ{verify}
	tests := []struct {
		name string
		body []byte
		want *AssociateRQ
	}{
		{"unknown top-level items are skipped", assocBody(item(0x99, []byte("x")), appCtx, item(0x21, []byte{1, 0, 0, 0}),
			verifyPC, item(0x00), userInfo(), item(0xFF, make([]byte, 300))), rq(one, UserInfo{MaxPDULength: 16384})},
		{"items in any order", assocBody(userInfo(), verifyPC, appCtx), rq(one, UserInfo{MaxPDULength: 16384})},
		{"no user info item", assocBody(appCtx, verifyPC), rq(one, UserInfo{})},
		{"no max length", assocBody(appCtx, verifyPC, item(0x50)), rq(one, UserInfo{})},
		{"unknown sub-items of a context are skipped", assocBody(appCtx,
			item(0x20, []byte{1, 0, 0, 0}, item(0x31, []byte("?")), item(0x30, []byte("1.2.840.10008.1.1")),
				item(0x40, []byte("1.2.840.10008.1.2"))), userInfo()),
			rq(one, UserInfo{MaxPDULength: 16384})},
		{"even context ID, no abstract syntax, no transfer syntax", assocBody(appCtx, item(0x20, []byte{2, 0, 0, 0}), userInfo()),
			rq([]PresentationContextRQ{{ID: 2}}, UserInfo{MaxPDULength: 16384})},
		{"unknown user info sub-items are kept", assocBody(appCtx, verifyPC,
			userInfo(item(0x5A, []byte{1, 2}), item(0x60))),
			rq(one, UserInfo{MaxPDULength: 16384, Unknown: []RawItem{{Type: 0x5A, Data: []byte{1, 2}}, {Type: 0x60}}})},
		{"user identity without secondary length", assocBody(appCtx, verifyPC, userInfo(item(0x58, []byte{1, 1}, lp("bob")))),
			rq(one, UserInfo{MaxPDULength: 16384, UserIdentity: &UserIdentity{Type: 1, PositiveResponseRequested: true, Primary: []byte("bob")}})},
		{"role bytes other than 0 and 1", assocBody(appCtx, verifyPC, userInfo(item(0x54, lp("1.2\x00"), []byte{2, 0}))),
			rq(one, UserInfo{MaxPDULength: 16384, RoleSelections: []RoleSelection{{SOPClassUID: "1.2", SCU: true}}})},
		{"common extended with trailing reserved bytes", assocBody(appCtx, verifyPC,
			userInfo(item(0x57, lp("1.2"), lp("1.3"), u16(5), lp("1.4"), []byte{0, 0}))),
			rq(one, UserInfo{MaxPDULength: 16384, CommonExtended: []CommonExtended{
				{SOPClassUID: "1.2", ServiceClassUID: "1.3", RelatedGeneralSOPUIDs: []string{"1.4"}}}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(TypeAssociateRQ, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
