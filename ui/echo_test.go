package ui

import (
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
)

// openEcho shows the echo dialog (preferences of the test app); its results
// are applied when the test runs the returned queue.
func openEcho(t *testing.T, cfg app.Config) (*echoDialog, *uiRunner) {
	t.Helper()
	w := dialogParent(t)
	d := newEchoDialog(w, cfg, fyne.CurrentApp().Preferences())
	ui := newUIRunner()
	d.do, d.onDone = ui.do, func() { ui.applied("echo") }
	d.dlg.Show()
	return d, ui
}

// verify fills the dialog and taps Verify, returning the result shown.
func verify(t *testing.T, d *echoDialog, ui *uiRunner, host, port, called string) *widget.Label {
	t.Helper()
	typeReplacing(d.host.entry, host)
	typeReplacing(d.port.entry, port)
	typeReplacing(d.calledAE.entry, called)
	test.Tap(d.verifyBtn)
	if !d.verifyBtn.Disabled() {
		t.Error("Verify enabled while the echo runs")
	}
	ui.waitFor(t, "echo")
	if d.verifyBtn.Disabled() {
		t.Error("Verify still disabled after the result")
	}
	return d.result
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

func TestEchoDialogRealEngine(t *testing.T) {
	cfg := dtTestConfig(t)
	_, port := dtStartEngine(t, cfg)
	cfg.AETitle = "ECHOSCU" // the calling AE the dialog uses

	t.Run("success", func(t *testing.T) {
		d, done := openEcho(t, cfg)
		r := verify(t, d, done, "127.0.0.1", port, "INBOX")
		want := "Success: INBOX at 127.0.0.1:" + port + " answered C-ECHO in "
		if !strings.HasPrefix(r.Text, want) || r.Importance != widget.SuccessImportance {
			t.Errorf("result = %q (importance %v), want prefix %q", r.Text, r.Importance, want)
		}
		if !strings.Contains(r.Text, " ms") {
			t.Errorf("result %q has no round-trip time", r.Text)
		}
		// Remembered for next time.
		p := fyne.CurrentApp().Preferences()
		if p.String(prefEchoHost) != "127.0.0.1" || p.String(prefEchoPort) != port || p.String(prefEchoCalledAE) != "INBOX" {
			t.Errorf("preferences %q %q %q", p.String(prefEchoHost), p.String(prefEchoPort), p.String(prefEchoCalledAE))
		}
		d3 := newEchoDialog(test.NewTempWindow(t, widget.NewLabel("")), cfg, p)
		if d3.host.entry.Text != "127.0.0.1" || d3.port.entry.Text != port || d3.calledAE.entry.Text != "INBOX" {
			t.Errorf("a new dialog shows %q %q %q, want the last values", d3.host.entry.Text, d3.port.entry.Text, d3.calledAE.entry.Text)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		d, done := openEcho(t, cfg)
		r := verify(t, d, done, "127.0.0.1", port, "WRONG")
		if !strings.HasPrefix(r.Text, "Failed: ") || !strings.Contains(r.Text, "called AE title not recognized") ||
			r.Importance != widget.DangerImportance {
			t.Errorf("result = %q, want a rejection naming the called AE title", r.Text)
		}
	})

	t.Run("refused", func(t *testing.T) {
		d, done := openEcho(t, cfg)
		p := closedPort(t)
		r := verify(t, d, done, "127.0.0.1", p, "INBOX")
		want := "Failed: connection to 127.0.0.1:" + p + " refused: nothing listens on that port"
		if r.Text != want {
			t.Errorf("result = %q, want %q", r.Text, want)
		}
	})
}

func TestEchoDialogTimeout(t *testing.T) {
	// A peer that accepts the connection and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	d, done := openEcho(t, dtTestConfig(t))
	d.timeout = 500 * time.Millisecond
	start := time.Now()
	r := verify(t, d, done, "127.0.0.1", port, "INBOX")
	if !strings.HasPrefix(r.Text, "Failed: no answer from 127.0.0.1:"+port+" in time") {
		t.Errorf("result = %q, want a timeout in words", r.Text)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v with a 500 ms timeout", el)
	}
}

func TestEchoDialogValidates(t *testing.T) {
	d, _ := openEcho(t, dtTestConfig(t))
	typeReplacing(d.port.entry, "70000")
	typeReplacing(d.calledAE.entry, `A\B`)
	typeReplacing(d.host.entry, "pacs:104")
	test.Tap(d.verifyBtn)
	if d.running {
		t.Fatal("verification started with invalid fields")
	}
	for _, want := range []string{"Cannot verify:", "Host: write the port in the Port field", "Port: 70000 is out of range", "Called AE: backslash not allowed"} {
		if !strings.Contains(d.result.Text, want) {
			t.Errorf("result %q lacks %q", d.result.Text, want)
		}
	}
	checkFieldError(t, d.port, "70000 is out of range")
}

func TestEchoDialogDefaultsToOwnReceiver(t *testing.T) {
	cfg := dtTestConfig(t)
	cfg.Port, cfg.AETitle = 11112, "INBOX"
	d, _ := openEcho(t, cfg)
	if d.host.entry.Text != "127.0.0.1" || d.port.entry.Text != "11112" || d.calledAE.entry.Text != "INBOX" {
		t.Errorf("defaults %q %q %q", d.host.entry.Text, d.port.entry.Text, d.calledAE.entry.Text)
	}
	for in, want := range map[time.Duration]string{800 * time.Microsecond: "0.8 ms", 12 * time.Millisecond: "12 ms", 1250 * time.Millisecond: "1.25 s"} {
		if got := roundTrip(in); got != want {
			t.Errorf("roundTrip(%v) = %q, want %q", in, got, want)
		}
	}
}

// Verify node over DICOM TLS: against a receiver that requires a client
// certificate, the dialog offers ours from the settings and verifies the
// node with the CA file given; without that CA file the failure says so.
func TestEchoDialogTLS(t *testing.T) {
	pki := apptest.NewPKI(t)
	cfg := dtTestConfig(t)
	cfg.TLS = app.DicomTLS{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, ClientCAFile: pki.CAFile}
	_, port := dtStartEngine(t, cfg)
	ours := cfg
	ours.AETitle = "ECHOSCU"
	ours.TLS = app.DicomTLS{CertFile: pki.ClientCert, KeyFile: pki.ClientKey} // the certificate the settings hold

	d, done := openEcho(t, ours)
	if !d.useTLS.Checked {
		t.Error("TLS not ticked by default although our receiver uses it")
	}
	typeReplacing(d.tlsCA.entry, pki.CAFile)
	if r := verify(t, d, done, "127.0.0.1", port, "INBOX"); !strings.HasPrefix(r.Text, "Success: ") {
		t.Fatalf("verify over TLS: %q", r.Text)
	}
	if p := fyne.CurrentApp().Preferences(); !p.Bool(prefEchoTLS) || p.String(prefEchoTLSCA) != pki.CAFile {
		t.Errorf("TLS choices not remembered: %v %q", p.Bool(prefEchoTLS), p.String(prefEchoTLSCA))
	}

	typeReplacing(d.tlsCA.entry, "")
	if r := verify(t, d, done, "127.0.0.1", port, "INBOX"); !strings.Contains(r.Text, "signed by an unknown authority") {
		t.Errorf("verify without the CA file: %q", r.Text)
	}
}
