package ui

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app"
)

// saveRecorder is the save callback of the settings dialog: it records every
// configuration it is given (from the dialog's background goroutine) and
// returns err.
type saveRecorder struct {
	mu    sync.Mutex
	saved []app.Config
	err   error
	gate  chan struct{} // if non-nil, save waits for it to close
}

func (r *saveRecorder) save(c app.Config) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved = append(r.saved, c)
	return r.err
}

func (r *saveRecorder) calls() []app.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]app.Config(nil), r.saved...)
}

// settingsTestConfig is a valid configuration with fixed values (the golden
// markup depends on them).
func settingsTestConfig() app.Config {
	c := app.DefaultConfig()
	c.StorageDir = "/srv/dicom-inbox-test/storage"
	c.AllowedCallingAEs = []string{"CT01", "MR_3T"}
	return c
}

// dialogParent is a 1280×800 test window to open dialogs over.
func dialogParent(t *testing.T) fyne.Window {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	return w
}

// openSettings shows the dialog; the returned channel receives once per
// applied save result (receiving orders the test after the dialog's writes).
func openSettings(t *testing.T, cfg app.Config, rec *saveRecorder,
	testKafka func(context.Context, app.KafkaConfig) error) (*settingsDialog, <-chan struct{}) {
	t.Helper()
	d := newSettingsDialog(dialogParent(t), cfg, rec.save, testKafka)
	done := make(chan struct{}, 1)
	d.onSaveDone = func() { done <- struct{}{} }
	d.dlg.Show()
	return d, done
}

// dialogShown reports whether a dialog is shown over w (dialogs are overlays).
func dialogShown(w fyne.Window) bool { return w.Canvas().Overlays().Top() != nil }

// typeReplacing replaces an entry's text the way a user does: select all, type.
func typeReplacing(e *widget.Entry, text string) {
	e.SetText("")
	test.Type(e, text)
}

// checkFieldError asserts that the reason shown under the field contains want.
func checkFieldError(t *testing.T, f *formField, want string) {
	t.Helper()
	if f.entry.Validate() == nil {
		t.Errorf("%s %q: the entry reports no validation error", f.name, f.entry.Text)
	}
	if !f.err.Visible() || !strings.Contains(f.err.Text, want) {
		t.Errorf("%s %q: reason under the field = %q (visible %v), want it to contain %q",
			f.name, f.entry.Text, f.err.Text, f.err.Visible(), want)
	}
}

// checkSaveRefused taps Save and asserts that save is not called and the
// dialog says why, naming the field.
func checkSaveRefused(t *testing.T, d *settingsDialog, rec *saveRecorder, want ...string) {
	t.Helper()
	test.Tap(d.saveBtn)
	if d.saving {
		t.Fatal("Save started saving an invalid configuration")
	}
	for _, w := range append([]string{"Cannot save:"}, want...) {
		if !d.status.Visible() || !strings.Contains(d.status.Text, w) {
			t.Errorf("status = %q (visible %v), want it to contain %q", d.status.Text, d.status.Visible(), w)
		}
	}
	if d.status.Importance != widget.DangerImportance {
		t.Errorf("status importance %v, want danger", d.status.Importance)
	}
	if n := len(rec.calls()); n != 0 {
		t.Errorf("save called %d times", n)
	}
	if !dialogShown(d.parent) {
		t.Error("the dialog closed on a refused save")
	}
}

func TestSettingsRejectsBadAETitles(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"backslash", `IN\BOX`, "backslash not allowed"},
		{"too-long", "ABCDEFGHIJKLMNOPQ", "17 characters, at most 16 allowed"},
		{"empty", "", "must not be empty"},
		{"blanks", "   ", "must not be empty"},
		{"non-ascii", "ÉCHO", "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &saveRecorder{}
			d, _ := openSettings(t, settingsTestConfig(), rec, nil)
			typeReplacing(d.aet.entry, tc.text)
			checkFieldError(t, d.aet, tc.want)
			checkSaveRefused(t, d, rec, "AE title: ", tc.want)
		})
	}
}

func TestSettingsRejectsBadPorts(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"zero", "0", "0 is out of range; a port is between 1 and 65535"},
		{"too-big", "70000", "70000 is out of range"},
		{"text", "eleven", `"eleven" is not a number`},
		{"empty", "", "enter a port number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &saveRecorder{}
			d, _ := openSettings(t, settingsTestConfig(), rec, nil)
			typeReplacing(d.port.entry, tc.text)
			checkFieldError(t, d.port, tc.want)
			if d.port.note.Visible() {
				t.Errorf("privileged-port warning shown for %q", tc.text)
			}
			checkSaveRefused(t, d, rec, "Port: "+tc.want)
		})
	}
}

