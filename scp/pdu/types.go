// Package pdu encodes and decodes the Protocol Data Units of the DICOM Upper
// Layer (PS3.8 section 9.3): A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF, A-RELEASE-RQ/RP
// and A-ABORT, with every item and sub-item of the association PDUs.
//
// Every length read off the wire is checked against the bytes that remain and
// against a caller-supplied limit before anything is allocated.
package pdu

// Type is the PDU-type byte that starts every PDU.
type Type byte

// PDU types of PS3.8 table 9-1.
const (
	TypeAssociateRQ Type = 0x01
	TypeAssociateAC Type = 0x02
	TypeAssociateRJ Type = 0x03
	TypePDataTF     Type = 0x04
	TypeReleaseRQ   Type = 0x05
	TypeReleaseRP   Type = 0x06
	TypeAbort       Type = 0x07
)

// HeaderLen is the size of a PDU header: type, reserved byte, 4-byte length.
const HeaderLen = 6

// PDU is one decoded protocol data unit. Every PDU type implements it with
// value receivers, so both T and *T are PDUs; Decode and Reader.Next always
// return pointers (*AssociateRQ, *PDataTF, ...).
type PDU interface {
	// Type returns the PDU-type byte.
	Type() Type
	// Append encodes the whole PDU (header included) onto b and returns the result.
	Append(b []byte) []byte
}

// ApplicationContextName is the only application context of DICOM (PS3.7 A.2.1).
const ApplicationContextName = "1.2.840.10008.3.1.1.1"

// AssociateRQ is an A-ASSOCIATE-RQ PDU (PS3.8 9.3.2). On decode the AE
// titles lose leading spaces and trailing spaces and NULs.
type AssociateRQ struct {
	ProtocolVersion      uint16 // bit 0 set: version 1
	CalledAE             string // trimmed on decode; space-padded to 16 bytes on encode
	CallingAE            string // as CalledAE
	ApplicationContext   string // ApplicationContextName; written as given
	PresentationContexts []PresentationContextRQ
	UserInfo             UserInfo
}

// AssociateAC is an A-ASSOCIATE-AC PDU (PS3.8 9.3.3). The AE title fields
// echo the request and are not tested by the receiver. Its fields decode and
// encode as those of AssociateRQ.
type AssociateAC struct {
	ProtocolVersion      uint16
	CalledAE             string
	CallingAE            string
	ApplicationContext   string
	PresentationContexts []PresentationContextAC
	UserInfo             UserInfo
}

// PresentationContextRQ is a presentation context item of an A-ASSOCIATE-RQ (item type 0x20).
type PresentationContextRQ struct {
	ID               byte   // odd, 1..255; kept as sent on decode, even when invalid
	AbstractSyntax   string // "" when the item had no abstract syntax sub-item
	TransferSyntaxes []string
}

// PresentationContextResult is the result/reason field of an accepted or rejected context.
type PresentationContextResult byte

// Presentation context results of PS3.8 table 9-18.
const (
	PCAcceptance                   PresentationContextResult = 0
	PCUserRejection                PresentationContextResult = 1
	PCNoReason                     PresentationContextResult = 2
	PCAbstractSyntaxNotSupported   PresentationContextResult = 3
	PCTransferSyntaxesNotSupported PresentationContextResult = 4
)

// PresentationContextAC is a presentation context item of an A-ASSOCIATE-AC (item type 0x21).
type PresentationContextAC struct {
	ID             byte
	Result         PresentationContextResult
	TransferSyntax string // meaningful only when Result is PCAcceptance; always encoded (maybe empty)
}

// UserInfo is the user information item (0x50) with its sub-items. On
// decode, byte slices are copies (never aliases of the PDU buffer) and are
// nil when empty, except UserIdentityResponse which is non-nil when present.
// UIDs and the implementation version name lose trailing NUL/space padding.
type UserInfo struct {
	MaxPDULength              uint32                // 0x51; 0 means unlimited
	ImplementationClassUID    string                // 0x52
	ImplementationVersionName string                // 0x55
	AsyncOps                  *AsyncOpsWindow       // 0x53
	RoleSelections            []RoleSelection       // 0x54
	ExtendedNegotiations      []ExtendedNegotiation // 0x56
	CommonExtended            []CommonExtended      // 0x57
	UserIdentity              *UserIdentity         // 0x58 (RQ only)
	UserIdentityResponse      []byte                // 0x59 (AC only); nil when absent
	Unknown                   []RawItem             // any other sub-item, kept verbatim
}

