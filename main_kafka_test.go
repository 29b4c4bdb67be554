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

// A --kafka-tenants item without "=", or with an empty AE title or tenant, is
// a one-line usage error (exit 2) naming the item, before anything starts.
func TestServeRejectsMalformedKafkaTenants(t *testing.T) {
	for value, item := range map[string]string{
		"CT1":            `"CT1"`,
		"CT1=north,MR2":  `"MR2"`,
		"=north":         `"=north"`,
		"CT1=":           `"CT1="`,
		" = ":            `"="`,
		"CT1=north,,MR2": `"MR2"`, // the empty item is ignored, MR2 is not
	} {
		var stdout, stderr bytes.Buffer
		// --port -1 is invalid too: were the tenants accepted, serve would
		// stop at that (another message) instead of starting and blocking.
		code := run([]string{"serve", "--config", "/nonexistent", "--storage", t.TempDir(), "--log-level", "error",
			"--port", "-1", "--kafka-tenants", value}, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "--kafka-tenants") || !strings.Contains(lines[0], item) {
			t.Errorf("--kafka-tenants %q: exit %d, want 2 and one line naming %s; stderr:\n%s", value, code, item, stderr.String())
		}
	}
}

// Well-formed --kafka-tenants values map each AE to its tenant, ignoring
// spaces and empty items.
func TestParseTenants(t *testing.T) {
	got, err := parseTenants(" CT1 = north , MR2=south,,")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["CT1"] != "north" || got["MR2"] != "south" {
		t.Errorf("parseTenants: %v", got)
	}
	if got, err := parseTenants(""); err != nil || len(got) != 0 {
		t.Errorf("parseTenants(\"\"): %v, %v", got, err)
	}
	for _, bad := range []string{"CT1", "=north", "CT1=", "CT1=north,MR2"} {
		if _, err := parseTenants(bad); err == nil {
			t.Errorf("parseTenants(%q) accepted", bad)
		}
	}
}
