package scp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// A scripted raw-socket peer sends bad input; after each case the server must
// still answer a real DCMTK echoscu.

func validRQ() []byte {
	rq := &pdu.AssociateRQ{
		ProtocolVersion: 1, CalledAE: "INBOX", CallingAE: "RAWPEER",
		ApplicationContext: pdu.ApplicationContextName,
		PresentationContexts: []pdu.PresentationContextRQ{
			{ID: 1, AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
			{ID: 3, AbstractSyntax: ctImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
		},
		UserInfo: pdu.UserInfo{MaxPDULength: 16384, ImplementationClassUID: "1.2.3.4"},
	}
	return rq.Append(nil)
}

func pduHeader(t pdu.Type, length uint32) []byte {
	b := []byte{byte(t), 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[2:], length)
	return b
}

// rawPeer is one raw TCP connection to the server.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	rd   *pdu.Reader
}

func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, rd: pdu.NewReader(bufio.NewReader(c))}
}

func (p *rawPeer) send(parts ...[]byte) {
	p.t.Helper()
	for _, b := range parts {
		if _, err := p.conn.Write(b); err != nil {
			p.t.Fatalf("write: %v", err)
		}
	}
}

// next reads the next PDU, failing the test after timeout.
func (p *rawPeer) next(timeout time.Duration) (pdu.PDU, error) {
	p.conn.SetReadDeadline(time.Now().Add(timeout))
	return p.rd.Next(MaxMaxPDULength)
}

func (p *rawPeer) associate() {
	p.t.Helper()
	p.send(validRQ())
	got, err := p.next(5 * time.Second)
	if _, ok := got.(*pdu.AssociateAC); !ok || err != nil {
		p.t.Fatalf("association: got %T %v, want A-ASSOCIATE-AC", got, err)
	}
}

// expectAbort asserts that an A-ABORT with reason arrives and the connection closes.
func (p *rawPeer) expectAbort(reason byte) {
	p.t.Helper()
	got, err := p.next(5 * time.Second)
	ab, ok := got.(*pdu.Abort)
	if !ok {
		p.t.Fatalf("got %T (%v), want A-ABORT reason %d", got, err, reason)
	}
	if ab.Source != pdu.AbortSourceProvider || ab.Reason != reason {
		p.t.Errorf("got A-ABORT source %d reason %d, want source 2 reason %d", ab.Source, ab.Reason, reason)
	}
	p.expectClosed(5 * time.Second)
}

func (p *rawPeer) expectClosed(within time.Duration) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, p.conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		p.t.Fatalf("connection still open after %v", within)
	}
}

func pdata(ctxID byte, command, last bool, data []byte) []byte {
	b := pdu.AppendPDataHeader(nil, ctxID, command, last, len(data))
	return append(b, data...)
}

// echoscuWorks runs DCMTK's echoscu against the server.
func echoscuWorks(t *testing.T, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "echoscu", "-aec", "INBOX", host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("echoscu after bad input (DCMTK is installed by `make test`): %v\n%s", err, out)
	}
}

