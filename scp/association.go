package scp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/scp/pdu"
)

// association serves one TCP connection: the acceptor side of the PS3.8
// state machine, from A-ASSOCIATE-RQ to release or abort.
type association struct {
	srv *Server
	// cfg is the server's configuration when the connection was accepted:
	// the association keeps it to its end, whatever Reconfigure does.
	cfg  *Config
	conn net.Conn
	rd   *pdu.Reader
	log  *slog.Logger
	info AssociationInfo

	ctx    context.Context
	cancel context.CancelFunc

	writeMu sync.Mutex
	wbuf    []byte

	contexts  map[byte]negotiatedContext
	pending   []pdu.PDV // PDVs of the last P-DATA-TF not yet consumed
	cmdBuf    []byte    // reassembled incoming command set
	cmdOut    []byte    // encoded outgoing command set
	instances int
	bytes     int64
	counted   bool // counted against MaxAssociations

	abortOnce sync.Once
}

func newAssociation(s *Server, conn net.Conn) *association {
	ctx, cancel := context.WithCancel(context.Background())
	id := s.nextID.Add(1)
	a := &association{
		srv:    s,
		cfg:    s.cfg.Load(),
		conn:   conn,
		ctx:    ctx,
		cancel: cancel,
		info: AssociationInfo{
			ID:         id,
			RemoteAddr: conn.RemoteAddr().String(),
			LocalAddr:  conn.LocalAddr().String(),
			StartedAt:  time.Now(),
		},
	}
	a.log = s.log.With("assoc", id, "peer", a.info.RemoteAddr)
	a.rd = pdu.NewReader(bufio.NewReaderSize(newQuickAckReader(conn), 64*1024))
	return a
}

// serve runs the association to its end. A panic in here (or in the
// handler) aborts this association only; the server keeps serving.
func (a *association) serve() {
	defer a.srv.untrack(a)
	defer a.cancel()
	defer a.conn.Close()
	defer func() {
		if a.counted {
			a.srv.active.Add(-1)
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("association panicked; aborting it", "panic", r)
			a.abort(pdu.AbortReasonNotSpecified, fmt.Sprintf("internal error: %v", r))
		}
	}()
	// Counted from the first byte so that a flood of connections that never
	// associate also meets the limit.
	a.counted = true
	over := a.srv.active.Add(1) > int64(a.cfg.MaxAssociations)

	rq, ok := a.readAssociateRQ()
	if !ok {
		return
	}
	a.fillInfo(rq)
	a.emit(Event{Kind: AssociationRequested, Association: a.info})
	if rej := a.admit(rq, over); rej != nil {
		a.reject(rej)
		return
	}
	if !a.accept(rq) {
		return
	}
	a.dataPhase()
}

// readAssociateRQ waits (ARTIM) for the first PDU, which must be an A-ASSOCIATE-RQ.
func (a *association) readAssociateRQ() (*pdu.AssociateRQ, bool) {
	a.conn.SetReadDeadline(time.Now().Add(a.cfg.ARTIMTimeout))
	p, err := a.rd.Next(a.cfg.MaxPDULength)
	if err != nil {
		a.failRead(err, "waiting for A-ASSOCIATE-RQ")
		return nil, false
	}
	rq, ok := p.(*pdu.AssociateRQ)
	if !ok {
		a.abort(pdu.AbortReasonUnexpectedPDU, fmt.Sprintf("expected A-ASSOCIATE-RQ, got PDU type %#02x", byte(p.Type())))
		return nil, false
	}
	return rq, true
}

