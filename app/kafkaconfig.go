package app

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// validate reports every invalid Kafka field. Nothing is checked while Kafka
// is disabled, so a half-filled form can be saved switched off.
func (k KafkaConfig) validate() []error {
	if !k.Enabled {
		return nil
	}
	var errs []error
	if len(k.Brokers) == 0 {
		errs = append(errs, fmt.Errorf("Kafka brokers: at least one host:port is needed"))
	}
	for _, b := range k.Brokers {
		if err := CheckKafkaBroker(b); err != nil {
			errs = append(errs, fmt.Errorf("Kafka broker %q: %w", b, err))
		}
	}
	if err := CheckKafkaTopic(k.Topic); err != nil {
		errs = append(errs, fmt.Errorf("Kafka topic %q: %w", k.Topic, err))
	}
	if k.LifecycleTopic != "" {
		if err := CheckKafkaTopic(k.LifecycleTopic); err != nil {
			errs = append(errs, fmt.Errorf("Kafka lifecycle topic %q: %w", k.LifecycleTopic, err))
		}
	}
	switch k.SASL.Mechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.SASL.Username == "" {
			errs = append(errs, fmt.Errorf("Kafka SASL: a user name is needed for %s", k.SASL.Mechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("Kafka SASL mechanism %q: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", k.SASL.Mechanism))
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("Kafka TLS: a client certificate needs both the certificate and the key file"))
	}
	return errs
}

// CheckKafkaBroker accepts host:port with a port in 1..65535.
func CheckKafkaBroker(b string) error {
	host, port, err := net.SplitHostPort(strings.TrimSpace(b))
	if err != nil {
		return fmt.Errorf("must be host:port")
	}
	if host == "" {
		return fmt.Errorf("the host is missing")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port must be between 1 and 65535")
	}
	return nil
}

// CheckKafkaTopic applies Kafka's topic name rules: 1–249 characters of
// letters, digits, '.', '_' and '-', and not "." or "..". The settings
// dialog marks its topic fields with this error.
func CheckKafkaTopic(t string) error {
	if t == "" || len(t) > 249 {
		return errors.New("a topic name has 1 to 249 characters")
	}
	if t == "." || t == ".." {
		return fmt.Errorf("%q is not a valid topic name", t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q is not allowed in a topic name (only letters, digits, '.', '_' and '-')", r)
		}
	}
	return nil
}
