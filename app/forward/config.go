// Package forward publishes the index's outbox to Kafka: it builds the
// events (one per stored instance, plus lifecycle events), and runs the relay
// that sends them with segmentio/kafka-go, in outbox order, deleting what the
// brokers acknowledged and backing off while they cannot be reached. It also
// probes a configuration for the settings dialog's "test connection".
//
// Delivery is at least once: an event is deleted from the outbox only after
// the brokers acknowledged it (acks=all); a crash or a failed acknowledgement
// sends it again. Consumers de-duplicate on the event id. The package never
// sits on the C-STORE path: the store writes the outbox, the relay reads it.
package forward

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/dicominbox/dicominbox/app/tlsconf"
)

// Defaults of Config.
const (
	DefaultBatchSize    = 256
	DefaultBatchTimeout = 2 * time.Millisecond
	DefaultTimeout      = 10 * time.Second
	DefaultDialTimeout  = 5 * time.Second
	DefaultMinBackoff   = 250 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultLinger       = 20 * time.Millisecond
)

// Config says where and how the relay publishes. Zero durations mean the
// defaults above.
type Config struct {
	Brokers []string // host:port
	// Topic receives the instance events; LifecycleTopic the lifecycle
	// events ("" : lifecycle events are not published, and dropped).
	Topic, LifecycleTopic string
	ClientID              string
	TLS                   *tls.Config    // nil: plain TCP
	SASL                  sasl.Mechanism // nil: no authentication

	// BatchSize is how many outbox events one publish takes at most.
	BatchSize int
	// BatchTimeout is how long kafka-go waits to fill a batch (its 1 s
	// default would delay every lone event).
	BatchTimeout time.Duration
	// Timeout bounds every call to the brokers (write, read, metadata).
	Timeout     time.Duration
	DialTimeout time.Duration
	// Linger is how long the relay waits, once woken by a new event less
	// than Linger after its last publish (under load), before it reads the
	// outbox, so that events arriving together are published in one request
	// and deleted in one transaction (negative: never). An event after a
	// quiet spell is published at once.
	Linger time.Duration
	// MinBackoff and MaxBackoff bound the pause between attempts while the
	// brokers fail: it doubles from MinBackoff up to MaxBackoff, with jitter.
	MinBackoff, MaxBackoff time.Duration
}

func (c *Config) fill() {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = DefaultBatchTimeout
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
}

// TLSConfig builds the client TLS configuration: server certificates are
// checked against caFile (PEM) or, when it is empty, the system roots; a
// client certificate is presented when certFile and keyFile are given.
// insecureSkipVerify turns the server check off (tests only).
func TLSConfig(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	c, err := tlsconf.Client(caFile, certFile, keyFile, insecureSkipVerify)
	if err != nil {
		return nil, fmt.Errorf("kafka TLS: %w", err)
	}
	return c, nil
}

// SASLMechanism returns the kafka-go mechanism for "PLAIN", "SCRAM-SHA-256"
// or "SCRAM-SHA-512"; nil for "".
func SASLMechanism(mechanism, user, password string) (sasl.Mechanism, error) {
	switch mechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: user, Password: password}, nil
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if mechanism == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, user, password)
		if err != nil {
			return nil, fmt.Errorf("kafka SASL %s: %w", mechanism, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka SASL: unknown mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", mechanism)
}

// transport is the connection pool a Writer or Client uses.
func (c *Config) transport() *kafka.Transport {
	return &kafka.Transport{
		Dial:        (&net.Dialer{Timeout: c.DialTimeout}).DialContext,
		DialTimeout: c.DialTimeout,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 15 * time.Second,
		ClientID:    c.ClientID,
		TLS:         c.TLS,
		SASL:        c.SASL,
	}
}

// dialer opens single connections, for diagnosis and probes.
func (c *Config) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: c.DialTimeout, ClientID: c.ClientID, TLS: c.TLS, SASLMechanism: c.SASL}
}

var errNoBrokers = errors.New("no Kafka brokers configured")