func TestSettingsPrivilegedPortWarns(t *testing.T) {
	rec := &saveRecorder{}
	d, done := openSettings(t, settingsTestConfig(), rec, nil)
	if d.port.note.Visible() {
		t.Fatal("warning shown for port 11112")
	}
	typeReplacing(d.port.entry, "104")
	if d.port.err.Visible() || d.port.entry.Validate() != nil {
		t.Errorf("port 104 marked invalid: %q", d.port.err.Text)
	}
	if !d.port.note.Visible() || !strings.Contains(d.port.note.Text, "below 1024") ||
		!strings.Contains(d.port.note.Text, "administrator rights") {
		t.Errorf("warning = %q (visible %v), want it to say below 1024 / administrator rights", d.port.note.Text, d.port.note.Visible())
	}
	if d.port.note.Importance != widget.WarningImportance {
		t.Errorf("warning importance %v", d.port.note.Importance)
	}
	// A warning does not block saving.
	test.Tap(d.saveBtn)
	wait(t, done, "save")
	if c := rec.calls(); len(c) != 1 || c[0].Port != 104 {
		t.Fatalf("save calls %+v, want one with port 104", c)
	}
	typeReplacing(d.port.entry, "11112")
	if d.port.note.Visible() {
		t.Error("warning still shown for port 11112")
	}
}

func TestSettingsFieldErrors(t *testing.T) {
	rec := &saveRecorder{}
	d, _ := openSettings(t, settingsTestConfig(), rec, nil)
	cases := []struct {
		f          *formField
		text, want string
	}{
		{d.allowed, `CT01, BAD\AE`, `"BAD\\AE": backslash not allowed`},
		{d.maxAssoc, "0", "0 is out of range; enter 1 to 1000"},
		{d.maxAssoc, "many", `"many" is not a whole number`},
		{d.storageDir, "", "choose the folder"},
		{d.storageDir, "relative/dir", "is not a full path"},
		{d.minFree, "-5", "is not a whole number of MB"},
		{d.studyIdle, "soon", `"soon" is not a duration`},
		{d.studyIdle, "0", "must be longer than zero"},
		{d.history, "-1m", "must be longer than zero"},
	}
	for _, tc := range cases {
		typeReplacing(tc.f.entry, tc.text)
		checkFieldError(t, tc.f, tc.want)
		checkSaveRefused(t, d, rec, tc.f.name+": ", tc.want)
		typeReplacing(tc.f.entry, map[*formField]string{d.allowed: "", d.maxAssoc: "8", d.storageDir: "/tmp/x",
			d.minFree: "0", d.studyIdle: "30", d.history: "1h"}[tc.f])
		if tc.f.err.Visible() {
			t.Errorf("%s: reason %q still shown after a valid value", tc.f.name, tc.f.err.Text)
		}
	}
}

