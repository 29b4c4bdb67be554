package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store/index"
)

// dcmtk runs a DCMTK tool and reports whether it exited 0, with its output.
func dcmtk(t *testing.T, tool string, args ...string) (bool, string) {
	t.Helper()
	out, err := apptest.RunCmd(t, dcmtkTimeout, apptest.Tool(t, tool), args...)
	return err == nil, out
}

// DICOM TLS against DCMTK: echoscu and storescu over TLS (verifying our
// certificate) are served and the instance is stored; a peer without TLS is
// turned away and the listener goes on.
func TestDicomTLSWithDCMTK(t *testing.T) {
	pki := apptest.NewPKI(t)
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey}
	e, addr := startEngine(t, cfg)
	port := portOf(t, addr)
	if want := "Listening as INBOX on port " + port + " (TLS)"; e.Status() != want {
		t.Errorf("status %q, want %q", e.Status(), want)
	}
	tlsArgs := []string{"+tla", "+cf", pki.CAFile, "-aec", "INBOX"}
	if ok, out := dcmtk(t, "echoscu", append(tlsArgs, "127.0.0.1", port)...); !ok {
		t.Fatalf("echoscu over TLS failed:\n%s", out)
	}
	out, err := apptest.RunCmd(t, dcmtkTimeout, apptest.Tool(t, "storescu"),
		append(append([]string{"-v"}, tlsArgs...), "127.0.0.1", port, apptest.CorpusPath(t, "01_ct_implicit_le.dcm"))...)
	apptest.CheckStorescuOutput(t, out, err, 1)
	if _, total, err := e.Studies(context.Background(), index.StudyQuery{Limit: 1}); err != nil || total != 1 {
		t.Fatalf("studies after the TLS store: %d, %v", total, err)
	}
	if ok, out := dcmtk(t, "echoscu", "-aec", "INBOX", "127.0.0.1", port); ok {
		t.Fatalf("echoscu without TLS succeeded on the TLS port:\n%s", out)
	}
	if ok, out := dcmtk(t, "echoscu", append(tlsArgs, "127.0.0.1", port)...); !ok {
		t.Fatalf("echoscu over TLS after a plain peer failed:\n%s", out)
	}
}

// With a client CA, a sender must present a certificate that CA signed.
func TestDicomTLSClientCertificates(t *testing.T) {
	pki := apptest.NewPKI(t)
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, ClientCAFile: pki.CAFile}
	e, addr := startEngine(t, cfg)
	port := portOf(t, addr)
	if ok, out := dcmtk(t, "echoscu", "+tla", "+cf", pki.CAFile, "-aec", "INBOX", "127.0.0.1", port); ok {
		t.Fatalf("echoscu without a client certificate succeeded:\n%s", out)
	}
	events, unsub := e.Events().Subscribe(64)
	defer unsub()
	if ok, out := dcmtk(t, "echoscu", "+tls", pki.ClientKey, pki.ClientCert, "+cf", pki.CAFile, "-aec", "INBOX", "127.0.0.1", port); !ok {
		t.Fatalf("echoscu with the client certificate failed:\n%s", out)
	}
	// The association says it ran over TLS, and with which certificate.
	log := NewActivityLog(100)
	for accepted := false; !accepted; {
		select {
		case ev := <-events:
			log.Apply(ev)
			if accepted = ev.Kind == scp.AssociationAccepted; accepted {
				if a := ev.Association; !a.TLS || a.ClientCertificate != "CN=modality" {
					t.Errorf("accepted association: TLS %v, client certificate %q", a.TLS, a.ClientCertificate)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no association-accepted event")
		}
	}
	if got := log.Entries(0); len(got) != 1 || !strings.Contains(got[0].Text, "(TLS), certificate CN=modality)") {
		t.Errorf("activity log: %+v", got)
	}
}

// Settings that cannot work are refused with what is wrong.
func TestDicomTLSSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		tls  DicomTLS
		want string
	}{
		{DicomTLS{CertFile: "a.crt"}, "needs its key file"},
		{DicomTLS{KeyFile: "a.key"}, "needs its certificate file"},
		{DicomTLS{ClientCAFile: "ca.crt"}, "need TLS on"},
	} {
		cfg := testConfig(t)
		cfg.TLS = tc.tls
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.tls, err, tc.want)
		}
	}
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: filepath.Join(t.TempDir(), "missing.crt"), KeyFile: "missing.key"}
	e := NewEngine(cfg, quietLogger())
	defer e.Close(context.Background())
	if err := e.Start(); err == nil || !strings.Contains(err.Error(), "TLS: cannot use the certificate") {
		t.Fatalf("start with a missing certificate: %v", err)
	}
	if !strings.HasPrefix(e.Status(), "Not listening: TLS: cannot use the certificate") {
		t.Errorf("status %q", e.Status())
	}
}

