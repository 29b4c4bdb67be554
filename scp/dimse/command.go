// Package dimse encodes and decodes DIMSE command sets (PS3.7 section 9 and
// Annex E): the group-0000 elements, always in Implicit VR Little Endian, that
// start every DIMSE message and say what the message is.
//
// Decode is written for bytes from an untrusted peer: every length is checked
// against the bytes that remain before anything is read or allocated, and a
// malformed command set yields an error wrapping ErrMalformed, never a panic.
package dimse

// Command fields (0000,0100), PS3.7 E.1.
const (
	CStoreRQ       uint16 = 0x0001
	CStoreRSP      uint16 = 0x8001
	CGetRQ         uint16 = 0x0010
	CGetRSP        uint16 = 0x8010
	CFindRQ        uint16 = 0x0020
	CFindRSP       uint16 = 0x8020
	CMoveRQ        uint16 = 0x0021
	CMoveRSP       uint16 = 0x8021
	CEchoRQ        uint16 = 0x0030
	CEchoRSP       uint16 = 0x8030
	NEventReportRQ uint16 = 0x0100
	NGetRQ         uint16 = 0x0110
	NSetRQ         uint16 = 0x0120
	NActionRQ      uint16 = 0x0130
	NCreateRQ      uint16 = 0x0140
	NDeleteRQ      uint16 = 0x0150
	CCancelRQ      uint16 = 0x0FFF
)

// responseBit is set in the command field of every response.
const responseBit uint16 = 0x8000

// NoDataSet is the CommandDataSetType (0000,0800) value meaning that no data
// set follows the command set; any other value means a data set follows.
const NoDataSet uint16 = 0x0101

// DataSetPresent is the CommandDataSetType this package writes when a data set
// follows (PS3.7 accepts any value but NoDataSet).
const DataSetPresent uint16 = 0x0001

// Priorities (0000,0700) of C-STORE, C-FIND, C-GET and C-MOVE requests.
const (
	PriorityMedium uint16 = 0
	PriorityHigh   uint16 = 1
	PriorityLow    uint16 = 2
)

// Status codes (0000,0900) used by C-ECHO and C-STORE (PS3.4 B.2.3, PS3.7 C).
const (
	// StatusSuccess: the operation completed.
	StatusSuccess uint16 = 0x0000
	// StatusWarningCoercion: warning, the SCP coerced data elements.
	StatusWarningCoercion uint16 = 0xB000
	// StatusWarningElementsDiscarded: warning, the SCP discarded elements.
	StatusWarningElementsDiscarded uint16 = 0xB006
	// StatusWarningDataSetMismatch: warning, the data set does not match the SOP class.
	StatusWarningDataSetMismatch uint16 = 0xB007
	// StatusOutOfResources: refused, out of resources (C-STORE A7xx).
	StatusOutOfResources uint16 = 0xA700
	// StatusDataSetMismatch: error, the data set does not match the SOP class (A9xx).
	StatusDataSetMismatch uint16 = 0xA900
	// StatusCannotUnderstand: error, the SCP cannot understand the data set (Cxxx).
	StatusCannotUnderstand uint16 = 0xC000
	// StatusSOPClassNotSupported: refused, SOP class not supported.
	StatusSOPClassNotSupported uint16 = 0x0122
	// StatusNotAuthorized: refused, not authorized.
	StatusNotAuthorized uint16 = 0x0124
	// StatusProcessingFailure: failure while processing the request.
	StatusProcessingFailure uint16 = 0x0110
	// StatusDuplicateInvocation: the message ID is already in use.
	StatusDuplicateInvocation uint16 = 0x0210
	// StatusUnrecognizedOperation: the DIMSE operation is not supported.
	StatusUnrecognizedOperation uint16 = 0x0211
	// StatusMistypedArgument: a parameter had the wrong type.
	StatusMistypedArgument uint16 = 0x0212
	// StatusDuplicateSOPInstance: the SOP instance already exists.
	StatusDuplicateSOPInstance uint16 = 0x0111
)

// VerificationSOPClass is the Verification SOP Class UID that C-ECHO uses.
const VerificationSOPClass = "1.2.840.10008.1.1"