func TestSettingsSavesValidChanges(t *testing.T) {
	rec := &saveRecorder{}
	cur := settingsTestConfig()
	cur.Kafka.NodeID = "node-7" // not shown: must survive
	cur.Kafka.Tenants = map[string]string{"CT01": "north"}
	d, done := openSettings(t, cur, rec, nil)

	storageDir := t.TempDir()
	typeReplacing(d.aet.entry, " NEWAE ")
	typeReplacing(d.port.entry, "4242")
	typeReplacing(d.allowed.entry, "A1, B2 C3")
	typeReplacing(d.maxAssoc.entry, "7")
	test.Tap(d.checkCalled)   // was on
	test.Tap(d.acceptUnknown) // was off
	typeReplacing(d.storageDir.entry, storageDir)
	typeReplacing(d.minFree.entry, "1024")
	d.duplicates.SetSelected(dupKeepText)
	test.Tap(d.keepPageCache) // was off
	typeReplacing(d.studyIdle.entry, "2m")
	typeReplacing(d.history.entry, "90") // plain seconds
	test.Tap(d.startListening)           // was on
	test.Tap(d.notify)                   // was on
	test.Tap(d.keepInTray)               // was off
	test.Tap(d.kafka.enabled)
	typeReplacing(d.kafka.brokers.entry, "k1:9092, k2:9093")
	typeReplacing(d.kafka.topic.entry, "pacs.events")
	typeReplacing(d.kafka.lifecycle.entry, "pacs.lifecycle")
	typeReplacing(d.kafka.client.entry, "inbox-7")
	test.Tap(d.kafka.tlsEnabled)
	typeReplacing(d.kafka.caFile.entry, "/etc/ssl/ca.pem")
	d.kafka.mechanism.SetSelected("SCRAM-SHA-512")
	typeReplacing(d.kafka.user.entry, "inbox")
	typeReplacing(d.kafka.password.entry, "s3cret")

	test.Tap(d.saveBtn)
	wait(t, done, "save")
	want := cur
	want.AETitle = "NEWAE"
	want.Port = 4242
	want.AllowedCallingAEs = []string{"A1", "B2", "C3"}
	want.MaxAssociations = 7
	want.CheckCalledAE = false
	want.AcceptUnknownSOPClasses = true
	want.StorageDir = storageDir
	want.MinFreeMB = 1024
	want.DuplicatePolicy = "keep"
	want.KeepPageCache = true
	want.StudyCompleteAfter = app.Duration(2 * time.Minute)
	want.AssociationHistory = app.Duration(90 * time.Second)
	want.StartListening = false
	want.NotifyStudyComplete = false
	want.KeepRunningInTray = true
	want.Kafka = app.KafkaConfig{Enabled: true, Brokers: []string{"k1:9092", "k2:9093"}, Topic: "pacs.events",
		LifecycleTopic: "pacs.lifecycle", ClientID: "inbox-7", NodeID: "node-7", Tenants: map[string]string{"CT01": "north"},
		TLS:  app.KafkaTLS{Enabled: true, CAFile: "/etc/ssl/ca.pem"},
		SASL: app.KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "inbox", Password: "s3cret"}}
	got := rec.calls()
	if len(got) != 1 {
		t.Fatalf("save called %d times, want 1", len(got))
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("saved config\n got %+v\nwant %+v", got[0], want)
	}
	if dialogShown(d.parent) {
		t.Error("dialog still open after a successful save")
	}
}

func TestSettingsUnchangedSaveKeepsConfig(t *testing.T) {
	rec := &saveRecorder{}
	cur := settingsTestConfig()
	d, done := openSettings(t, cur, rec, nil)
	test.Tap(d.saveBtn)
	wait(t, done, "save")
	if got := rec.calls(); len(got) != 1 || !reflect.DeepEqual(got[0], cur) {
		t.Errorf("saving untouched settings gave %+v, want %+v", got, cur)
	}
}

func TestSettingsSaveErrorShown(t *testing.T) {
	rec := &saveRecorder{err: errors.New("port 4242 is already in use by another program"), gate: make(chan struct{})}
	d, done := openSettings(t, settingsTestConfig(), rec, nil)
	test.Tap(d.saveBtn) // returns while save waits at the gate: it runs off the UI goroutine
	if !d.saveBtn.Disabled() || !d.cancelBtn.Disabled() || !strings.Contains(d.status.Text, "Saving") {
		t.Errorf("while saving: Save disabled %v, Cancel disabled %v, status %q",
			d.saveBtn.Disabled(), d.cancelBtn.Disabled(), d.status.Text)
	}
	test.Tap(d.saveBtn) // ignored while busy
	close(rec.gate)
	wait(t, done, "save")
	if n := len(rec.calls()); n != 1 {
		t.Errorf("save called %d times, want 1", n)
	}
	if !dialogShown(d.parent) {
		t.Fatal("dialog closed although save failed")
	}
	if !strings.Contains(d.status.Text, "Could not save the settings: port 4242 is already in use") ||
		d.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q (importance %v)", d.status.Text, d.status.Importance)
	}
	if d.saveBtn.Disabled() || d.cancelBtn.Disabled() {
		t.Error("buttons still disabled after the failed save")
	}
}