func (a *association) fillInfo(rq *pdu.AssociateRQ) {
	a.info.CallingAE = rq.CallingAE
	a.info.CalledAE = rq.CalledAE
	a.info.ImplementationClassUID = rq.UserInfo.ImplementationClassUID
	a.info.ImplementationVersionName = rq.UserInfo.ImplementationVersionName
	a.info.PeerMaxPDULength = rq.UserInfo.MaxPDULength
	a.log = a.log.With("calling", rq.CallingAE, "called", rq.CalledAE)
	if tc, ok := a.conn.(*tls.Conn); ok { // the handshake is done: the RQ came through it
		st := tc.ConnectionState()
		a.info.TLS = st.HandshakeComplete
		if len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 {
			a.info.ClientCertificate = st.PeerCertificates[0].Subject.String()
		}
		a.log = a.log.With("tls", a.info.TLS, "client_cert", a.info.ClientCertificate)
	}
}

func (a *association) admit(rq *pdu.AssociateRQ, over bool) *rejection {
	if rej := checkAssociation(a.cfg, rq); rej != nil {
		return rej
	}
	if over {
		return &rejection{pdu.AssociateRJ{Result: pdu.RejectTransient, Source: pdu.RejectSourceProviderPresentation, Reason: pdu.RejectReasonLocalLimitExceeded},
			fmt.Sprintf("too many associations (limit %d)", a.cfg.MaxAssociations)}
	}
	if a.cfg.Admit != nil {
		if err := a.cfg.Admit(a.info); err != nil {
			return &rejection{pdu.AssociateRJ{Result: pdu.RejectTransient, Source: pdu.RejectSourceUser, Reason: pdu.RejectReasonNoReason}, err.Error()}
		}
	}
	return nil
}

func (a *association) reject(rej *rejection) {
	if a.srv.rejects.admit(rej.reason, a.info.RemoteAddr) {
		a.log.Warn("association rejected", "reason", rej.reason, "result", rej.rj.Result, "source", rej.rj.Source, "rj_reason", rej.rj.Reason)
	}
	a.emit(Event{Kind: AssociationRejected, Association: a.info, Reason: rej.reason})
	if err := a.send(&rej.rj); err != nil {
		return
	}
	a.lingerUntilClosed()
}

// lingerUntilClosed waits (ARTIM) for the peer to close after RJ or RP, so
// that our last PDU is not lost to a TCP reset.
func (a *association) lingerUntilClosed() {
	if tc, ok := a.conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	a.conn.SetReadDeadline(time.Now().Add(a.cfg.ARTIMTimeout))
	io.Copy(io.Discard, io.LimitReader(a.conn, 1<<20))
}

func (a *association) accept(rq *pdu.AssociateRQ) bool {
	answers, accepted := negotiate(a.cfg, rq)
	a.contexts = accepted
	ac := &pdu.AssociateAC{
		ProtocolVersion:      1,
		CalledAE:             rq.CalledAE,
		CallingAE:            rq.CallingAE,
		ApplicationContext:   pdu.ApplicationContextName,
		PresentationContexts: answers,
		UserInfo: pdu.UserInfo{
			MaxPDULength:              a.cfg.MaxPDULength,
			ImplementationClassUID:    ImplementationClassUID,
			ImplementationVersionName: ImplementationVersionName,
			RoleSelections:            roleSelections(rq.UserInfo.RoleSelections, accepted),
		},
	}
	if rq.UserInfo.AsyncOps != nil {
		// We perform one operation at a time; pipelined requests are still
		// answered, in order.
		ac.UserInfo.AsyncOps = &pdu.AsyncOpsWindow{MaxInvoked: 1, MaxPerformed: 1}
	}
	if err := a.send(ac); err != nil {
		return false
	}
	a.log.Info("association accepted", "contexts_proposed", len(rq.PresentationContexts), "contexts_accepted", len(accepted))
	a.emit(Event{Kind: AssociationAccepted, Association: a.info})
	return true
}

// send encodes and writes one PDU.
func (a *association) send(p pdu.PDU) error {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	a.wbuf = p.Append(a.wbuf[:0])
	return a.writeLocked(fmt.Sprintf("PDU type %#02x", byte(p.Type())))
}