// AsyncOpsWindow is the asynchronous operations window sub-item (PS3.7 D.3.3.3).
type AsyncOpsWindow struct {
	MaxInvoked   uint16
	MaxPerformed uint16
}

// RoleSelection is the SCP/SCU role selection sub-item (PS3.7 D.3.3.4).
type RoleSelection struct {
	SOPClassUID string
	SCU, SCP    bool
}

// ExtendedNegotiation is the SOP class extended negotiation sub-item (PS3.7 D.3.3.5).
type ExtendedNegotiation struct {
	SOPClassUID string
	Info        []byte
}

// CommonExtended is the SOP class common extended negotiation sub-item (PS3.7 D.3.3.6).
type CommonExtended struct {
	SOPClassUID           string
	ServiceClassUID       string
	RelatedGeneralSOPUIDs []string
}

// UserIdentity is the user identity negotiation sub-item of a request (PS3.7 D.3.3.7).
// Secondary is significant only for Type 2 (username and passcode).
type UserIdentity struct {
	Type                      byte // 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT
	PositiveResponseRequested bool
	Primary                   []byte
	Secondary                 []byte
}

// RawItem is an item or sub-item kept verbatim because it is not understood.
type RawItem struct {
	Type byte
	Data []byte
}

// AssociateRJ is an A-ASSOCIATE-RJ PDU (PS3.8 9.3.4).
type AssociateRJ struct {
	Result byte // 1 rejected-permanent, 2 rejected-transient
	Source byte // 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation)
	Reason byte // meaning depends on Source, see the Reject* constants
}

// Values of AssociateRJ.
const (
	RejectPermanent byte = 1
	RejectTransient byte = 2

	RejectSourceUser                 byte = 1
	RejectSourceProviderACSE         byte = 2
	RejectSourceProviderPresentation byte = 3

	// Source 1 (service user).
	RejectReasonNoReason               byte = 1
	RejectReasonAppContextNotSupported byte = 2
	RejectReasonCallingAENotRecognized byte = 3
	RejectReasonCalledAENotRecognized  byte = 7
	// Source 2 (ACSE provider).
	RejectReasonProtocolVersionNotSupported byte = 2
	// Source 3 (presentation provider).
	RejectReasonTemporaryCongestion byte = 1
	RejectReasonLocalLimitExceeded  byte = 2
)

// PDataTF is a P-DATA-TF PDU (PS3.8 9.3.5) holding one or more PDVs. The
// *PDataTF that Reader.Next returns is reused by the Reader: it and its PDVs
// are valid only until the next call to Next.
type PDataTF struct {
	Items []PDV
}

// PDV is one presentation data value item (PS3.8 9.3.5.1, E.2). On decode,
// Data aliases the decoder's buffer (its capacity is cut to its length).
type PDV struct {
	ContextID byte
	Command   bool // message control header bit 0
	Last      bool // message control header bit 1
	Data      []byte
}

// ReleaseRQ is an A-RELEASE-RQ PDU.
type ReleaseRQ struct{}

// ReleaseRP is an A-RELEASE-RP PDU.
type ReleaseRP struct{}

// Abort is an A-ABORT PDU (PS3.8 9.3.8).
type Abort struct {
	Source byte // 0 service-user, 2 service-provider
	Reason byte // for source 2, see the Abort* constants
}

// Values of Abort.
const (
	AbortSourceUser     byte = 0
	AbortSourceProvider byte = 2

	AbortReasonNotSpecified      byte = 0
	AbortReasonUnrecognizedPDU   byte = 1
	AbortReasonUnexpectedPDU     byte = 2
	AbortReasonUnrecognizedParam byte = 4
	AbortReasonUnexpectedParam   byte = 5
	AbortReasonInvalidParamValue byte = 6
)
