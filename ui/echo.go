package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// echoWidth is the width of the echo dialog; its height follows the content.
const echoWidth = 620

// echoTimeout bounds one verification (connect, associate, C-ECHO, release).
const echoTimeout = 15 * time.Second

// Preference keys under which the echo dialog remembers the last node.
const (
	prefEchoHost     = "echo.host"
	prefEchoPort     = "echo.port"
	prefEchoCalledAE = "echo.called_ae"
	prefEchoTLS      = "echo.tls"
	prefEchoTLSCA    = "echo.tls_ca"
)

// showEcho opens the "Verify node" dialog over parent: host, port and called
// AE of a remote DICOM node (the last values are remembered in the app's
// preferences; the first time, our own receiver), calling AE = cfg.AETitle.
// "Verify" runs app.EchoTLS (plain DICOM unless TLS is ticked) off the UI goroutine and shows the round-trip time
// or exactly what failed (refused, rejected with the reason, timed out).
func showEcho(parent fyne.Window, cfg app.Config) {
	var prefs fyne.Preferences
	if a := fyne.CurrentApp(); a != nil {
		prefs = a.Preferences()
	}
	newEchoDialog(parent, cfg, prefs).dlg.Show()
}

// echoDialog holds the widgets of the echo dialog; UI goroutine only.
type echoDialog struct {
	parent  fyne.Window
	cfg     app.Config
	prefs   fyne.Preferences // nil: nothing remembered
	timeout time.Duration
	do      func(func()) // hands the result to the UI goroutine: fyne.Do (tests: a queue)
	dlg     *dialog.CustomDialog

	host, port, calledAE *formField
	useTLS               *widget.Check
	tlsCA                *formField // the CA that signed the node's certificate
	verifyBtn, closeBtn  *widget.Button
	result               *widget.Label
	content              *fyne.Container
	running              bool
	onDone               func() // test hook: after a result was applied (on the UI goroutine)
}

func newEchoDialog(parent fyne.Window, cfg app.Config, prefs fyne.Preferences) *echoDialog {
	d := &echoDialog{parent: parent, cfg: cfg, prefs: prefs, timeout: echoTimeout, do: fyne.Do}
	host, port, called := "127.0.0.1", strconv.Itoa(cfg.Port), cfg.AETitle
	useTLS, tlsCA := cfg.TLS.Enabled(), ""
	if prefs != nil {
		host = prefs.StringWithFallback(prefEchoHost, host)
		port = prefs.StringWithFallback(prefEchoPort, port)
		called = prefs.StringWithFallback(prefEchoCalledAE, called)
		useTLS = prefs.BoolWithFallback(prefEchoTLS, useTLS)
		tlsCA = prefs.String(prefEchoTLSCA)
	}
	d.host = newFormField("Host", host, checkHost, nil)
	d.host.entry.SetPlaceHolder("pacs.example.org or 10.0.0.5")
	d.port = newFormField("Port", port, func(s string) error { _, err := parsePortText(s); return err }, nil)
	d.calledAE = newFormField("Called AE", called, func(s string) error { _, err := parseAETitleText(s); return err }, nil)
	calling := widget.NewLabel(cfg.AETitle)
	d.useTLS = widget.NewCheck("Use DICOM TLS", nil)
	d.useTLS.SetChecked(useTLS)
	d.tlsCA = newFormField("CA file", tlsCA, anyText, nil)
	d.tlsCA.entry.SetPlaceHolder("empty: the system's certificate authorities")
	d.tlsCA.row = withFileButton(parent, d.tlsCA)

	d.result = widget.NewLabel("")
	d.result.Wrapping = fyne.TextWrapWord
	d.result.Hide()
	d.verifyBtn = widget.NewButtonWithIcon("Verify", theme.MediaPlayIcon(), d.onVerify)
	d.verifyBtn.Importance = widget.HighImportance
	d.closeBtn = widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() { d.dlg.Hide() })

	form := widget.NewForm(
		hintedItem("Host", d.host.row, "name or address of the remote node"),
		hintedItem("Port", d.port.row, ""),
		hintedItem("Called AE", d.calledAE.row, "the remote node's AE title"),
		hintedItem("Calling AE", calling, "ours (from the settings)"),
		hintedItem("TLS", d.useTLS, "our TLS certificate from the settings is offered when the node asks for one"),
		hintedItem("CA file", d.tlsCA.row, "PEM; the authority that signed the node's certificate"),
	)
	for _, f := range []*formField{d.host, d.port, d.calledAE} {
		f.relayout = form.Refresh
	}
	d.content = container.NewBorder(nil,
		container.NewVBox(d.result, container.NewHBox(layout.NewSpacer(), d.closeBtn, d.verifyBtn)),
		nil, nil, form)
	d.dlg = dialog.NewCustomWithoutButtons("Verify a DICOM node (C-ECHO)", d.content, parent)
	d.dlg.Resize(fitDialogSize(parent, echoWidth, 0))
	return d
}

