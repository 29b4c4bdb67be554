package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/store"
)

// showSettings opens the settings dialog over parent, filled from current.
//
// Every field is checked as it is typed, and its reason is shown right under
// it; Save refuses with the reasons while any field (or app.Config.Validate)
// objects. Otherwise Save calls save with the new configuration off the UI
// goroutine (save applies it, restarting the listener gracefully only when
// its address or storage folder changed, and persists it): the dialog
// closes when save returns nil and shows its error otherwise. "Test connection" calls testKafka off the UI goroutine with the
// Kafka settings as typed and shows the result in words; a nil testKafka
// disables the button.
func showSettings(parent fyne.Window, current app.Config, save func(app.Config) error,
	testKafka func(context.Context, app.KafkaConfig) error) {
	newSettingsDialog(parent, current, save, testKafka).dlg.Show()
}

// kafkaTestTimeout bounds one "Test connection".
const kafkaTestTimeout = 20 * time.Second

// settingsDialog holds the widgets of the settings dialog. All its fields are
// touched on the UI goroutine only.
type settingsDialog struct {
	parent    fyne.Window
	current   app.Config
	save      func(app.Config) error
	testKafka func(context.Context, app.KafkaConfig) error
	dlg       *dialog.CustomDialog

	// Receiver.
	aet, port, allowed, maxAssoc *formField
	tlsCert, tlsKey, tlsClientCA *formField
	checkCalled, acceptUnknown   *widget.Check
	// Storage.
	storageDir, minFree *formField
	duplicates          *widget.RadioGroup
	keepPageCache       *widget.Check
	// Window.
	studyIdle, history                 *formField
	startListening, notify, keepInTray *widget.Check
	kafka                              *kafkaSection
	fields                             []*formField // every field outside the Kafka section
	status                             *widget.Label
	saveBtn, cancelBtn                 *widget.Button
	saving                             bool
	onSaveDone                         func() // test hook: after a save result was applied
	chooseFolder                       *widget.Button
	foreign                            *dialog.ConfirmDialog // the last "folder holds other files" question
	sections                           *fyne.Container
	scroll                             *container.Scroll
	content                            *fyne.Container
}

// Duplicate-policy choices as the dialog words them.
const (
	dupReplaceText = "Replace the older copy"
	dupKeepText    = "Keep the first copy"
)

