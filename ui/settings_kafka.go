package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// saslNone is how the dialog words "no SASL".
const saslNone = "None"

// kafkaSection is the Kafka part of the settings dialog: its fields are
// checked only while forwarding is switched on (a half-filled section can be
// saved switched off, as app.Config.Validate allows).
type kafkaSection struct {
	parent  fyne.Window
	current app.KafkaConfig
	test    func(context.Context, app.KafkaConfig) error

	enabled                           *widget.Check
	brokers, topic, lifecycle, client *formField
	tlsEnabled, skipVerify            *widget.Check
	caFile, certFile, keyFile         *formField
	mechanism                         *widget.Select
	user, password                    *formField
	fields                            []*formField

	testBtn    *widget.Button
	testResult *widget.Label
	testing    bool
	onTestDone func() // test hook: after a test result was applied
	form       *widget.Form
}

func newKafkaSection(parent fyne.Window, cur app.KafkaConfig, test func(context.Context, app.KafkaConfig) error) *kafkaSection {
	k := &kafkaSection{parent: parent, current: cur, test: test}
	// Checks that apply only while Kafka is on; k.enabled exists before any runs.
	when := func(check func(string) error) func(string) error {
		return func(s string) error {
			if k.enabled == nil || !k.enabled.Checked {
				return nil
			}
			return check(s)
		}
	}
	k.enabled = widget.NewCheck("Publish one event per stored instance", func(bool) { k.revalidate() })
	k.enabled.SetChecked(cur.Enabled)

	k.brokers = newFormField("Kafka brokers", strings.Join(cur.Brokers, ", "),
		when(func(s string) error { _, err := parseBrokers(s); return err }), nil)
	k.brokers.entry.SetPlaceHolder("kafka1:9092, kafka2:9092")
	k.topic = newFormField("Kafka topic", cur.Topic, when(checkTopicText), nil)
	k.lifecycle = newFormField("Kafka lifecycle topic", cur.LifecycleTopic, when(func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return checkTopicText(s)
	}), nil)
	k.lifecycle.entry.SetPlaceHolder("empty: no lifecycle events")
	k.client = newFormField("Kafka client ID", cur.ClientID, anyText, nil)

	k.tlsEnabled = widget.NewCheck("Connect with TLS", nil)
	k.tlsEnabled.SetChecked(cur.TLS.Enabled)
	k.caFile = newFormField("Kafka CA file", cur.TLS.CAFile, anyText, nil)
	k.caFile.entry.SetPlaceHolder("empty: the system's certificate authorities")
	k.certFile = newFormField("Kafka client certificate", cur.TLS.CertFile, anyText, nil)
	k.keyFile = newFormField("Kafka client key", cur.TLS.KeyFile, anyText, nil)
	for _, f := range []*formField{k.caFile, k.certFile, k.keyFile} {
		f.row = k.withFileButton(f)
	}
	k.skipVerify = widget.NewCheck("Skip certificate verification (insecure, tests only)", nil)
	k.skipVerify.SetChecked(cur.TLS.InsecureSkipVerify)

	k.user = newFormField("Kafka SASL user", cur.SASL.Username, when(func(s string) error {
		if k.mechanism != nil && k.mechanism.Selected != saslNone && strings.TrimSpace(s) == "" {
			return fmt.Errorf("%s needs a user name", k.mechanism.Selected)
		}
		return nil
	}), nil)
	k.password = newPasswordFormField("Kafka SASL password", cur.SASL.Password, anyText)
	k.mechanism = widget.NewSelect([]string{saslNone, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, func(string) { k.revalidate() })
	mech := cur.SASL.Mechanism
	if mech == "" {
		mech = saslNone
	}
	k.mechanism.SetSelected(mech) // an unknown stored value shows as is; Validate names it

	k.fields = []*formField{k.brokers, k.topic, k.lifecycle, k.client, k.caFile, k.certFile, k.keyFile, k.user, k.password}

	k.testResult = widget.NewLabel("")
	k.testResult.Wrapping = fyne.TextWrapWord
	k.testResult.Hide()
	k.testBtn = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), k.onTest)
	if test == nil {
		k.testBtn.Disable()
	}

	k.form = widget.NewForm(
		hintedItem("Kafka", k.enabled, ""),
		hintedItem("Brokers", k.brokers.row, "host:port, comma-separated"),
		hintedItem("Topic", k.topic.row, "one event per stored instance"),
		hintedItem("Lifecycle topic", k.lifecycle.row, "association and study-complete events"),
		hintedItem("Client ID", k.client.row, ""),
		hintedItem("TLS", k.tlsEnabled, ""),
		hintedItem("CA file", k.caFile.row, "PEM"),
		hintedItem("Client certificate", k.certFile.row, "PEM, optional; needs the key too"),
		hintedItem("Client key", k.keyFile.row, "PEM"),
		hintedItem("Verification", k.skipVerify, ""),
		hintedItem("SASL", k.mechanism, ""),
		hintedItem("User", k.user.row, ""),
		hintedItem("Password", k.password.row, ""),
		hintedItem("", container.NewVBox(container.NewHBox(k.testBtn), k.testResult), ""),
	)
	k.revalidate()
	return k
}

