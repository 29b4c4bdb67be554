package main

import (
	"bytes"
	"strings"
	"testing"
)

// The Kafka flags are in --help with their defaults, and a bad broker
// address is refused before anything starts.
func TestServeKafkaFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	help := stderr.String()
	for _, want := range []string{"-kafka-brokers", "-kafka-topic", `(default "dicom.instances")`, "-kafka-lifecycle-topic",
		"-kafka-client-id", `(default "dicominbox")`, "-kafka-node-id", "-kafka-tls-ca", "-kafka-tls-cert", "-kafka-tls-key",
		"-kafka-tls-insecure-skip-verify", "-kafka-sasl-mechanism", "-kafka-sasl-user", "DICOMINBOX_KAFKA_PASSWORD"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	stderr.Reset()
	code := run([]string{"serve", "--config", "/nonexistent", "--storage", t.TempDir(), "--kafka-brokers", "no-port",
		"--kafka-sasl-mechanism", "GSSAPI"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `Kafka broker "no-port"`) || !strings.Contains(stderr.String(), "GSSAPI") {
		t.Errorf("bad Kafka flags: exit %d, stderr:\n%s", code, stderr.String())
	}
}