func newSettingsDialog(parent fyne.Window, cur app.Config, save func(app.Config) error,
	testKafka func(context.Context, app.KafkaConfig) error) *settingsDialog {
	d := &settingsDialog{parent: parent, current: cur, save: save, testKafka: testKafka}

	d.aet = newFormField("AE title", cur.AETitle, func(s string) error { _, err := parseAETitleText(s); return err }, nil)
	d.port = newFormField("Port", strconv.Itoa(cur.Port), func(s string) error { _, err := parsePortText(s); return err }, nil)
	d.port.noteFor = privilegedPortNote
	d.port.validate()
	d.allowed = newFormField("Allowed calling AEs", strings.Join(cur.AllowedCallingAEs, ", "),
		func(s string) error { _, err := parseAETitles(s); return err }, nil)
	d.allowed.entry.SetPlaceHolder("empty: any sender")
	d.maxAssoc = newFormField("Max associations", strconv.Itoa(cur.MaxAssociations),
		func(s string) error { _, err := parseIntRange(s, 1, 1000); return err }, nil)
	d.checkCalled = widget.NewCheck("Reject associations that call another AE title", nil)
	d.checkCalled.SetChecked(cur.CheckCalledAE)
	d.acceptUnknown = widget.NewCheck("Also store private and unknown SOP classes", nil)
	d.acceptUnknown.SetChecked(cur.AcceptUnknownSOPClasses)

	d.chooseFolder = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), d.pickStorageFolder)
	d.storageDir = newFormField("Storage folder", cur.StorageDir, checkStorageDir, d.chooseFolder)
	d.minFree = newFormField("Free-space threshold", strconv.FormatUint(cur.MinFreeMB, 10),
		func(s string) error { _, err := parseMBText(s); return err }, nil)
	d.duplicates = widget.NewRadioGroup([]string{dupReplaceText, dupKeepText}, nil)
	d.duplicates.Horizontal = true
	d.duplicates.Required = true
	d.duplicates.SetSelected(dupReplaceText)
	if cur.DuplicatePolicy == string(store.DuplicateKeep) {
		d.duplicates.SetSelected(dupKeepText)
	}
	d.keepPageCache = widget.NewCheck("Keep received files in memory for a viewer on this computer", nil)
	d.keepPageCache.SetChecked(cur.KeepPageCache)

	d.studyIdle = newFormField("Study idle time", formatDurationText(time.Duration(cur.StudyCompleteAfter)), checkDurationText, nil)
	d.history = newFormField("Association history", formatDurationText(time.Duration(cur.AssociationHistory)), checkDurationText, nil)
	d.startListening = widget.NewCheck("Start the listener when the app starts", nil)
	d.startListening.SetChecked(cur.StartListening)
	d.notify = widget.NewCheck("Desktop notification when a study is complete", nil)
	d.notify.SetChecked(cur.NotifyStudyComplete)
	d.keepInTray = widget.NewCheck("Keep receiving in the system tray when the window is closed", nil)
	d.keepInTray.SetChecked(cur.KeepRunningInTray)

	d.tlsCert = newFormField("TLS certificate", cur.TLS.CertFile, anyText, nil)
	d.tlsCert.entry.SetPlaceHolder("empty: no TLS (plain DICOM)")
	d.tlsKey = newFormField("TLS key", cur.TLS.KeyFile, anyText, nil)
	d.tlsClientCA = newFormField("TLS client CA", cur.TLS.ClientCAFile, anyText, nil)
	d.tlsClientCA.entry.SetPlaceHolder("empty: senders need no certificate")
	for _, f := range []*formField{d.tlsCert, d.tlsKey, d.tlsClientCA} {
		f.row = withFileButton(parent, f)
	}

	d.kafka = newKafkaSection(parent, cur.Kafka, testKafka)
	d.fields = []*formField{d.aet, d.port, d.allowed, d.maxAssoc, d.tlsCert, d.tlsKey, d.tlsClientCA,
		d.storageDir, d.minFree, d.studyIdle, d.history}

	d.status = widget.NewLabel("")
	d.status.Wrapping = fyne.TextWrapWord
	d.status.Hide()
	d.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), d.onSave)
	d.saveBtn.Importance = widget.HighImportance
	d.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.dlg.Hide() })

	d.sections = container.NewVBox(
		sectionHeading("Receiver"),
		widget.NewForm(
			hintedItem("AE title", d.aet.row, "1–16 characters; the title senders must call"),
			hintedItem("Port", d.port.row, "TCP port to listen on"),
			hintedItem("Called AE check", d.checkCalled, ""),
			hintedItem("Allowed calling AEs", d.allowed.row, "comma-separated; empty accepts any sender"),
			hintedItem("Max associations", d.maxAssoc.row, "at once; more are rejected"),
			hintedItem("SOP classes", d.acceptUnknown, ""),
			hintedItem("Start", d.startListening, ""),
			hintedItem("TLS certificate", d.tlsCert.row, "DICOM TLS (TLS 1.2+) on this port: this receiver's certificate, PEM"),
			hintedItem("TLS key", d.tlsKey.row, "the certificate's private key, PEM, unencrypted"),
			hintedItem("TLS client CA", d.tlsClientCA.row, "PEM; senders must present a certificate it signed"),
		),
		sectionHeading("Storage"),
		widget.NewForm(
			hintedItem("Storage folder", d.storageDir.row, ""),
			hintedItem("Free-space threshold", d.minFree.row, "MB; below it new data is refused (0: off)"),
			hintedItem("Duplicates", d.duplicates, "a second copy of the same SOP Instance UID"),
			hintedItem("Page cache", d.keepPageCache, "off: a file's memory is freed once it is on disk"),
		),
		sectionHeading("Window"),
		widget.NewForm(
			hintedItem("Study idle time", d.studyIdle.row, "quiet this long after its association: the study is complete (e.g. 30s, 2m)"),
			hintedItem("Association history", d.history.row, "how long finished associations stay listed (e.g. 30m, 2h)"),
			hintedItem("Notification", d.notify, ""),
			hintedItem("Tray", d.keepInTray, ""),
		),
		sectionHeading("Kafka forwarding"),
		d.kafka.form,
	)
	d.scroll = container.NewVScroll(d.sections)
	for _, f := range append(d.fields, d.kafka.fields...) {
		f.relayout = d.relayout
	}
	buttons := container.NewHBox(layout.NewSpacer(), d.cancelBtn, d.saveBtn)
	d.content = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), d.status, buttons), nil, nil, d.scroll)

	d.dlg = dialog.NewCustomWithoutButtons("Settings", d.content, parent)
	d.dlg.Resize(fitDialogSize(parent, 820, 720))
	return d
}

