package forward

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/store/index"
)

func TestBackoff(t *testing.T) {
	lo, hi := 250*time.Millisecond, 30*time.Second
	for range 200 {
		if d := Backoff(lo, hi, 1); d < lo/2 || d > lo {
			t.Fatalf("first backoff %v outside [%v, %v]", d, lo/2, lo)
		}
		if d := Backoff(lo, hi, 3); d < lo*2 || d > lo*4 {
			t.Fatalf("third backoff %v outside [%v, %v]", d, lo*2, lo*4)
		}
		if d := Backoff(lo, hi, 100); d < hi/2 || d > hi {
			t.Fatalf("capped backoff %v outside [%v, %v]", d, hi/2, hi)
		}
	}
}

func TestBuilder(t *testing.T) {
	b := NewBuilder("", "/data/inbox", map[string]string{" CT1 ": "radiology"})
	if host, _ := os.Hostname(); b.NodeID() != host {
		t.Errorf("default node id %q, want the host name %q", b.NodeID(), host)
	}
	if b.Tenant("CT1") != "radiology" || b.Tenant("MR2") != "MR2" {
		t.Errorf("tenants: %q %q", b.Tenant("CT1"), b.Tenant("MR2"))
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.UTC)
	m, err := b.Instance(&index.Instance{SOPInstanceUID: "1.2.3", StudyInstanceUID: "1.2", Path: "P/1.2/1.2.1/1.2.3.dcm",
		CallingAE: "CT1", ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var ev InstanceEvent
	if err := json.Unmarshal(m.Value, &ev); err != nil {
		t.Fatal(err)
	}
	u, err := uuid.Parse(ev.EventID)
	if err != nil || u.Version() != 7 {
		t.Errorf("event id %q: version %v, %v; want a UUIDv7", ev.EventID, u.Version(), err)
	}
	if m.Key != "1.2" || ev.Tenant != "radiology" || ev.FilePathAbsolute != filepath.Join("/data/inbox", "P/1.2/1.2.1/1.2.3.dcm") ||
		ev.ReceivedAt != "2025-03-04T05:06:07.891Z" {
		t.Errorf("message %+v, event %+v", m, ev)
	}
	m2, _ := b.Instance(&index.Instance{SOPInstanceUID: "1.2.3", StudyInstanceUID: "1.2", Path: "x", ReceivedAt: at})
	var ev2 InstanceEvent
	json.Unmarshal(m2.Value, &ev2)
	if ev2.EventID == ev.EventID {
		t.Error("two events share an id")
	}
}

// selfSigned writes a CA-signed-by-itself certificate for 127.0.0.1 and
// returns the server TLS config and the CA file.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, ca
}

// TestProbeTLS: a TLS broker is reached with its CA, refused without it
// (in words), and reached with verification off.
func TestProbeTLS(t *testing.T) {
	srv, ca := selfSigned(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(srv), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := Config{Brokers: c.ListenAddrs(), Topic: "t"}

	cfg.TLS, err = TLSConfig(ca, "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := Probe(ctx, cfg); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	cfg.TLS, _ = TLSConfig("", "", "", false)
	if err := Probe(ctx, cfg); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("without the CA: %v", err)
	}
	cfg.TLS, _ = TLSConfig("", "", "", true)
	if err := Probe(ctx, cfg); err != nil {
		t.Errorf("with verification off: %v", err)
	}
	if _, err := TLSConfig(filepath.Join(t.TempDir(), "missing.pem"), "", "", false); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// TestRelayDropsLifecycleWithoutTopic: lifecycle events queued while no
// lifecycle topic is configured are dropped (and deleted), instance events
// are published, and Close stops the relay.
func TestRelayDropsLifecycleWithoutTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "inst"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	db, err := index.Open(filepath.Join(t.TempDir(), "index.db"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, s := range []string{index.StreamInstance, index.StreamLifecycle, index.StreamInstance} {
		if _, err := db.EnqueueOutbox(ctx, index.OutboxMessage{Stream: s, Key: "k", Value: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewRelay(Config{Brokers: c.ListenAddrs(), Topic: "inst"}, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	deadline := time.Now().Add(10 * time.Second)
	for db.OutboxLen() != 0 || r.Published() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox %d, published %d, state %+v", db.OutboxLen(), r.Published(), r.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !r.State().Connected {
		t.Errorf("state %+v", r.State())
	}
}

// TestDescribeTLSAlerts: alerts the broker sends about the client
// certificate are said in words, also when wrapped.
func TestDescribeTLSAlerts(t *testing.T) {
	remote := func(alert string) error { return &net.OpError{Op: "remote error", Err: errors.New(alert)} }
	for _, c := range []struct {
		err  error
		want string
	}{
		{remote("tls: certificate required"), "TLS: the broker requires a client certificate (set the certificate and key files)"},
		{fmt.Errorf("metadata: %w", remote("tls: bad certificate")), "TLS: the broker refused the client certificate (bad certificate)"},
		{&net.OpError{Op: "read", Net: "tcp", Err: remote("tls: expired certificate")}, "TLS: the broker refused the client certificate (expired certificate)"},
		{remote("tls: handshake failure"), "TLS: the broker refused the handshake (handshake failure)"},
		{remote("tls: internal error"), "TLS: the broker sent the alert internal error"},
	} {
		if got := Describe(c.err, ""); got != c.want {
			t.Errorf("Describe(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
