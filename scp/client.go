package scp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// ProposedContext is a presentation context an SCU proposes.
type ProposedContext struct {
	AbstractSyntax   string
	TransferSyntaxes []string
}

// DialConfig configures an SCU association.
type DialConfig struct {
	CallingAE    string // default "DICOMINBOX"
	CalledAE     string // default "ANY-SCP"
	Contexts     []ProposedContext
	MaxPDULength uint32 // what we accept; default 128 KiB
	// DisableNoDelay leaves Nagle's algorithm on, as many modalities do.
	DisableNoDelay bool
	// TLS, when set, speaks DICOM over TLS (the handshake is bounded by
	// Dial's ctx). Its ServerName defaults to addr's host.
	TLS *tls.Config
}

// RejectedError is returned by Dial when the peer answers A-ASSOCIATE-RJ.
type RejectedError struct{ RJ pdu.AssociateRJ }

func (e *RejectedError) Error() string {
	return "association rejected: " + DescribeRejection(e.RJ)
}

// AbortedError is returned when the peer sends A-ABORT.
type AbortedError struct{ Abort pdu.Abort }

func (e *AbortedError) Error() string {
	return fmt.Sprintf("association aborted by peer (source %d, reason %d)", e.Abort.Source, e.Abort.Reason)
}

// Client is the requesting side of one association (an SCU). It is not safe
// for concurrent use.
type Client struct {
	conn     net.Conn
	rd       *pdu.Reader
	peerMax  uint32
	accepted map[string]byte // abstract + "|" + ts -> context ID
	ac       *pdu.AssociateAC
	msgID    uint16
	buf      []byte
}