// relayout makes the forms re-measure their rows after a reason under a
// field appeared or went (a shown label does not re-layout its container).
func (d *settingsDialog) relayout() {
	for _, o := range d.sections.Objects {
		o.Refresh()
	}
	d.sections.Refresh()
	d.scroll.Refresh()
}

// fitDialogSize is w×h, shrunk to leave a margin inside the parent window.
func fitDialogSize(parent fyne.Window, w, h float32) fyne.Size {
	ps := parent.Canvas().Size()
	if ps.Width > 0 && ps.Width-40 < w {
		w = ps.Width - 40
	}
	if ps.Height > 0 && ps.Height-40 < h {
		h = ps.Height - 40
	}
	return fyne.NewSize(w, h)
}

// sectionHeading is a section title of a dialog.
func sectionHeading(text string) fyne.CanvasObject {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// hintedItem is a form row with an optional hint under the widget.
func hintedItem(label string, w fyne.CanvasObject, hint string) *widget.FormItem {
	it := widget.NewFormItem(label, w)
	it.HintText = hint
	return it
}

func checkStorageDir(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("choose the folder where received studies are stored")
	}
	if !filepath.IsAbs(s) {
		return fmt.Errorf("%q is not a full path; write it from the root (e.g. /home/you/DICOM Inbox)", s)
	}
	if fi, err := os.Stat(s); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", s)
	}
	return nil
}

func checkDurationText(s string) error { _, err := parseDurationText(s); return err }

// pickStorageFolder opens a folder chooser starting at the current folder
// (or its nearest existing parent).
func (d *settingsDialog) pickStorageFolder() {
	fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			d.showStatus("Cannot open the folder chooser: "+err.Error(), true)
			return
		}
		if u != nil {
			d.storageDir.entry.SetText(u.Path())
		}
	}, d.parent)
	for dir := d.storageDir.text(); filepath.IsAbs(dir); dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
				fd.SetLocation(l)
			}
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	fd.Resize(fitDialogSize(d.parent, 760, 560))
	fd.Show()
}

