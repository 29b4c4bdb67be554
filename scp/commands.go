package scp

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
)

// handleCommand answers one DIMSE request. It returns false when the
// association has ended.
func (a *association) handleCommand(cmd *dimse.Command, ctxID byte) bool {
	pc := a.contexts[ctxID]
	switch {
	case cmd.CommandField == dimse.CStoreRQ:
		return a.handleStore(cmd, pc)
	case cmd.CommandField == dimse.CEchoRQ:
		if !a.discardDataSet(cmd, ctxID) {
			return false
		}
		status := dimse.StatusSuccess
		if pc.AbstractSyntax != cmd.AffectedSOPClassUID {
			status = dimse.StatusSOPClassNotSupported
		}
		a.emit(Event{Kind: EchoAnswered, Association: a.info, Status: status})
		return a.respond(ctxID, dimse.NewCEchoRSP(cmd, status))
	case cmd.CommandField == dimse.CCancelRQ:
		return true // nothing of ours can be cancelled
	case cmd.CommandField&0x8000 != 0:
		a.log.Warn("ignoring a DIMSE response sent to the SCP", "command_field", fmt.Sprintf("%#04x", cmd.CommandField))
		return a.discardDataSet(cmd, ctxID)
	default:
		a.log.Warn("unsupported DIMSE operation", "command_field", fmt.Sprintf("%#04x", cmd.CommandField))
		if !a.discardDataSet(cmd, ctxID) {
			return false
		}
		return a.respond(ctxID, dimse.NewFailureRSP(cmd, dimse.StatusUnrecognizedOperation))
	}
}

// handleStore streams a C-STORE data set to the Handler and answers it.
func (a *association) handleStore(cmd *dimse.Command, pc negotiatedContext) bool {
	if !cmd.HasDataSet() {
		return a.respond(pc.ID, dimse.NewCStoreRSP(cmd, dimse.StatusCannotUnderstand, "C-STORE without a data set"))
	}
	var refuse *Status
	switch {
	case cmd.AffectedSOPInstanceUID == "":
		refuse = &Status{dimse.StatusCannotUnderstand, "no Affected SOP Instance UID"}
	case cmd.AffectedSOPClassUID != pc.AbstractSyntax:
		refuse = &Status{dimse.StatusSOPClassNotSupported,
			fmt.Sprintf("SOP class %s sent on a context for %s", cmd.AffectedSOPClassUID, pc.AbstractSyntax)}
	}
	req := &StoreRequest{
		Association:             &a.info,
		MessageID:               cmd.MessageID,
		SOPClassUID:             cmd.AffectedSOPClassUID,
		SOPInstanceUID:          cmd.AffectedSOPInstanceUID,
		TransferSyntaxUID:       pc.TransferSyntax,
		Priority:                cmd.Priority,
		MoveOriginatorAET:       cmd.MoveOriginatorAET,
		MoveOriginatorMessageID: cmd.MoveOriginatorMessageID,
	}
	ev := Event{Association: a.info, SOPClassUID: req.SOPClassUID, SOPInstanceUID: req.SOPInstanceUID}
	dr := &dataReader{a: a, ctxID: pc.ID, progress: &ev, nextReport: progressEvery}
	var status Status
	if refuse != nil {
		status = *refuse
	} else {
		ev.Kind = InstanceStarted
		a.emit(ev)
		status = a.callHandler(req, dr)
	}
	// Whatever the handler read, the rest of the data set must leave the wire.
	if _, err := io.Copy(io.Discard, dr); err != nil {
		a.bytes += dr.n
		ev.Kind, ev.Bytes, ev.Status, ev.Reason = InstanceFailed, dr.n, status.Code, "data set broke off: "+err.Error()
		a.emit(ev)
		a.endOnError(err, "receiving a data set")
		return false
	}
	a.bytes += dr.n
	ev.Bytes, ev.Status, ev.Reason = dr.n, status.Code, status.Comment
	if isFailure(status.Code) {
		ev.Kind = InstanceFailed
		a.log.Warn("C-STORE failed", "sop_instance", req.SOPInstanceUID, "status", fmt.Sprintf("%04X", status.Code), "reason", status.Comment)
	} else {
		ev.Kind = InstanceStored
		a.instances++
	}
	a.emit(ev)
	return a.respond(pc.ID, dimse.NewCStoreRSP(cmd, status.Code, status.Comment))
}

