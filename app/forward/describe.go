package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/segmentio/kafka-go"

	"github.com/dicominbox/dicominbox/app/tlsconf"
)

// Describe says in words why talking to Kafka failed: "cannot reach broker
// 127.0.0.1:9: connection refused", "authentication failed", "topic x does
// not exist", ... topic names the topic of the failed call ("" if none).
func Describe(err error, topic string) string {
	if err == nil {
		return ""
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				return Describe(e, topic)
			}
		}
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		switch ke {
		case kafka.UnknownTopicOrPartition:
			if topic != "" {
				return fmt.Sprintf("topic %q does not exist", topic)
			}
			return "the topic does not exist"
		case kafka.SASLAuthenticationFailed:
			return "authentication failed (check the SASL mechanism, user name and password)"
		case kafka.UnsupportedSASLMechanism:
			return "the broker does not accept this SASL mechanism"
		case kafka.IllegalSASLState:
			return "authentication failed (the broker expects SASL differently)"
		case kafka.TopicAuthorizationFailed:
			return fmt.Sprintf("not allowed to write to topic %q", topic)
		case kafka.ClusterAuthorizationFailed:
			return "not authorized by the cluster"
		case kafka.NotEnoughReplicas, kafka.NotEnoughReplicasAfterAppend:
			return "not enough in-sync replicas to acknowledge the write"
		case kafka.LeaderNotAvailable, kafka.NotLeaderForPartition:
			return "the partition leader is not available (broker restarting?)"
		case kafka.MessageSizeTooLarge:
			return "an event is larger than the broker accepts"
		}
		return ke.Title()
	}
	if s := tlsconf.Describe(err, "broker"); s != "" {
		return s
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		addr := ""
		if op.Addr != nil {
			addr = op.Addr.String()
		}
		return fmt.Sprintf("cannot reach broker %s: %s", addr, netReason(op.Err))
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("cannot resolve broker host %q", dns.Name)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "the broker did not answer in time"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "the broker closed the connection"
	case errors.Is(err, errNoBrokers):
		return errNoBrokers.Error()
	}
	return err.Error()
}

// netReason is the last, human part of a dial error ("connection refused").
func netReason(err error) string {
	switch {
	case err == nil:
		return "unknown error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case isTimeout(err):
		return "no answer (timeout)"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "unknown host"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// conclusive reports whether a description already names the cause; for
// the others (a closed connection, anything unknown) a fresh dial with the
// same TLS and SASL settings usually tells more (kafka-go's pooled transport
// reports a failed SASL handshake only as a closed connection).
func conclusive(desc string) bool {
	return !strings.HasPrefix(desc, "the broker closed the connection") && !strings.Contains(desc, "EOF")
}

// diagnose dials each broker with the configured TLS and SASL and returns the
// description of the first failure, or "" when every broker accepted.
func diagnose(ctx context.Context, c *Config) string {
	for _, b := range c.Brokers {
		conn, err := c.dialer().DialContext(ctx, "tcp", b)
		if err != nil {
			d := Describe(err, "")
			if strings.Contains(d, "authenticate") || strings.HasPrefix(d, "could not") {
				d = "authentication failed (check the SASL mechanism, user name and password)"
			}
			return d
		}
		conn.Close()
	}
	return ""
}