// config reads the form into a configuration, starting from the current
// one (fields the dialog does not show keep their values). The error lists
// every invalid field, naming it.
func (d *settingsDialog) config() (app.Config, error) {
	var errs []error
	for _, f := range d.fields {
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	kc, kerr := d.kafka.config()
	if kerr != nil {
		errs = append(errs, kerr)
	}
	if len(errs) > 0 {
		return d.current, errors.Join(errs...)
	}
	cfg := d.current
	cfg.AETitle, _ = parseAETitleText(d.aet.entry.Text)
	cfg.Port, _ = parsePortText(d.port.entry.Text)
	cfg.AllowedCallingAEs, _ = parseAETitles(d.allowed.entry.Text)
	cfg.MaxAssociations, _ = parseIntRange(d.maxAssoc.entry.Text, 1, 1000)
	cfg.CheckCalledAE = d.checkCalled.Checked
	cfg.AcceptUnknownSOPClasses = d.acceptUnknown.Checked
	cfg.TLS = app.DicomTLS{CertFile: d.tlsCert.text(), KeyFile: d.tlsKey.text(), ClientCAFile: d.tlsClientCA.text()}
	cfg.StorageDir = filepath.Clean(d.storageDir.text())
	cfg.MinFreeMB, _ = parseMBText(d.minFree.entry.Text)
	cfg.DuplicatePolicy = string(store.DuplicateReplace)
	if d.duplicates.Selected == dupKeepText {
		cfg.DuplicatePolicy = string(store.DuplicateKeep)
	}
	cfg.KeepPageCache = d.keepPageCache.Checked
	idle, _ := parseDurationText(d.studyIdle.entry.Text)
	cfg.StudyCompleteAfter = app.Duration(idle)
	hist, _ := parseDurationText(d.history.entry.Text)
	cfg.AssociationHistory = app.Duration(hist)
	cfg.StartListening = d.startListening.Checked
	cfg.NotifyStudyComplete = d.notify.Checked
	cfg.KeepRunningInTray = d.keepInTray.Checked
	cfg.Kafka = kc
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// onSave runs on the UI goroutine when Save is tapped.
func (d *settingsDialog) onSave() {
	if d.saving {
		return
	}
	cfg, err := d.config()
	if err != nil {
		d.showStatus("Cannot save:\n"+err.Error(), true)
		return
	}
	if cfg.StorageDir != d.current.StorageDir {
		if n := app.ForeignEntries(cfg.StorageDir); n > 0 {
			d.confirmForeignFolder(cfg, n)
			return
		}
	}
	d.startSave(cfg)
}

// confirmForeignFolder asks before a folder that holds someone's files
// (app.ForeignEntries) becomes the storage folder, and saves cfg if so.
func (d *settingsDialog) confirmForeignFolder(cfg app.Config, entries int) {
	msg := fmt.Sprintf("%s already holds %s and is not a DICOM Inbox storage folder.\n\n"+
		"Every DICOM file in it will be listed as received, and deleting a study\n"+
		"deletes its files. For received studies, an empty folder is the safe choice.",
		cfg.StorageDir, plural(entries, "item", "items"))
	d.foreign = dialog.NewConfirm("Use a folder that holds other files?", msg, func(ok bool) {
		if ok {
			d.startSave(cfg)
		}
	}, d.parent)
	d.foreign.SetConfirmText("Use it anyway")
	d.foreign.SetDismissText("Cancel")
	d.foreign.Show()
}

// startSave saves and applies cfg off the UI goroutine.
func (d *settingsDialog) startSave(cfg app.Config) {
	d.saving = true
	d.saveBtn.Disable()
	d.cancelBtn.Disable()
	d.showStatus("Saving and applying (the listener restarts if its address or storage changed)…", false)
	go func() {
		err := d.save(cfg)
		fyne.Do(func() {
			d.saving = false
			d.saveBtn.Enable()
			d.cancelBtn.Enable()
			if err != nil {
				d.showStatus("Could not save the settings: "+err.Error(), true)
			} else {
				d.status.Hide()
				d.content.Refresh()
				d.dlg.Hide()
			}
			if d.onSaveDone != nil {
				d.onSaveDone()
			}
		})
	}()
}

// showStatus shows a line above the buttons, in the error colour when bad.
func (d *settingsDialog) showStatus(text string, bad bool) {
	showDialogStatus(d.status, d.content, text, bad)
}
