package forward

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// Probe checks a configuration the way the relay will use it: every broker
// is dialled (with TLS and SASL), then the cluster's metadata is asked for
// the topics, which must exist. The error says in words what is wrong.
func Probe(ctx context.Context, cfg Config) error {
	if len(cfg.Brokers) == 0 {
		return errNoBrokers
	}
	cfg.fill()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	var reached int
	var first error
	for _, b := range cfg.Brokers {
		conn, err := cfg.dialer().DialContext(ctx, "tcp", b)
		if err != nil {
			if first == nil {
				first = errors.New(Describe(err, ""))
			}
			continue
		}
		conn.Close()
		reached++
	}
	if reached == 0 {
		return first
	}
	topics := []string{cfg.Topic}
	if cfg.LifecycleTopic != "" {
		topics = append(topics, cfg.LifecycleTopic)
	}
	tr := cfg.transport()
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: cfg.Timeout, Transport: tr}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return errors.New(Describe(err, ""))
	}
	for _, want := range topics {
		found := false
		for _, t := range md.Topics {
			if t.Name != want {
				continue
			}
			found = true
			if t.Error != nil {
				return errors.New(Describe(t.Error, want))
			}
			if len(t.Partitions) == 0 {
				return fmt.Errorf("topic %q has no partitions", want)
			}
		}
		if !found {
			return fmt.Errorf("topic %q does not exist", want)
		}
	}
	return nil
}
