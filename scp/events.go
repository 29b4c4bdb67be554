package scp

import "time"

// EventKind tells what happened in an Event.
type EventKind int

// Kinds of events, in the order an association produces them.
const (
	AssociationRequested EventKind = iota + 1 // an A-ASSOCIATE-RQ arrived
	AssociationAccepted                       // A-ASSOCIATE-AC sent
	AssociationRejected                       // A-ASSOCIATE-RJ sent (Reason says why)
	AssociationReleased                       // orderly release completed
	AssociationAborted                        // A-ABORT sent or received, or the connection broke
	EchoAnswered                              // a C-ECHO was answered
	InstanceStarted                           // a C-STORE command arrived; its data set follows
	InstanceStored                            // a C-STORE was answered with success or warning
	InstanceFailed                            // a C-STORE was answered with a failure status, or broke off
	BytesReceived                             // periodic progress of a running data set
)

var eventKindNames = map[EventKind]string{
	AssociationRequested: "association-requested",
	AssociationAccepted:  "association-accepted",
	AssociationRejected:  "association-rejected",
	AssociationReleased:  "association-released",
	AssociationAborted:   "association-aborted",
	EchoAnswered:         "echo-answered",
	InstanceStarted:      "instance-started",
	InstanceStored:       "instance-stored",
	InstanceFailed:       "instance-failed",
	BytesReceived:        "bytes-received",
}

// String returns a stable lowercase name such as "association-accepted".
func (k EventKind) String() string {
	if s, ok := eventKindNames[k]; ok {
		return s
	}
	return "unknown-event"
}

// Event reports something that happened on an association. Events are
// delivered synchronously on the association's goroutine: the hook must not
// block (hand the event to a channel with a non-blocking send, for example).
type Event struct {
	Kind        EventKind
	Time        time.Time
	Association AssociationInfo

	// Reason says in words why an association was rejected or aborted, or
	// why an instance failed.
	Reason string

	SOPClassUID    string
	SOPInstanceUID string
	Status         uint16 // DIMSE status of InstanceStored / InstanceFailed / EchoAnswered

	// Bytes is the number of data set bytes of the instance received so far
	// (InstanceStored, InstanceFailed, BytesReceived), and the association's
	// total for association events.
	Bytes int64
	// Instances is the association's count of stored instances (association events).
	Instances int
}