// checkHost accepts a host name or address (no port, no blanks).
func checkHost(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return errors.New("enter the host name or address of the node")
	case strings.ContainsAny(s, " \t/"):
		return fmt.Errorf("%q is not a host name or address", s)
	case strings.Count(s, ":") == 1:
		return errors.New("write the port in the Port field")
	}
	return nil
}

// onVerify runs on the UI goroutine when Verify is tapped.
func (d *echoDialog) onVerify() {
	if d.running {
		return
	}
	var errs []error
	for _, f := range []*formField{d.host, d.port, d.calledAE} {
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	if len(errs) > 0 {
		d.show("Cannot verify:\n"+errors.Join(errs...).Error(), widget.DangerImportance)
		return
	}
	host := strings.Trim(d.host.text(), "[]")
	port, _ := parsePortText(d.port.entry.Text)
	called, _ := parseAETitleText(d.calledAE.entry.Text)
	var tlsFiles *app.ClientTLS
	if d.useTLS.Checked {
		tlsFiles = &app.ClientTLS{CAFile: d.tlsCA.text(), CertFile: d.cfg.TLS.CertFile, KeyFile: d.cfg.TLS.KeyFile}
	}
	if d.prefs != nil {
		d.prefs.SetString(prefEchoHost, host)
		d.prefs.SetString(prefEchoPort, strconv.Itoa(port))
		d.prefs.SetString(prefEchoCalledAE, called)
		d.prefs.SetBool(prefEchoTLS, d.useTLS.Checked)
		d.prefs.SetString(prefEchoTLSCA, d.tlsCA.text())
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d.running = true
	d.verifyBtn.Disable()
	d.show(fmt.Sprintf("Calling %s at %s as %s…", called, addr, d.cfg.AETitle), widget.MediumImportance)
	timeout := d.timeout
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		res, err := app.EchoTLS(ctx, addr, d.cfg.AETitle, called, tlsFiles)
		cancel()
		d.do(func() { d.applyResult(called, addr, res, err) })
	}()
}

func (d *echoDialog) applyResult(called, addr string, res app.EchoResult, err error) {
	d.running = false
	d.verifyBtn.Enable()
	if err != nil {
		d.show("Failed: "+err.Error(), widget.DangerImportance)
	} else {
		msg := fmt.Sprintf("Success: %s at %s answered C-ECHO in %s", called, addr, roundTrip(res.Duration))
		if res.Peer != "" {
			msg += " (" + res.Peer + ")"
		}
		d.show(msg+".", widget.SuccessImportance)
	}
	if d.onDone != nil {
		d.onDone()
	}
}

// roundTrip writes a duration with a precision that suits it: "0.8 ms", "12 ms", "1.25 s".
func roundTrip(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func (d *echoDialog) show(text string, imp widget.Importance) {
	d.result.Importance = imp
	d.result.SetText(text)
	d.result.Show()
	d.content.Refresh()                                 // a label shown later does not re-layout its container
	d.dlg.Resize(fitDialogSize(d.parent, echoWidth, 0)) // grows to the new minimum height
}
