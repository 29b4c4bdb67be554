package scp

import (
	"context"
	"io"
	"time"
)

// Handler receives the data set of every C-STORE request while it arrives.
//
// Store is called on the association's goroutine; data yields the data set
// bytes exactly as they crossed the wire and returns io.EOF after the last
// fragment. The returned Status becomes the C-STORE-RSP status. A handler
// that returns before reading data to the end is fine: the server discards
// the rest of the data set. ctx is cancelled when the association ends.
type Handler interface {
	Store(ctx context.Context, req *StoreRequest, data io.Reader) Status
}

// HandlerFunc adapts an ordinary function to the Handler interface.
type HandlerFunc func(ctx context.Context, req *StoreRequest, data io.Reader) Status

// Store calls f(ctx, req, data).
func (f HandlerFunc) Store(ctx context.Context, req *StoreRequest, data io.Reader) Status {
	return f(ctx, req, data)
}

// Status is a DIMSE status code (PS3.7 Annex C) with an optional error
// comment (at most 64 characters are sent).
type Status struct {
	Code    uint16
	Comment string
}

// StoreRequest describes one C-STORE request.
type StoreRequest struct {
	Association             *AssociationInfo
	MessageID               uint16
	SOPClassUID             string // Affected SOP Class UID of the command
	SOPInstanceUID          string // Affected SOP Instance UID of the command
	TransferSyntaxUID       string // accepted transfer syntax of the presentation context
	Priority                uint16
	MoveOriginatorAET       string
	MoveOriginatorMessageID uint16
}

// AssociationInfo is what is known about an association. It is filled while
// the association is negotiated and must be treated as read-only.
type AssociationInfo struct {
	ID                        uint64 // unique within one Server
	CallingAE                 string
	CalledAE                  string
	RemoteAddr                string
	LocalAddr                 string
	ImplementationClassUID    string
	ImplementationVersionName string
	PeerMaxPDULength          uint32 // 0: unlimited
	StartedAt                 time.Time
	// TLS: the association runs over DICOM TLS. ClientCertificate is the
	// subject of the certificate the peer presented and the server
	// verified ("" without one).
	TLS               bool
	ClientCertificate string
}