// MaxErrorCommentLen is the longest ErrorComment (LO) that is encoded; longer
// comments are cut on encode and on decode.
const MaxErrorCommentLen = 64

// Element numbers (0000,eeee) that Command knows.
const (
	ElemCommandGroupLength        uint16 = 0x0000 // UL
	ElemAffectedSOPClassUID       uint16 = 0x0002 // UI
	ElemRequestedSOPClassUID      uint16 = 0x0003 // UI
	ElemCommandField              uint16 = 0x0100 // US
	ElemMessageID                 uint16 = 0x0110 // US
	ElemMessageIDBeingRespondedTo uint16 = 0x0120 // US
	ElemMoveDestination           uint16 = 0x0600 // AE
	ElemPriority                  uint16 = 0x0700 // US
	ElemCommandDataSetType        uint16 = 0x0800 // US
	ElemStatus                    uint16 = 0x0900 // US
	ElemOffendingElement          uint16 = 0x0901 // AT
	ElemErrorComment              uint16 = 0x0902 // LO
	ElemErrorID                   uint16 = 0x0903 // US
	ElemAffectedSOPInstanceUID    uint16 = 0x1000 // UI
	ElemRequestedSOPInstanceUID   uint16 = 0x1001 // UI
	ElemMoveOriginatorAET         uint16 = 0x1030 // AE
	ElemMoveOriginatorMessageID   uint16 = 0x1031 // US
)

// knownElems lists the elements of Command in ascending tag order; an
// element's index here is its bit in Command.present.
var knownElems = [...]uint16{
	ElemCommandGroupLength, ElemAffectedSOPClassUID, ElemRequestedSOPClassUID,
	ElemCommandField, ElemMessageID, ElemMessageIDBeingRespondedTo,
	ElemMoveDestination, ElemPriority, ElemCommandDataSetType, ElemStatus,
	ElemOffendingElement, ElemErrorComment, ElemErrorID,
	ElemAffectedSOPInstanceUID, ElemRequestedSOPInstanceUID,
	ElemMoveOriginatorAET, ElemMoveOriginatorMessageID,
}

// bitOf returns the present-bit of a known element, or 0 for another element.
func bitOf(elem uint16) uint32 {
	for i, e := range knownElems {
		if e == elem {
			return 1 << i
		}
	}
	return 0
}

// Command is a decoded DIMSE command set: the fields that C-ECHO and C-STORE
// need, the fields a generic failure response needs, and a few more so that
// logs can say what an unsupported request was.
type Command struct {
	CommandField              uint16   // (0000,0100)
	MessageID                 uint16   // (0000,0110)
	MessageIDBeingRespondedTo uint16   // (0000,0120)
	AffectedSOPClassUID       string   // (0000,0002)
	RequestedSOPClassUID      string   // (0000,0003), N-GET/SET/ACTION/DELETE requests
	AffectedSOPInstanceUID    string   // (0000,1000)
	RequestedSOPInstanceUID   string   // (0000,1001), N-GET/SET/ACTION/DELETE requests
	Priority                  uint16   // (0000,0700)
	CommandDataSetType        uint16   // (0000,0800); Decode sets NoDataSet when absent
	Status                    uint16   // (0000,0900)
	ErrorComment              string   // (0000,0902), at most MaxErrorCommentLen bytes on the wire
	ErrorID                   uint16   // (0000,0903)
	OffendingElements         []uint32 // (0000,0901) AT, each value group<<16 | element
	MoveDestination           string   // (0000,0600), C-MOVE requests
	MoveOriginatorAET         string   // (0000,1030)
	MoveOriginatorMessageID   uint16   // (0000,1031)

	// present has bit i set when knownElems[i] was decoded, or set by a
	// constructor or setter: Append writes such an element even when its
	// value is the zero value.
	present uint32
}

// IsResponse reports whether c is a response (the command field has bit 15 set).
func (c *Command) IsResponse() bool { return c.CommandField&responseBit != 0 }

// HasDataSet reports whether a data set follows the command set.
func (c *Command) HasDataSet() bool { return c.CommandDataSetType != NoDataSet }

// Has reports whether element (0000,elem) was present in the decoded command,
// or was set by a constructor or setter. It only knows the Elem* elements:
// other group-0000 elements are skipped by Decode and Has reports false.
func (c *Command) Has(elem uint16) bool {
	b := bitOf(elem)
	return b != 0 && c.present&b != 0
}