// Dial connects to addr and negotiates an association. ctx bounds the
// connect and the negotiation.
func Dial(ctx context.Context, addr string, cfg DialConfig) (*Client, error) {
	if cfg.CallingAE == "" {
		cfg.CallingAE = "DICOMINBOX"
	}
	if cfg.CalledAE == "" {
		cfg.CalledAE = "ANY-SCP"
	}
	if cfg.MaxPDULength == 0 {
		cfg.MaxPDULength = DefaultMaxPDULength
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok && cfg.DisableNoDelay {
		tc.SetNoDelay(false)
	}
	if cfg.TLS != nil {
		tcfg := cfg.TLS.Clone()
		if tcfg.ServerName == "" {
			tcfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	c := &Client{conn: conn, rd: pdu.NewReader(bufio.NewReaderSize(conn, 64*1024)), accepted: map[string]byte{}}
	stop := c.watch(ctx)
	defer stop()
	if err := c.associate(cfg); err != nil {
		conn.Close()
		return nil, ctxErr(ctx, err)
	}
	return c, nil
}

// watch makes a pending read or write return when ctx is done.
func (c *Client) watch(ctx context.Context) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	} else {
		c.conn.SetDeadline(time.Time{})
	}
	return context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (c *Client) associate(cfg DialConfig) error {
	rq := &pdu.AssociateRQ{
		ProtocolVersion:    1,
		CalledAE:           cfg.CalledAE,
		CallingAE:          cfg.CallingAE,
		ApplicationContext: pdu.ApplicationContextName,
		UserInfo: pdu.UserInfo{
			MaxPDULength:              cfg.MaxPDULength,
			ImplementationClassUID:    ImplementationClassUID,
			ImplementationVersionName: ImplementationVersionName,
		},
	}
	for i, pc := range cfg.Contexts {
		rq.PresentationContexts = append(rq.PresentationContexts, pdu.PresentationContextRQ{
			ID: byte(2*i + 1), AbstractSyntax: pc.AbstractSyntax, TransferSyntaxes: pc.TransferSyntaxes})
	}
	if len(rq.PresentationContexts) == 0 || len(rq.PresentationContexts) > 128 {
		return fmt.Errorf("%d presentation contexts proposed; 1 to 128 allowed", len(rq.PresentationContexts))
	}
	if _, err := c.conn.Write(rq.Append(nil)); err != nil {
		return fmt.Errorf("send A-ASSOCIATE-RQ: %w", err)
	}
	p, err := c.rd.Next(MaxMaxPDULength)
	if err != nil {
		return fmt.Errorf("read association answer: %w", err)
	}
	switch p := p.(type) {
	case *pdu.AssociateAC:
		c.ac = p
		c.peerMax = p.UserInfo.MaxPDULength
		for _, ans := range p.PresentationContexts {
			if ans.Result != pdu.PCAcceptance || int(ans.ID)/2 >= len(cfg.Contexts) {
				continue
			}
			c.accepted[cfg.Contexts[ans.ID/2].AbstractSyntax+"|"+ans.TransferSyntax] = ans.ID
		}
		return nil
	case *pdu.AssociateRJ:
		return &RejectedError{*p}
	case *pdu.Abort:
		return &AbortedError{*p}
	default:
		return fmt.Errorf("unexpected PDU type %#02x in answer to A-ASSOCIATE-RQ", byte(p.Type()))
	}
}

// Accepted returns the A-ASSOCIATE-AC the peer sent.
func (c *Client) Accepted() *pdu.AssociateAC { return c.ac }

// ContextFor returns the ID of an accepted context for abstract syntax as
// with transfer syntax ts.
func (c *Client) ContextFor(as, ts string) (byte, bool) {
	id, ok := c.accepted[as+"|"+ts]
	return id, ok
}

// Echo sends a C-ECHO-RQ and returns the response status.
func (c *Client) Echo(ctx context.Context) (uint16, error) {
	ctxID, ok := c.anyContext(uid.Verification)
	if !ok {
		return 0, errors.New("no accepted presentation context for Verification")
	}
	c.msgID++
	stop := c.watch(ctx)
	defer stop()
	if err := c.sendMessage(ctxID, dimse.NewCEchoRQ(c.msgID), nil); err != nil {
		return 0, ctxErr(ctx, err)
	}
	rsp, err := c.readResponse()
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	return rsp.Status, nil
}

// Store sends a C-STORE-RQ whose data set is read from data and sent
// verbatim, in fragments that fit the peer's maximum PDU length, and returns
// the response status.
func (c *Client) Store(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader) (Status, error) {
	ctxID, ok := c.ContextFor(sopClass, ts)
	if !ok {
		return Status{}, fmt.Errorf("no accepted presentation context for %s with %s", sopClass, ts)
	}
	c.msgID++
	stop := c.watch(ctx)
	defer stop()
	if err := c.sendMessage(ctxID, dimse.NewCStoreRQ(c.msgID, sopClass, sopInstance, dimse.PriorityMedium), data); err != nil {
		return Status{}, ctxErr(ctx, err)
	}
	rsp, err := c.readResponse()
	if err != nil {
		return Status{}, ctxErr(ctx, err)
	}
	return Status{Code: rsp.Status, Comment: rsp.ErrorComment}, nil
}

func (c *Client) anyContext(as string) (byte, bool) {
	for k, id := range c.accepted {
		if len(k) > len(as) && k[:len(as)] == as && k[len(as)] == '|' {
			return id, true
		}
	}
	return 0, false
}

// Release performs an orderly release and closes the connection.
func (c *Client) Release(ctx context.Context) error {
	defer c.conn.Close()
	stop := c.watch(ctx)
	defer stop()
	if _, err := c.conn.Write((&pdu.ReleaseRQ{}).Append(nil)); err != nil {
		return ctxErr(ctx, fmt.Errorf("send A-RELEASE-RQ: %w", err))
	}
	for {
		p, err := c.rd.Next(MaxMaxPDULength)
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("wait for A-RELEASE-RP: %w", err))
		}
		switch p := p.(type) {
		case *pdu.ReleaseRP:
			return nil
		case *pdu.Abort:
			return &AbortedError{*p}
		}
	}
}

// Abort sends an A-ABORT (service user) and closes the connection.
func (c *Client) Abort() error {
	c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := c.conn.Write((&pdu.Abort{Source: pdu.AbortSourceUser}).Append(nil))
	c.conn.Close()
	return err
}