func TestSettingsKafkaFieldsCheckedOnlyWhenEnabled(t *testing.T) {
	rec := &saveRecorder{}
	d, done := openSettings(t, settingsTestConfig(), rec, nil)
	typeReplacing(d.kafka.topic.entry, "bad topic!")
	if d.kafka.topic.err.Visible() {
		t.Errorf("Kafka off, yet the topic is marked: %q", d.kafka.topic.err.Text)
	}
	test.Tap(d.kafka.enabled)
	checkFieldError(t, d.kafka.brokers, "enter at least one broker")
	checkFieldError(t, d.kafka.topic, `' ' is not allowed in a topic name`)
	checkSaveRefused(t, d, rec, "Kafka brokers: enter at least one broker")

	typeReplacing(d.kafka.brokers.entry, "kafka:notaport")
	checkFieldError(t, d.kafka.brokers, `"kafka:notaport"`)
	typeReplacing(d.kafka.brokers.entry, "kafka:9092")
	typeReplacing(d.kafka.topic.entry, "ok.topic")
	d.kafka.mechanism.SetSelected("PLAIN")
	checkFieldError(t, d.kafka.user, "PLAIN needs a user name")
	d.kafka.mechanism.SetSelected(saslNone)
	if d.kafka.user.err.Visible() {
		t.Error("user still required without SASL")
	}
	// Whole-config check (app.Config.Validate): a certificate without its key.
	typeReplacing(d.kafka.certFile.entry, "/etc/ssl/client.pem")
	checkSaveRefused(t, d, rec, "needs both the certificate and the key file")
	typeReplacing(d.kafka.certFile.entry, "")

	// Switched off again, the section saves as typed without checks.
	test.Tap(d.kafka.enabled)
	typeReplacing(d.kafka.topic.entry, "")
	test.Tap(d.saveBtn)
	wait(t, done, "save")
	if c := rec.calls(); len(c) != 1 || c[0].Kafka.Enabled || c[0].Kafka.Topic != "" {
		t.Errorf("save calls %+v, want Kafka off with an empty topic", c)
	}
}

// openKafkaTest shows the dialog and returns a channel that receives once
// per applied "Test connection" result.
func openKafkaTest(t *testing.T, testKafka func(context.Context, app.KafkaConfig) error) (*settingsDialog, <-chan struct{}) {
	d, _ := openSettings(t, settingsTestConfig(), &saveRecorder{}, testKafka)
	done := make(chan struct{}, 1)
	d.kafka.onTestDone = func() { done <- struct{}{} }
	return d, done
}

func TestSettingsKafkaTestConnection(t *testing.T) {
	// A real in-process broker (kfake) with the topic; the dialog's button
	// runs app.TestKafkaConnection, the function the app wires to it.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0), kfake.SeedTopics(1, "dicom.instances"))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(cluster.Close)
	broker := cluster.ListenAddrs()[0]

	t.Run("connected", func(t *testing.T) {
		gate := make(chan struct{})
		d, done := openKafkaTest(t, func(ctx context.Context, k app.KafkaConfig) error {
			<-gate
			return app.TestKafkaConnection(ctx, k)
		})
		typeReplacing(d.kafka.brokers.entry, broker) // Kafka stays switched off: testing works anyway
		test.Tap(d.kafka.testBtn)                    // returns while the test waits at the gate
		if !d.kafka.testBtn.Disabled() || !strings.HasPrefix(d.kafka.testResult.Text, "Connecting to "+broker) {
			t.Errorf("while testing: button disabled %v, result %q", d.kafka.testBtn.Disabled(), d.kafka.testResult.Text)
		}
		close(gate)
		wait(t, done, "Kafka test")
		r := d.kafka.testResult
		if !r.Visible() || !strings.HasPrefix(r.Text, "Connected: "+broker) || r.Importance != widget.SuccessImportance {
			t.Errorf("result = %q (importance %v), want Connected", r.Text, r.Importance)
		}
		if d.kafka.testBtn.Disabled() {
			t.Error("button still disabled after the test")
		}
	})

	t.Run("missing-topic", func(t *testing.T) {
		d, done := openKafkaTest(t, app.TestKafkaConnection)
		typeReplacing(d.kafka.brokers.entry, broker)
		typeReplacing(d.kafka.topic.entry, "no.such.topic")
		test.Tap(d.kafka.testBtn)
		wait(t, done, "Kafka test")
		r := d.kafka.testResult
		if !strings.HasPrefix(r.Text, "Connection failed: ") || !strings.Contains(r.Text, "no.such.topic") ||
			r.Importance != widget.DangerImportance {
			t.Errorf("result = %q (importance %v), want a failure naming the topic", r.Text, r.Importance)
		}
	})

	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		d, done := openKafkaTest(t, app.TestKafkaConnection)
		typeReplacing(d.kafka.brokers.entry, closed)
		test.Tap(d.kafka.testBtn)
		wait(t, done, "Kafka test")
		r := d.kafka.testResult
		if !strings.HasPrefix(r.Text, "Connection failed: ") || !strings.Contains(r.Text, closed) {
			t.Errorf("result = %q, want a failure naming %s", r.Text, closed)
		}
	})

	t.Run("invalid-fields", func(t *testing.T) {
		var called atomic.Bool
		d, _ := openKafkaTest(t, func(context.Context, app.KafkaConfig) error { called.Store(true); return nil })
		typeReplacing(d.kafka.brokers.entry, "")
		test.Tap(d.kafka.testBtn)
		if called.Load() || d.kafka.testing {
			t.Error("tested with no broker")
		}
		if !strings.Contains(d.kafka.testResult.Text, "Cannot test:") ||
			!strings.Contains(d.kafka.testResult.Text, "Kafka brokers: enter at least one broker") {
			t.Errorf("result = %q", d.kafka.testResult.Text)
		}
		if d.kafka.enabled.Checked {
			t.Error("testing switched Kafka on")
		}
	})

	t.Run("no-tester", func(t *testing.T) {
		d, _ := openKafkaTest(t, nil)
		if !d.kafka.testBtn.Disabled() {
			t.Error("Test connection enabled without a tester")
		}
	})
}