// sendCommand writes a command set as one P-DATA-TF with a single, last PDV.
func (a *association) sendCommand(ctxID byte, cmd []byte) error {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	a.wbuf = appendCommandPDUs(a.wbuf[:0], ctxID, cmd, a.info.PeerMaxPDULength)
	return a.writeLocked("command set")
}

// appendCommandPDUs appends cmd as P-DATA-TF PDUs whose variable field
// (one PDV item: its 6-byte header and a fragment) fits in peerMax, the
// maximum length the peer announced (0: no limit): one PDU for any usual
// peer, the fragments of a command set otherwise (PS3.8 9.3.1).
func appendCommandPDUs(b []byte, ctxID byte, cmd []byte, peerMax uint32) []byte {
	frag := len(cmd)
	if peerMax != 0 && uint64(len(cmd))+6 > uint64(peerMax) {
		frag = max(int(peerMax)-6, 1)
	}
	for {
		n := min(frag, len(cmd))
		last := n == len(cmd)
		b = pdu.AppendPDataHeader(b, ctxID, true, last, n)
		b = append(b, cmd[:n]...)
		if cmd = cmd[n:]; last {
			return b
		}
	}
}

// writeLocked writes wbuf under the write deadline; writeMu must be held.
func (a *association) writeLocked(what string) error {
	a.conn.SetWriteDeadline(time.Now().Add(a.cfg.WriteTimeout))
	if _, err := a.conn.Write(a.wbuf); err != nil {
		a.log.Warn("write to peer failed", "what", what, "err", err)
		return fmt.Errorf("send %s: %w", what, err)
	}
	return nil
}

// abort sends an A-ABORT (service provider) and ends the association.
func (a *association) abort(reason byte, why string) {
	a.abortOnce.Do(func() {
		a.log.Warn("association aborted", "reason", why)
		a.emit(Event{Kind: AssociationAborted, Association: a.info, Reason: why, Bytes: a.bytes, Instances: a.instances})
		a.send(&pdu.Abort{Source: pdu.AbortSourceProvider, Reason: reason})
		a.cancel()
	})
}

// abortFromOutside is called by Shutdown/Close from another goroutine: it
// sends the A-ABORT and unblocks a pending read.
func (a *association) abortFromOutside(why string) {
	a.abort(pdu.AbortReasonNotSpecified, why)
	a.conn.SetReadDeadline(time.Now())
}

// peerAborted records an A-ABORT or a broken connection from the peer side.
func (a *association) peerAborted(why string) {
	a.abortOnce.Do(func() {
		a.log.Warn("association aborted by peer", "reason", why)
		a.emit(Event{Kind: AssociationAborted, Association: a.info, Reason: why, Bytes: a.bytes, Instances: a.instances})
		a.cancel()
	})
}

// failRead turns a read error into the right end of the association.
func (a *association) failRead(err error, while string) {
	var perr *pdu.Error
	var ne net.Error
	switch {
	case errors.As(err, &perr):
		a.abort(perr.AbortReason, fmt.Sprintf("malformed PDU %s: %v", while, err))
	case errors.As(err, &ne) && ne.Timeout():
		a.abort(pdu.AbortReasonNotSpecified, fmt.Sprintf("timed out %s", while))
	case errors.Is(err, io.EOF):
		a.peerAborted(fmt.Sprintf("peer closed the connection %s", while))
	case errors.Is(err, io.ErrUnexpectedEOF):
		a.peerAborted(fmt.Sprintf("peer closed the connection in the middle of a PDU %s", while))
	case errors.As(err, new(tls.RecordHeaderError)):
		a.peerAborted("not a TLS connection (a peer without TLS on the TLS port?)")
	case strings.Contains(err.Error(), "tls: "):
		a.peerAborted(fmt.Sprintf("TLS handshake failed: %v", err))
	default:
		a.peerAborted(fmt.Sprintf("connection failed %s: %v", while, err))
	}
}
