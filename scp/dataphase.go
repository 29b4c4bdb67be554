package scp

import (
	"errors"
	"fmt"
	"time"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
)

// errInterrupted is set on a data stream that a non-P-DATA PDU (release,
// abort, another association request) broke into.
var errInterrupted = errors.New("data set interrupted by another PDU")

// protocolError is a violation of PS3.8/PS3.7 by the peer that ends the
// association with an A-ABORT carrying reason.
type protocolError struct {
	reason byte
	msg    string
}

func (e *protocolError) Error() string { return e.msg }

// nextPDV returns the next presentation data value, reading PDUs as needed
// (each read bounded by the idle timeout). When a PDU other than P-DATA-TF
// arrives it is returned as other and the PDV is empty.
func (a *association) nextPDV() (pdv pdu.PDV, other pdu.PDU, err error) {
	for len(a.pending) == 0 {
		a.conn.SetReadDeadline(time.Now().Add(a.cfg.IdleTimeout))
		p, err := a.rd.Next(a.cfg.MaxPDULength)
		if err != nil {
			return pdu.PDV{}, nil, err
		}
		pd, ok := p.(*pdu.PDataTF)
		if !ok {
			return pdu.PDV{}, p, nil
		}
		a.pending = pd.Items
	}
	pdv = a.pending[0]
	a.pending = a.pending[1:]
	if _, ok := a.contexts[pdv.ContextID]; !ok {
		return pdv, nil, &protocolError{pdu.AbortReasonInvalidParamValue,
			fmt.Sprintf("PDV on presentation context %d, which was not accepted", pdv.ContextID)}
	}
	return pdv, nil, nil
}

// dataPhase serves DIMSE messages until release, abort or error.
func (a *association) dataPhase() {
	for {
		pdv, other, err := a.nextPDV()
		if err != nil {
			a.endOnError(err, "waiting for the next message")
			return
		}
		if other != nil {
			a.endOnPDU(other)
			return
		}
		if !pdv.Command {
			a.abort(pdu.AbortReasonUnexpectedPDU, "data set fragment without a command")
			return
		}
		cmd, ctxID, err := a.readCommand(pdv)
		if err != nil {
			a.endOnError(err, "reading a command set")
			return
		}
		if !a.handleCommand(cmd, ctxID) {
			return
		}
	}
}

// readCommand reassembles a command set starting with first, bounded by
// MaxCommandSetSize, and decodes it.
func (a *association) readCommand(first pdu.PDV) (*dimse.Command, byte, error) {
	ctxID := first.ContextID
	a.cmdBuf = append(a.cmdBuf[:0], first.Data...)
	last := first.Last
	for !last {
		if len(a.cmdBuf) > a.cfg.MaxCommandSetSize {
			break
		}
		pdv, other, err := a.nextPDV()
		if err != nil {
			return nil, 0, err
		}
		if other != nil {
			return nil, 0, a.interruptedBy(other)
		}
		if !pdv.Command || pdv.ContextID != ctxID {
			return nil, 0, &protocolError{pdu.AbortReasonUnexpectedPDU, "command set fragments interleaved with other data"}
		}
		a.cmdBuf = append(a.cmdBuf, pdv.Data...)
		last = pdv.Last
	}
	if len(a.cmdBuf) > a.cfg.MaxCommandSetSize {
		return nil, 0, &protocolError{pdu.AbortReasonInvalidParamValue,
			fmt.Sprintf("command set longer than %d bytes", a.cfg.MaxCommandSetSize)}
	}
	cmd, err := dimse.Decode(a.cmdBuf)
	if err != nil {
		return nil, 0, &protocolError{pdu.AbortReasonInvalidParamValue, fmt.Sprintf("undecodable command set: %v", err)}
	}
	return cmd, ctxID, nil
}

// interruptedBy handles a PDU that arrived in the middle of a message: an
// A-ABORT ends the association quietly, anything else is a protocol error.
func (a *association) interruptedBy(p pdu.PDU) error {
	if _, ok := p.(*pdu.Abort); ok {
		a.endOnPDU(p)
		return errInterrupted
	}
	return &protocolError{pdu.AbortReasonUnexpectedPDU,
		fmt.Sprintf("PDU type %#02x in the middle of a DIMSE message", byte(p.Type()))}
}

// endOnPDU handles a non-P-DATA PDU between messages.
func (a *association) endOnPDU(p pdu.PDU) {
	switch p := p.(type) {
	case *pdu.ReleaseRQ:
		if err := a.send(&pdu.ReleaseRP{}); err == nil {
			a.log.Info("association released", "instances", a.instances, "bytes", a.bytes)
			a.emit(Event{Kind: AssociationReleased, Association: a.info, Bytes: a.bytes, Instances: a.instances})
			a.cancel()
			a.lingerUntilClosed()
		}
	case *pdu.Abort:
		a.peerAborted(fmt.Sprintf("peer sent A-ABORT (source %d, reason %d)", p.Source, p.Reason))
	default:
		a.abort(pdu.AbortReasonUnexpectedPDU, fmt.Sprintf("unexpected PDU type %#02x after association", byte(p.Type())))
	}
}

// endOnError ends the association after a read or protocol error.
func (a *association) endOnError(err error, while string) {
	var perr *protocolError
	switch {
	case errors.Is(err, errInterrupted):
		// already handled (peer abort)
	case errors.As(err, &perr):
		a.abort(perr.reason, perr.msg)
	default:
		a.failRead(err, while)
	}
}