// Turning TLS on in the settings restarts the running listener with it.
func TestDicomTLSApplied(t *testing.T) {
	pki := apptest.NewPKI(t)
	e, _ := startEngine(t, testConfig(t))
	cfg := e.Config()
	cfg.TLS = DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey}
	if err := e.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	port := portOf(t, e.Addr().String())
	if !strings.HasSuffix(e.Status(), "(TLS)") {
		t.Errorf("status %q after turning TLS on", e.Status())
	}
	if ok, out := dcmtk(t, "echoscu", "+tla", "+cf", pki.CAFile, "-aec", "INBOX", "127.0.0.1", port); !ok {
		t.Fatalf("echoscu over TLS after Apply failed:\n%s", out)
	}
}

// A certificate renewed in place is used from the next connection on,
// without a restart; a renewal that cannot be used leaves the previous one
// serving.
func TestDicomTLSRenewedInPlace(t *testing.T) {
	old := apptest.NewPKI(t)
	var logs lockedBuffer
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: old.ServerCert, KeyFile: old.ServerKey}
	e := NewEngine(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	port := portOf(t, e.Addr().String())
	echoTrusting := func(ca string) bool {
		ok, _ := dcmtk(t, "echoscu", "+tla", "+cf", ca, "-aec", "INBOX", "127.0.0.1", port)
		return ok
	}
	if !echoTrusting(old.CAFile) {
		t.Fatal("echoscu trusting the first CA failed")
	}

	renewed := apptest.NewPKI(t) // another CA: only a client trusting it accepts the new certificate
	replace := func(dst, src string, at time.Time) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dst, at, at); err != nil { // a change the stamp sees whatever the clock's grain
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Minute)
	replace(old.ServerCert, renewed.ServerCert, later)
	replace(old.ServerKey, renewed.ServerKey, later)
	if !echoTrusting(renewed.CAFile) || echoTrusting(old.CAFile) {
		t.Fatal("the renewed certificate is not the one served")
	}
	if !strings.Contains(logs.String(), "certificate files read again") {
		t.Errorf("no log line for the reload:\n%s", logs.String())
	}

	if err := os.WriteFile(old.ServerCert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !echoTrusting(renewed.CAFile) {
		t.Fatal("a broken renewal stopped the listener from serving the previous certificate")
	}
	if !strings.Contains(logs.String(), "cannot be used; the previous ones stay in use") {
		t.Errorf("no warning for the broken renewal:\n%s", logs.String())
	}
}

// The Verification SCU over TLS: verified against the CA, with and without
// a client certificate, and each failure in words.
func TestEchoTLS(t *testing.T) {
	pki := apptest.NewPKI(t)
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, ClientCAFile: pki.CAFile}
	_, addr := startEngine(t, cfg)
	_, plainAddr := startEngine(t, testConfig(t))
	ctx := context.Background()
	withCert := &ClientTLS{CAFile: pki.CAFile, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}
	if _, err := EchoTLS(ctx, addr, "TEST", "INBOX", withCert); err != nil {
		t.Fatalf("echo over TLS with the client certificate: %v", err)
	}
	for _, tc := range []struct {
		name, addr string
		tls        *ClientTLS
		want       string
	}{
		{"no client certificate", addr, &ClientTLS{CAFile: pki.CAFile}, "requires a client certificate"},
		{"system authorities only", addr, &ClientTLS{}, "signed by an unknown authority"},
		{"a node without TLS", plainAddr, withCert, "does not speak TLS on this port"},
	} {
		_, err := EchoTLS(ctx, tc.addr, "TEST", "INBOX", tc.tls)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A peer that connects to the TLS port and never starts the handshake is
// closed by the ARTIM timer, and the listener goes on serving.
func TestDicomTLSSilentPeerClosedByARTIM(t *testing.T) {
	pki := apptest.NewPKI(t)
	cfg := testConfig(t)
	cfg.TLS = DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey}
	cfg.ARTIMTimeout = Duration(300 * time.Millisecond)
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds the test, not the receiver
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("the silent peer was not closed by the receiver: %v", err)
	}
	if ok, out := dcmtk(t, "echoscu", "+tla", "+cf", pki.CAFile, "-aec", "INBOX", "127.0.0.1", portOf(t, addr)); !ok {
		t.Fatalf("echoscu over TLS after the silent peer failed:\n%s", out)
	}
}
