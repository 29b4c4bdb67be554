package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"

	"github.com/dicominbox/dicominbox/app/tlsconf"
)

// EchoResult is the outcome of a successful C-ECHO round trip.
type EchoResult struct {
	Status   uint16
	Duration time.Duration
	Peer     string // implementation version name of the peer, when it sent one
}

// Echo verifies a remote DICOM node: associate, C-ECHO, release. The error
// says exactly what failed: connection refused, rejected (with reason),
// timed out, aborted.
func Echo(ctx context.Context, addr, callingAE, calledAE string) (EchoResult, error) {
	return EchoTLS(ctx, addr, callingAE, calledAE, nil)
}

// EchoTLS is Echo over DICOM TLS with t (nil: plain DICOM, as Echo).
func EchoTLS(ctx context.Context, addr, callingAE, calledAE string, t *ClientTLS) (EchoResult, error) {
	start := time.Now()
	dc := scp.DialConfig{
		CallingAE: callingAE,
		CalledAE:  calledAE,
		Contexts: []scp.ProposedContext{{AbstractSyntax: uid.Verification,
			TransferSyntaxes: []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}}},
	}
	if t != nil {
		var err error
		if dc.TLS, err = t.config(); err != nil {
			return EchoResult{}, err
		}
	}
	c, err := scp.Dial(ctx, addr, dc)
	if err != nil {
		return EchoResult{}, describeDialError(addr, err)
	}
	res := EchoResult{Peer: c.Accepted().UserInfo.ImplementationVersionName}
	if _, ok := c.ContextFor(uid.Verification, uid.ExplicitVRLittleEndian); !ok {
		if _, ok := c.ContextFor(uid.Verification, uid.ImplicitVRLittleEndian); !ok {
			c.Abort()
			return res, errors.New("the peer accepted the association but not the Verification service")
		}
	}
	res.Status, err = c.Echo(ctx)
	if err != nil {
		c.Abort()
		return res, describeDialError(addr, err)
	}
	if err := c.Release(ctx); err != nil {
		return res, fmt.Errorf("C-ECHO answered but the release failed: %w", err)
	}
	res.Duration = time.Since(start)
	if res.Status != 0 {
		return res, fmt.Errorf("C-ECHO answered with status %04X", res.Status)
	}
	return res, nil
}

func describeDialError(addr string, err error) error {
	var rej *scp.RejectedError
	var ne net.Error
	tlsWords := tlsconf.Describe(err, "node")
	switch {
	case errors.As(err, &rej):
		return err
	case tlsWords != "":
		return &describedError{tlsWords, err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connection to %s refused: nothing listens on that port", addr)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer from %s in time: %w", addr, err)
	}
	return err
}