func TestSettingsGolden(t *testing.T) {
	rec := &saveRecorder{}
	cur := settingsTestConfig()
	d, _ := openSettings(t, cur, rec, nil)
	test.AssertRendersToMarkup(t, "settings_dialog.xml", d.parent.Canvas())

	// The same dialog with a reason at two fields and the refusal.
	typeReplacing(d.aet.entry, `IN\BOX`)
	typeReplacing(d.port.entry, "104")
	test.Tap(d.saveBtn)
	test.AssertRendersToMarkup(t, "settings_dialog_invalid.xml", d.parent.Canvas())
}

func TestSettingsFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m", 2 * time.Hour: "2h",
		90 * time.Minute: "90m", 1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDurationText(d); got != want {
			t.Errorf("formatDurationText(%v) = %q, want %q", d, got, want)
		}
		if back, err := parseDurationText(formatDurationText(d)); err != nil || back != d {
			t.Errorf("parseDurationText(%q) = %v, %v; want %v", formatDurationText(d), back, err, d)
		}
	}
}

// A new storage folder that already holds someone's files is taken only
// after a question: Cancel leaves the settings unsaved, "Use it anyway"
// saves them. An empty folder, a storage folder and the current folder
// are taken without one.
func TestSettingsAskBeforeAFolderWithOtherFiles(t *testing.T) {
	archive := t.TempDir()
	for _, name := range []string{"IM0001", "IM0002", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(archive, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := &saveRecorder{}
	d, done := openSettings(t, settingsTestConfig(), rec, nil)
	typeReplacing(d.storageDir.entry, archive)
	test.Tap(d.saveBtn)
	if d.foreign == nil || d.saving || len(rec.calls()) != 0 {
		t.Fatalf("saved without asking (question %v, saving %v, saves %d)", d.foreign != nil, d.saving, len(rec.calls()))
	}
	d.foreign.Dismiss() // Cancel
	if d.saving || len(rec.calls()) != 0 {
		t.Fatal("saved after Cancel")
	}
	d.foreign = nil
	test.Tap(d.saveBtn)
	if d.foreign == nil {
		t.Fatal("no question the second time")
	}
	d.foreign.Confirm() // Use it anyway
	wait(t, done, "save")
	if calls := rec.calls(); len(calls) != 1 || calls[0].StorageDir != archive {
		t.Fatalf("saves after Use it anyway: %+v", calls)
	}

	for _, dir := range []string{t.TempDir(), archive} { // empty; then the current folder
		cur := settingsTestConfig()
		if dir == archive {
			cur.StorageDir = archive
		}
		rec := &saveRecorder{}
		d, done := openSettings(t, cur, rec, nil)
		typeReplacing(d.storageDir.entry, dir)
		test.Tap(d.saveBtn)
		if d.foreign != nil {
			t.Fatalf("%s: asked", dir)
		}
		wait(t, done, "save")
	}
}

// The DICOM TLS files: a certificate without its key is refused with the
// reason; the three files are saved as typed.
func TestSettingsDicomTLS(t *testing.T) {
	rec := &saveRecorder{}
	d, done := openSettings(t, settingsTestConfig(), rec, nil)
	typeReplacing(d.tlsCert.entry, "/etc/dicominbox/inbox.crt")
	checkSaveRefused(t, d, rec, "TLS: a certificate file needs its key file")
	typeReplacing(d.tlsKey.entry, "/etc/dicominbox/inbox.key")
	typeReplacing(d.tlsClientCA.entry, "/etc/dicominbox/modalities-ca.crt")
	test.Tap(d.saveBtn)
	wait(t, done, "save")
	want := app.DicomTLS{CertFile: "/etc/dicominbox/inbox.crt", KeyFile: "/etc/dicominbox/inbox.key",
		ClientCAFile: "/etc/dicominbox/modalities-ca.crt"}
	if calls := rec.calls(); len(calls) != 1 || calls[0].TLS != want {
		t.Fatalf("saved %+v, want TLS %+v", calls, want)
	}
}