// callHandler runs the handler, turning a panic into an A700 answer so that
// one bad instance cannot take the receiver down.
func (a *association) callHandler(req *StoreRequest, dr *dataReader) (st Status) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("store handler panicked", "sop_instance", req.SOPInstanceUID, "panic", r)
			st = Status{dimse.StatusOutOfResources, "internal error while storing"}
		}
	}()
	return a.cfg.Handler.Store(a.ctx, req, dr)
}

// discardDataSet reads and drops the data set that follows cmd, if any.
func (a *association) discardDataSet(cmd *dimse.Command, ctxID byte) bool {
	if !cmd.HasDataSet() {
		return true
	}
	dr := &dataReader{a: a, ctxID: ctxID}
	if _, err := io.Copy(io.Discard, dr); err != nil {
		a.endOnError(err, "discarding a data set")
		return false
	}
	return true
}

// respond sends a command set (no data set) on context ctxID.
func (a *association) respond(ctxID byte, rsp *dimse.Command) bool {
	a.cmdOut = rsp.Append(a.cmdOut[:0])
	if err := a.sendCommand(ctxID, a.cmdOut); err != nil {
		a.peerAborted(fmt.Sprintf("could not send the response: %v", err))
		return false
	}
	return true
}

func isFailure(code uint16) bool {
	switch {
	case code == dimse.StatusSuccess:
		return false
	case code&0xF000 == 0xB000:
		return false // warning: stored
	}
	return true
}

// dataReader streams the data set fragments of one message, exactly as they
// arrive, and returns io.EOF after the last one.
type dataReader struct {
	a     *association
	ctxID byte
	cur   []byte
	last  bool
	err   error
	n     int64

	// progress, when set, is the template of the BytesReceived events sent
	// each time another progressEvery bytes have arrived.
	progress   *Event
	nextReport int64
}

// progressEvery is the spacing of BytesReceived events within one data set.
const progressEvery = 1 << 20

func (d *dataReader) advance(n int) {
	d.cur = d.cur[n:]
	d.n += int64(n)
	if d.progress != nil && d.n >= d.nextReport {
		d.nextReport = d.n + progressEvery
		e := *d.progress
		e.Kind, e.Bytes, e.Time = BytesReceived, d.n, time.Time{}
		d.a.emit(e)
	}
}

func (d *dataReader) fill() error {
	for len(d.cur) == 0 {
		if d.err != nil {
			return d.err
		}
		if d.last {
			return io.EOF
		}
		pdv, other, err := d.a.nextPDV()
		switch {
		case err != nil:
			d.err = err
		case other != nil:
			d.err = d.a.interruptedBy(other)
		case pdv.Command || pdv.ContextID != d.ctxID:
			d.err = &protocolError{pdu.AbortReasonUnexpectedPDU, "data set fragments interleaved with another message"}
		default:
			d.cur, d.last = pdv.Data, pdv.Last
		}
	}
	return nil
}

// Read implements io.Reader.
func (d *dataReader) Read(p []byte) (int, error) {
	if err := d.fill(); err != nil {
		return 0, err
	}
	n := copy(p, d.cur)
	d.advance(n)
	return n, nil
}

// WriteTo implements io.WriterTo: each fragment goes to w straight from the
// PDU buffer, without a copy.
func (d *dataReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := d.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
		n, err := w.Write(d.cur)
		d.advance(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}