func TestBadInputKeepsServing(t *testing.T) {
	var stores atomic.Int32
	h := HandlerFunc(func(_ context.Context, _ *StoreRequest, r io.Reader) Status {
		stores.Add(1)
		if _, err := io.Copy(io.Discard, r); err != nil {
			return Status{Code: dimse.StatusProcessingFailure}
		}
		return Status{}
	})
	_, addr := startServer(t, Config{Handler: h, ARTIMTimeout: 300 * time.Millisecond, IdleTimeout: 500 * time.Millisecond})
	storeRQ := dimse.NewCStoreRQ(1, ctImageStorage, "1.2.3", dimse.PriorityMedium).Append(nil)

	cases := []struct {
		name string
		run  func(p *rawPeer)
	}{
		{"unknown PDU type", func(p *rawPeer) {
			p.send(pduHeader(0x09, 4), []byte{0, 0, 0, 0})
			p.expectAbort(pdu.AbortReasonUnrecognizedPDU)
		}},
		{"PDU length 0xFFFFFFFF", func(p *rawPeer) {
			p.send(pduHeader(pdu.TypeAssociateRQ, 0xFFFFFFFF), make([]byte, 64))
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"P-DATA length 0xFFFFFFFF after association", func(p *rawPeer) {
			p.associate()
			p.send(pduHeader(pdu.TypePDataTF, 0xFFFFFFFF))
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"truncated PDU then silence (ARTIM)", func(p *rawPeer) {
			rq := validRQ()
			p.send(rq[:20])
			start := time.Now()
			p.expectClosed(5 * time.Second)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("closed after %v; ARTIM is 300ms", d)
			}
		}},
		{"P-DATA before association", func(p *rawPeer) {
			p.send(pdata(1, true, true, dimse.NewCEchoRQ(1).Append(nil)))
			p.expectAbort(pdu.AbortReasonUnexpectedPDU)
		}},
		{"second A-ASSOCIATE-RQ after acceptance", func(p *rawPeer) {
			p.associate()
			p.send(validRQ())
			p.expectAbort(pdu.AbortReasonUnexpectedPDU)
		}},
		{"PDV length shorter than its header", func(p *rawPeer) {
			p.associate()
			p.send(pduHeader(pdu.TypePDataTF, 5), []byte{0, 0, 0, 1, 1})
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"PDV on a context that was not negotiated", func(p *rawPeer) {
			p.associate()
			p.send(pdata(7, true, true, dimse.NewCEchoRQ(1).Append(nil)))
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"data fragment without a command", func(p *rawPeer) {
			p.associate()
			p.send(pdata(3, false, true, []byte{1, 2, 3, 4}))
			p.expectAbort(pdu.AbortReasonUnexpectedPDU)
		}},
		{"command set whose last fragment never comes", func(p *rawPeer) {
			p.associate()
			chunk := make([]byte, 8000)
			for range 10 { // 80 kB > 64 KiB cap
				p.send(pdata(3, true, false, chunk))
			}
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"data set whose last fragment never comes, then silence", func(p *rawPeer) {
			p.associate()
			p.send(pdata(3, true, true, storeRQ), pdata(3, false, false, make([]byte, 1000)))
			p.expectAbort(pdu.AbortReasonNotSpecified) // idle timeout
		}},
		{"command set with absurd element lengths", func(p *rawPeer) {
			p.associate()
			cmd := []byte{0, 0, 0, 0, 4, 0, 0, 0, 0x10, 0, 0, 0, // group length
				0, 0, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff} // (0000,0100) with length 0xFFFFFFFF
			p.send(pdata(3, true, true, cmd))
			p.expectAbort(pdu.AbortReasonInvalidParamValue)
		}},
		{"release in the middle of a data set", func(p *rawPeer) {
			p.associate()
			p.send(pdata(3, true, true, storeRQ), pdata(3, false, false, make([]byte, 100)), (&pdu.ReleaseRQ{}).Append(nil))
			p.expectAbort(pdu.AbortReasonUnexpectedPDU)
		}},
		{"peer closes in the middle of a data set", func(p *rawPeer) {
			p.associate()
			p.send(pdata(3, true, true, storeRQ), pdata(3, false, false, make([]byte, 100)))
			p.conn.Close()
		}},
		{"protocol version 2 only", func(p *rawPeer) {
			rq := validRQ()
			rq[7] = 2 // protocol version field (bytes 6-7), bit 0 cleared
			p.send(rq)
			got, err := p.next(5 * time.Second)
			rj, ok := got.(*pdu.AssociateRJ)
			if !ok || rj.Source != pdu.RejectSourceProviderACSE || rj.Reason != pdu.RejectReasonProtocolVersionNotSupported {
				t.Fatalf("got %T %+v %v, want A-ASSOCIATE-RJ protocol version not supported", got, got, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(dialRaw(t, addr))
			echoscuWorks(t, addr)
		})
	}
	if n := stores.Load(); n != 3 {
		t.Errorf("handler called %d times, want 3 (the three broken data sets)", n)
	}
}

func TestEchoscuRejectedAE(t *testing.T) {
	_, addr := startServer(t, Config{})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("echoscu", "-aec", "NOTINBOX", host, port).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "called ae title not recognized") {
		t.Fatalf("echoscu with a wrong called AE: err %v, output:\n%s", err, out)
	}
	echoscuWorks(t, addr)
}

// TestPipelinedRequestsAnsweredInOrder: a peer that does not wait for
// responses (asynchronous operations) gets every answer, in order.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	_, addr := startServer(t, Config{})
	p := dialRaw(t, addr)
	p.associate()
	var burst []byte
	for id := uint16(1); id <= 20; id++ {
		if id%2 == 0 {
			burst = append(burst, pdata(1, true, true, dimse.NewCEchoRQ(id).Append(nil))...)
			continue
		}
		rq := dimse.NewCStoreRQ(id, ctImageStorage, fmt.Sprintf("1.2.3.%d", id), dimse.PriorityMedium).Append(nil)
		burst = append(burst, pdata(3, true, true, rq)...)
		burst = append(burst, pdata(3, false, true, make([]byte, 5000))...)
	}
	p.send(burst)
	for id := uint16(1); id <= 20; id++ {
		got, err := p.next(5 * time.Second)
		pd, ok := got.(*pdu.PDataTF)
		if !ok || len(pd.Items) != 1 {
			t.Fatalf("response %d: got %T %v", id, got, err)
		}
		rsp, err := dimse.Decode(pd.Items[0].Data)
		if err != nil || rsp.MessageIDBeingRespondedTo != id || rsp.Status != dimse.StatusSuccess {
			t.Fatalf("response %d: %+v %v", id, rsp, err)
		}
	}
}

// A peer that announces a small maximum PDU length gets its responses in
// P-DATA-TF PDUs that fit (the command set fragmented), not in one PDU
// longer than it accepts.
func TestResponsesFitThePeersMaxPDU(t *testing.T) {
	_, addr := startServer(t, Config{})
	p := dialRaw(t, addr)
	rq := &pdu.AssociateRQ{
		ProtocolVersion: 1, CalledAE: "INBOX", CallingAE: "TINYPDU",
		ApplicationContext: pdu.ApplicationContextName,
		PresentationContexts: []pdu.PresentationContextRQ{
			{ID: 1, AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
		},
		UserInfo: pdu.UserInfo{MaxPDULength: 40, ImplementationClassUID: "1.2.3.4"},
	}
	p.send(rq.Append(nil))
	if got, err := p.next(5 * time.Second); err != nil {
		t.Fatalf("association: %T %v", got, err)
	}
	p.send(pdata(1, true, true, dimse.NewCEchoRQ(7).Append(nil)))
	var cmd []byte
	pdus := 0
	for last := false; !last; {
		got, err := p.next(5 * time.Second)
		pd, ok := got.(*pdu.PDataTF)
		if !ok {
			t.Fatalf("response PDU %d: %T %v", pdus+1, got, err)
		}
		pdus++
		length := 0
		for _, it := range pd.Items {
			length += 6 + len(it.Data)
			if last {
				t.Fatal("a fragment after the last one")
			}
			cmd, last = append(cmd, it.Data...), it.Last
		}
		if length > 40 {
			t.Errorf("PDU %d: %d bytes of PDV items, the peer accepts 40", pdus, length)
		}
	}
	rsp, err := dimse.Decode(cmd)
	if err != nil || rsp.MessageIDBeingRespondedTo != 7 || rsp.Status != dimse.StatusSuccess {
		t.Fatalf("reassembled response: %+v %v", rsp, err)
	}
	if pdus < 2 {
		t.Errorf("the response came in %d PDU: nothing was fragmented", pdus)
	}
}