// mark records that the given elements are set.
func (c *Command) mark(elems ...uint16) {
	for _, e := range elems {
		c.present |= bitOf(e)
	}
}

// SetMoveOriginator sets (0000,1030) and (0000,1031), which a C-STORE-RQ
// carries when it is a sub-operation of a C-MOVE.
func (c *Command) SetMoveOriginator(aet string, msgID uint16) {
	c.MoveOriginatorAET, c.MoveOriginatorMessageID = aet, msgID
	c.mark(ElemMoveOriginatorAET, ElemMoveOriginatorMessageID)
}

// SetErrorID sets (0000,0903), an implementation-specific error code.
func (c *Command) SetErrorID(id uint16) {
	c.ErrorID = id
	c.mark(ElemErrorID)
}

// NewCEchoRQ returns a C-ECHO-RQ with the given message ID.
func NewCEchoRQ(msgID uint16) *Command {
	c := &Command{CommandField: CEchoRQ, MessageID: msgID,
		AffectedSOPClassUID: VerificationSOPClass, CommandDataSetType: NoDataSet}
	c.mark(ElemAffectedSOPClassUID, ElemCommandField, ElemMessageID, ElemCommandDataSetType)
	return c
}

// NewCEchoRSP returns the C-ECHO-RSP to rq with the given status.
func NewCEchoRSP(rq *Command, status uint16) *Command {
	c := newRSP(rq, CEchoRSP, status)
	if c.AffectedSOPClassUID == "" {
		c.AffectedSOPClassUID = VerificationSOPClass
	}
	c.AffectedSOPInstanceUID = "" // not part of a C-ECHO-RSP
	return c
}

// NewCStoreRQ returns a C-STORE-RQ; a data set follows it.
func NewCStoreRQ(msgID uint16, sopClass, sopInstance string, priority uint16) *Command {
	c := &Command{CommandField: CStoreRQ, MessageID: msgID, AffectedSOPClassUID: sopClass,
		AffectedSOPInstanceUID: sopInstance, Priority: priority, CommandDataSetType: DataSetPresent}
	c.mark(ElemAffectedSOPClassUID, ElemCommandField, ElemMessageID, ElemPriority,
		ElemCommandDataSetType, ElemAffectedSOPInstanceUID)
	return c
}

// NewCStoreRSP returns the C-STORE-RSP to rq: the affected SOP class and
// instance are echoed from rq. comment becomes the ErrorComment unless status
// is StatusSuccess (PS3.7 C.4.2.1.4 allows it for warnings and failures only).
func NewCStoreRSP(rq *Command, status uint16, comment string) *Command {
	c := newRSP(rq, CStoreRSP, status)
	if status != StatusSuccess && comment != "" {
		c.ErrorComment = comment
	}
	return c
}

// NewFailureRSP returns a generic response to any request, for DIMSE
// operations the receiver does not support (typically with
// StatusUnrecognizedOperation): its command field is rq.CommandField|0x8000.
// The affected SOP class and instance are echoed from rq (from the requested
// ones for N-services). C-CANCEL-RQ has no response; do not call this for it.
func NewFailureRSP(rq *Command, status uint16) *Command {
	return newRSP(rq, rq.CommandField|responseBit, status)
}

// newRSP builds a response with no data set to rq.
func newRSP(rq *Command, field, status uint16) *Command {
	c := &Command{CommandField: field, MessageIDBeingRespondedTo: rq.MessageID,
		AffectedSOPClassUID: rq.AffectedSOPClassUID, AffectedSOPInstanceUID: rq.AffectedSOPInstanceUID,
		CommandDataSetType: NoDataSet, Status: status}
	if c.AffectedSOPClassUID == "" {
		c.AffectedSOPClassUID = rq.RequestedSOPClassUID
	}
	if c.AffectedSOPInstanceUID == "" {
		c.AffectedSOPInstanceUID = rq.RequestedSOPInstanceUID
	}
	c.mark(ElemCommandField, ElemMessageIDBeingRespondedTo, ElemCommandDataSetType, ElemStatus)
	return c
}
