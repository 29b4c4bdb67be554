package app

// Kafka authentication against kfake: SASL SCRAM-SHA-512, TLS with a CA made
// in the test, mutual TLS (kfake listens with a crypto/tls server
// configuration, so it can require and verify client certificates), and
// SASL over TLS. Each case stores instances through a running engine and
// reads the events back through the same security settings.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/forward"
)

// instanceEvents reads the instance topic through dialer and returns the
// distinct events.
func instanceEvents(t testing.TB, dialer *kafka.Dialer, broker string) map[string]kafka.Message {
	t.Helper()
	byID, _ := dedupe(t, drainTopicWith(t, dialer, broker, testTopic))
	return byID
}

// TestKafkaSCRAMSHA512: SCRAM-SHA-512 credentials publish (the events are
// read back with the same mechanism); a wrong password or the SHA-256
// variant of the mechanism is refused in words.
func TestKafkaSCRAMSHA512(t *testing.T) {
	_, broker := startKfake(t, 0, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "inbox512", "s3cret-512"))
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "inbox512", Password: "s3cret-512"}
	e, addr := startKafkaEngine(t, cfg, 500*time.Millisecond, nil)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.30", 3)
	waitFor(t, 30*time.Second, "drained over SCRAM-SHA-512", drained(e), stateOf(e))
	if n := e.kafka.relay.Load().Published(); n != 3 {
		t.Errorf("%d events acknowledged, want 3", n)
	}

	mech, err := forward.SASLMechanism("SCRAM-SHA-512", "inbox512", "s3cret-512")
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceEvents(t, &kafka.Dialer{Timeout: 10 * time.Second, SASLMechanism: mech}, broker); len(got) != 3 {
		t.Errorf("%d events on the topic, want 3", len(got))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := cfg.Kafka
	if err := TestKafkaConnection(ctx, k); err != nil {
		t.Errorf("right SCRAM-SHA-512 credentials: %v", err)
	}
	k.SASL.Password = "wrong"
	if err := TestKafkaConnection(ctx, k); err == nil || !strings.HasPrefix(err.Error(), "authentication failed") {
		t.Errorf("wrong password: %v", err)
	}
	k.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "inbox512", Password: "s3cret-512"}
	if err := TestKafkaConnection(ctx, k); err == nil || !strings.HasPrefix(err.Error(), "authentication failed") {
		t.Errorf("SHA-256 for a SHA-512 user: %v", err)
	}
}

// tlsSetup is a CA, a broker certificate for 127.0.0.1 and a client
// certificate made for one test, as PEM files.
type tlsSetup struct {
	ca                     *apptest.CA
	caFile                 string
	server                 tls.Certificate
	certFile, keyFile      string // the client's, signed by ca
	rogueCert, rogueKey    string // a client certificate of another CA
	expiredCert, expiredKy string // a client certificate of ca that expired
}

func newTLSSetup(t testing.TB) tlsSetup {
	t.Helper()
	dir := t.TempDir()
	ca := apptest.NewCA(t, "DICOM Inbox test CA")
	s := tlsSetup{ca: ca, caFile: apptest.WriteFile(t, dir, "ca.pem", ca.PEM)}
	s.server, _, _ = ca.Issue(t, dir, "broker", true, false)
	_, s.certFile, s.keyFile = ca.Issue(t, dir, "inbox-client", false, false)
	_, s.rogueCert, s.rogueKey = apptest.NewCA(t, "Other CA").Issue(t, dir, "rogue-client", false, false)
	_, s.expiredCert, s.expiredKy = ca.Issue(t, dir, "expired-client", false, true)
	return s
}

// serverConfig is the broker's TLS configuration; with mutual it requires a
// client certificate signed by the CA.
func (s tlsSetup) serverConfig(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{s.server}, MinVersion: tls.VersionTLS12}
	if mutual {
		pool := x509.NewCertPool()
		pool.AddCert(s.ca.Cert)
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	return c
}

// TestKafkaTLS: a TLS broker with a CA made in the test: the engine verifies
// it with the CA file and publishes; without the CA file the state says the
// authority is unknown, in words, and receiving goes on.
func TestKafkaTLS(t *testing.T) {
	s := newTLSSetup(t)
	_, broker := startKfake(t, 0, kfake.TLS(s.serverConfig(false)))
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.TLS = KafkaTLS{Enabled: true, CAFile: s.caFile}
	e, addr := startKafkaEngine(t, cfg, 500*time.Millisecond, nil)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.31", 3)
	waitFor(t, 30*time.Second, "drained over TLS", drained(e), stateOf(e))
	clientTLS, err := forward.TLSConfig(s.caFile, "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceEvents(t, &kafka.Dialer{Timeout: 10 * time.Second, TLS: clientTLS}, broker); len(got) != 3 {
		t.Errorf("%d events on the topic, want 3", len(got))
	}

	// The system roots do not know the test CA.
	bad := kafkaConfig(t, broker)
	bad.Kafka.TLS = KafkaTLS{Enabled: true}
	e2, addr2 := startKafkaEngine(t, bad, 500*time.Millisecond, nil)
	sendCT(t, addr2, "MODALITY", "1.2.826.0.1.3680043.10.32", 2)
	waitFor(t, 30*time.Second, "the unknown authority in the state", func() bool {
		st := e2.Kafka()
		return strings.Contains(st.LastError, "unknown authority") && st.Backlog == 2 && !st.Connected
	}, stateOf(e2))
}