// withFileButton puts a "…" file chooser beside a path field.
func (k *kafkaSection) withFileButton(f *formField) fyne.CanvasObject {
	return withFileButton(k.parent, f)
}

// withFileButton lays out a file path field with a button that picks the
// file in a file dialog over parent.
func withFileButton(parent fyne.Window, f *formField) fyne.CanvasObject {
	btn := widget.NewButtonWithIcon("", theme.FileIcon(), func() {
		fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			f.entry.SetText(r.URI().Path())
			r.Close()
		}, parent)
		fd.Resize(fitDialogSize(parent, 760, 560))
		fd.Show()
	})
	return container.NewVBox(container.NewBorder(nil, nil, nil, btn, f.entry), f.err, f.note)
}

// revalidate re-checks every field (switching Kafka on or choosing a SASL
// mechanism changes what is required).
func (k *kafkaSection) revalidate() {
	for _, f := range k.fields {
		f.validate()
	}
}

// config reads the section. While Kafka is off the values are kept as typed
// and not checked. The error lists every invalid field.
func (k *kafkaSection) config() (app.KafkaConfig, error) {
	var errs []error
	for _, f := range k.fields {
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	if len(errs) > 0 {
		return k.current, errors.Join(errs...)
	}
	c := k.current // keeps NodeID and Tenants, which the dialog does not show
	c.Enabled = k.enabled.Checked
	c.Brokers = splitListText(k.brokers.entry.Text)
	c.Topic = k.topic.text()
	c.LifecycleTopic = k.lifecycle.text()
	c.ClientID = k.client.text()
	c.TLS = app.KafkaTLS{
		Enabled:            k.tlsEnabled.Checked,
		CAFile:             k.caFile.text(),
		CertFile:           k.certFile.text(),
		KeyFile:            k.keyFile.text(),
		InsecureSkipVerify: k.skipVerify.Checked,
	}
	c.SASL = app.KafkaSASL{Username: k.user.text(), Password: k.password.entry.Text}
	if k.mechanism.Selected != saslNone {
		c.SASL.Mechanism = k.mechanism.Selected
	}
	return c, nil
}

// onTest runs on the UI goroutine when "Test connection" is tapped: the
// settings as typed are tested (even with forwarding switched off).
func (k *kafkaSection) onTest() {
	if k.testing || k.test == nil {
		return
	}
	wasOn := k.enabled.Checked
	k.enabled.Checked = true // check the fields as if Kafka were on
	c, err := k.config()
	k.enabled.Checked = wasOn
	k.revalidate()
	if err != nil {
		k.showResult("Cannot test:\n"+err.Error(), widget.DangerImportance)
		return
	}
	k.testing = true
	k.testBtn.Disable()
	k.showResult("Connecting to "+strings.Join(c.Brokers, ", ")+"…", widget.MediumImportance)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTestTimeout)
		err := k.test(ctx, c)
		cancel()
		fyne.Do(func() {
			k.testing = false
			k.testBtn.Enable()
			if err != nil {
				k.showResult("Connection failed: "+err.Error(), widget.DangerImportance)
			} else {
				k.showResult(fmt.Sprintf("Connected: %s answered and topic %s exists.", strings.Join(c.Brokers, ", "), topicsOf(c)),
					widget.SuccessImportance)
			}
			if k.onTestDone != nil {
				k.onTestDone()
			}
		})
	}()
}

// topicsOf names the configured topics: "dicom.instances" or "a and b".
func topicsOf(c app.KafkaConfig) string {
	if c.LifecycleTopic == "" {
		return c.Topic
	}
	return c.Topic + " (and " + c.LifecycleTopic + ")"
}

func (k *kafkaSection) showResult(text string, imp widget.Importance) {
	k.testResult.Importance = imp
	k.testResult.SetText(text)
	k.testResult.Show()
}