// TestKafkaMutualTLS: a broker that requires a client certificate signed by
// its CA: the engine with the client certificate and key files publishes;
// without a certificate, with one of another CA (Go's client then sends
// none: the broker's request names the CAs it accepts) or with an expired
// one, it does not, the state says why in words, and receiving goes on.
func TestKafkaMutualTLS(t *testing.T) {
	s := newTLSSetup(t)
	_, broker := startKfake(t, 0, kfake.TLS(s.serverConfig(true)))
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.TLS = KafkaTLS{Enabled: true, CAFile: s.caFile, CertFile: s.certFile, KeyFile: s.keyFile}
	e, addr := startKafkaEngine(t, cfg, 500*time.Millisecond, nil)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.33", 3)
	waitFor(t, 30*time.Second, "drained over mutual TLS", drained(e), stateOf(e))
	clientTLS, err := forward.TLSConfig(s.caFile, s.certFile, s.keyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceEvents(t, &kafka.Dialer{Timeout: 10 * time.Second, TLS: clientTLS}, broker); len(got) != 3 {
		t.Errorf("%d events on the topic, want 3", len(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := TestKafkaConnection(ctx, cfg.Kafka); err != nil {
		t.Errorf("connection test with the client certificate: %v", err)
	}

	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"no client certificate", "", "", "TLS: the broker requires a client certificate (set the certificate and key files)"},
		{"a client certificate of another CA", s.rogueCert, s.rogueKey, "TLS: the broker requires a client certificate (set the certificate and key files)"},
		{"an expired client certificate", s.expiredCert, s.expiredKy, "TLS: the broker refused the client certificate (expired certificate)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			k := cfg.Kafka
			k.TLS.CertFile, k.TLS.KeyFile = c.cert, c.key
			if err := TestKafkaConnection(ctx, k); err == nil || err.Error() != c.want {
				t.Errorf("connection test: %v, want %q", err, c.want)
			}
			bad := kafkaConfig(t, broker)
			bad.Kafka.TLS = k.TLS
			e2, addr2 := startKafkaEngine(t, bad, 500*time.Millisecond, nil)
			sendCT(t, addr2, "MODALITY", "1.2.826.0.1.3680043.10.34", 2) // still receiving
			waitFor(t, 30*time.Second, "the refusal in the state", func() bool {
				st := e2.Kafka()
				return st.LastError == c.want && st.Backlog == 2 && !st.Connected
			}, stateOf(e2))
		})
	}
}

// TestKafkaSASLOverMutualTLS: SCRAM-SHA-512 inside mutual TLS, the setup of
// the README's example.
func TestKafkaSASLOverMutualTLS(t *testing.T) {
	s := newTLSSetup(t)
	_, broker := startKfake(t, 0, kfake.TLS(s.serverConfig(true)), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "inbox", "tls-and-scram"))
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.TLS = KafkaTLS{Enabled: true, CAFile: s.caFile, CertFile: s.certFile, KeyFile: s.keyFile}
	cfg.Kafka.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "inbox"}
	t.Setenv(PasswordEnv, "tls-and-scram")
	e, addr := startKafkaEngine(t, cfg, 500*time.Millisecond, nil)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.35", 4)
	waitFor(t, 30*time.Second, "drained over SASL_SSL", drained(e), stateOf(e))
	clientTLS, err := forward.TLSConfig(s.caFile, s.certFile, s.keyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	mech, err := forward.SASLMechanism("SCRAM-SHA-512", "inbox", "tls-and-scram")
	if err != nil {
		t.Fatal(err)
	}
	if got := instanceEvents(t, &kafka.Dialer{Timeout: 10 * time.Second, TLS: clientTLS, SASLMechanism: mech}, broker); len(got) != 4 {
		t.Errorf("%d events on the topic, want 4", len(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := cfg.Kafka
	k.SASL.Password = "wrong"
	if err := TestKafkaConnection(ctx, k); err == nil || !strings.HasPrefix(err.Error(), "authentication failed") {
		t.Errorf("wrong password over TLS: %v", err)
	}
}
