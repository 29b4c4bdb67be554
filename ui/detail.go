package ui

import (
	"context"
	"fmt"
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
	"github.com/dicominbox/dicominbox/store/index"
)

// studyCatalog is what the study detail needs from the receiver;
// *app.Engine implements it. Its methods are called off the UI goroutine.
type studyCatalog interface {
	Series(ctx context.Context, key index.StudyKey) ([]index.Series, error)
	Instances(ctx context.Context, key index.SeriesKey) ([]index.Instance, error)
	DeleteStudy(ctx context.Context, key index.StudyKey) (int, error)
	StudyFolder(ctx context.Context, key index.StudyKey) (string, error)
}

// detailQueryTimeout bounds each catalog call of the study detail.
const detailQueryTimeout = 30 * time.Second

// showStudyDetail opens the detail of one study over parent: its header
// (patient, date, description, accession, counts, size), its series and the
// instances of the selected series, with buttons to open the study's folder,
// copy its path and delete it (after a confirmation; onDeleted is then
// called on the UI goroutine). Every query runs off the UI goroutine.
func showStudyDetail(parent fyne.Window, src studyCatalog, study index.Study, onDeleted func()) {
	d := newStudyDetail(parent, src, study, onDeleted, openFolder)
	d.dlg.Show()
	d.load()
}

// studyDetail is the study detail dialog. Its fields are touched on the UI
// goroutine only.
type studyDetail struct {
	parent    fyne.Window
	src       studyCatalog
	study     index.Study
	onDeleted func()
	open      func(path string) error // opens a folder in the file manager
	loc       *time.Location          // for received times (tests: UTC)
	// do hands a result to the UI goroutine: fyne.Do, or in tests a queue
	// the test goroutine runs (the test driver's fyne.Do runs inline, on
	// whichever goroutine calls it).
	do  func(func())
	dlg *dialog.CustomDialog

	series    []index.Series
	instances []index.Instance
	selected  int // index into series, -1 = none
	instGen   int // drops the answer of an instances query overtaken by another
	folder    string
	deleting  bool

	seriesTable, instTable *widget.Table
	seriesTitle, instTitle *widget.Label
	status                 *widget.Label
	openBtn, copyBtn       *widget.Button
	deleteBtn, closeBtn    *widget.Button
	content                *fyne.Container
	confirm                *dialog.ConfirmDialog // the delete confirmation while shown
	onApplied              func(what string)     // test hook: "series", "instances", "folder", "delete" applied
}

func newStudyDetail(parent fyne.Window, src studyCatalog, st index.Study, onDeleted func(), open func(string) error) *studyDetail {
	d := &studyDetail{parent: parent, src: src, study: st, onDeleted: onDeleted, open: open, loc: time.Local, selected: -1, do: fyne.Do}

	d.seriesTable = newGridTable([]gridColumn{
		{"Series", 70, fyne.TextAlignTrailing},
		{"Modality", 90, fyne.TextAlignLeading},
		{"Description", 460, fyne.TextAlignLeading},
		{"Body part", 120, fyne.TextAlignLeading},
		{"Instances", 100, fyne.TextAlignTrailing},
		{"Size", 110, fyne.TextAlignTrailing},
	}, func() int { return len(d.series) }, d.seriesCell)
	d.seriesTable.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(d.series) && id.Row != d.selected {
			d.selectSeries(id.Row)
		}
	}
	d.instTable = newGridTable([]gridColumn{
		{"Instance", 80, fyne.TextAlignTrailing},
		{"SOP Instance UID", 500, fyne.TextAlignLeading},
		{"Frames", 80, fyne.TextAlignTrailing},
		{"Size", 110, fyne.TextAlignTrailing},
		{"Received", 180, fyne.TextAlignLeading},
	}, func() int { return len(d.instances) }, d.instanceCell)
	d.seriesTitle = sectionHeading("Series").(*widget.Label)
	d.instTitle = sectionHeading("Instances").(*widget.Label)

	d.status = widget.NewLabel("Loading the series…")
	d.status.Wrapping = fyne.TextWrapWord
	d.openBtn = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), d.onOpen)
	d.copyBtn = widget.NewButtonWithIcon("Copy path", theme.ContentCopyIcon(), d.onCopy)
	d.openBtn.Disable() // until the folder is known
	d.copyBtn.Disable()
	if open == nil {
		d.openBtn.Hide()
	}
	d.deleteBtn = widget.NewButtonWithIcon("Delete study…", theme.DeleteIcon(), d.onDelete)
	d.deleteBtn.Importance = widget.DangerImportance
	d.closeBtn = widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() { d.dlg.Hide() })

	split := container.NewVSplit(
		container.NewBorder(d.seriesTitle, nil, nil, nil, d.seriesTable),
		container.NewBorder(d.instTitle, nil, nil, nil, d.instTable))
	split.Offset = 0.4
	buttons := container.NewHBox(d.openBtn, d.copyBtn, d.deleteBtn, layout.NewSpacer(), d.closeBtn)
	d.content = container.NewBorder(d.header(), container.NewVBox(widget.NewSeparator(), d.status, buttons), nil, nil, split)

	d.dlg = dialog.NewCustomWithoutButtons("Study: "+dashIfEmpty(personName(st.PatientName)), d.content, parent)
	d.dlg.Resize(fitDialogSize(parent, 1180, 760))
	return d
}

// header is the study's summary at the top of the dialog: two columns of
// label/value pairs, then the Study Instance UID across the width.
func (d *studyDetail) header() fyne.CanvasObject {
	st := d.study
	var who []string
	if st.PatientID != "" {
		who = append(who, st.PatientID)
	}
	if st.PatientBirthDate != "" {
		who = append(who, "born "+dicomDate(st.PatientBirthDate))
	}
	if st.PatientSex != "" {
		who = append(who, "sex "+st.PatientSex)
	}
	when := strings.TrimSpace(dicomDate(st.StudyDate) + " " + detailTime(st.StudyTime))
	contents := fmt.Sprintf("%s · %s · %s", countNoun(st.SeriesCount, "series", "series"),
		countNoun(st.InstanceCount, "instance", "instances"), app.HumanBytes(st.SizeBytes))
	received := ""
	if !st.LastReceived.IsZero() {
		received = st.LastReceived.In(d.loc).Format("2006-01-02 15:04:05")
		if st.SourceAE != "" {
			received += " from " + st.SourceAE
		}
	}
	pairs := func(rows ...[2]string) *fyne.Container {
		var objs []fyne.CanvasObject
		for _, r := range rows {
			v := widget.NewLabel(r[1])
			v.Truncation = fyne.TextTruncateEllipsis
			v.Selectable = true
			objs = append(objs, widget.NewLabelWithStyle(r[0], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}), v)
		}
		return container.New(layout.NewFormLayout(), objs...)
	}
	return container.NewVBox(
		container.NewGridWithColumns(2,
			pairs([2]string{"Patient", dashIfEmpty(personName(st.PatientName))},
				[2]string{"Patient ID", dashIfEmpty(strings.Join(who, " · "))},
				[2]string{"Study date", dashIfEmpty(when)},
				[2]string{"Description", dashIfEmpty(st.Description)}),
			pairs([2]string{"Accession", dashIfEmpty(st.AccessionNumber)},
				[2]string{"Modalities", dashIfEmpty(strings.ReplaceAll(st.Modalities, `\`, ", "))},
				[2]string{"Contents", contents},
				[2]string{"Last received", dashIfEmpty(received)})),
		pairs([2]string{"Study UID", st.StudyInstanceUID}))
}

func (d *studyDetail) seriesCell(row, col int) string {
	if row < 0 || row >= len(d.series) {
		return ""
	}
	s := d.series[row]
	switch col {
	case 0:
		return strconv.Itoa(s.SeriesNumber)
	case 1:
		return dashIfEmpty(s.Modality)
	case 2:
		return dashIfEmpty(s.Description)
	case 3:
		return dashIfEmpty(s.BodyPart)
	case 4:
		return strconv.Itoa(s.InstanceCount)
	case 5:
		return app.HumanBytes(s.SizeBytes)
	}
	return ""
}

func (d *studyDetail) instanceCell(row, col int) string {
	if row < 0 || row >= len(d.instances) {
		return ""
	}
	in := d.instances[row]
	switch col {
	case 0:
		return strconv.Itoa(in.InstanceNumber)
	case 1:
		return in.SOPInstanceUID
	case 2:
		return strconv.Itoa(max(in.NumberOfFrames, 1))
	case 3:
		return app.HumanBytes(in.SizeBytes)
	case 4:
		if in.ReceivedAt.IsZero() {
			return "—"
		}
		return in.ReceivedAt.In(d.loc).Format("2006-01-02 15:04:05")
	}
	return ""
}

// load starts the queries of the series and of the study's folder.
func (d *studyDetail) load() {
	key := d.study.Key()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), detailQueryTimeout)
		series, err := d.src.Series(ctx, key)
		cancel()
		d.do(func() { d.applySeries(series, err) })
	}()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), detailQueryTimeout)
		dir, err := d.src.StudyFolder(ctx, key)
		cancel()
		d.do(func() { d.applyFolder(dir, err) })
	}()
}

func (d *studyDetail) applied(what string) {
	if d.onApplied != nil {
		d.onApplied(what)
	}
}

func (d *studyDetail) applySeries(series []index.Series, err error) {
	defer d.applied("series")
	if d.deleting {
		return
	}
	if err != nil {
		d.showStatus("Could not read the series: "+err.Error(), true)
		return
	}
	d.series = series
	d.seriesTitle.SetText(fmt.Sprintf("Series (%d)", len(series)))
	d.seriesTable.Refresh()
	if len(series) == 0 {
		d.showStatus("The index has no series of this study any more (deleted meanwhile?).", true)
		return
	}
	d.status.Hide()
	d.content.Refresh()
	d.seriesTable.Select(widget.TableCellID{Row: 0, Col: 0}) // calls selectSeries(0)
	if d.selected != 0 {
		d.selectSeries(0)
	}
}

// selectSeries shows the instances of series i (querying them off the UI goroutine).
func (d *studyDetail) selectSeries(i int) {
	d.selected = i
	d.instGen++
	gen, s := d.instGen, d.series[i]
	d.instances = nil
	d.instTable.Refresh()
	d.instTitle.SetText(fmt.Sprintf("Instances of series %d: loading…", s.SeriesNumber))
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), detailQueryTimeout)
		ins, err := d.src.Instances(ctx, s.Key())
		cancel()
		d.do(func() { d.applyInstances(gen, s, ins, err) })
	}()
}

func (d *studyDetail) applyInstances(gen int, s index.Series, ins []index.Instance, err error) {
	defer d.applied("instances")
	if gen != d.instGen || d.deleting {
		return // another series was selected meanwhile
	}
	if err != nil {
		d.instTitle.SetText(fmt.Sprintf("Instances of series %d", s.SeriesNumber))
		d.showStatus("Could not read the instances: "+err.Error(), true)
		return
	}
	// A series UID shared with another study (bad senders do that) must not
	// show the other study's instances here.
	kept := ins[:0:0]
	for _, in := range ins {
		if in.StudyInstanceUID == d.study.StudyInstanceUID {
			kept = append(kept, in)
		}
	}
	d.instances = kept
	d.instTitle.SetText(fmt.Sprintf("Instances of series %d (%d)", s.SeriesNumber, len(kept)))
	d.instTable.Refresh()
	d.instTable.ScrollToTop()
}

func (d *studyDetail) applyFolder(dir string, err error) {
	defer d.applied("folder")
	if err != nil {
		d.openBtn.Disable()
		d.copyBtn.Disable()
		if !d.deleting {
			d.showStatus("Could not find the study's folder: "+err.Error(), true)
		}
		return
	}
	d.folder = dir
	if !d.deleting {
		d.openBtn.Enable()
		d.copyBtn.Enable()
	}
}

func (d *studyDetail) onOpen() {
	if d.folder == "" || d.open == nil {
		return
	}
	if err := d.open(d.folder); err != nil {
		d.showStatus("Could not open the folder: "+err.Error(), true)
		return
	}
	d.showStatus("Opened "+d.folder, false)
}

func (d *studyDetail) onCopy() {
	if d.folder == "" {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(d.folder)
	d.showStatus("Copied to the clipboard: "+d.folder, false)
}

// onDelete asks for a confirmation, then deletes the study off the UI goroutine.
func (d *studyDetail) onDelete() {
	if d.deleting {
		return
	}
	st := d.study
	msg := fmt.Sprintf("Delete the study of %s (%s, %s) from the disk and the index?\nThis cannot be undone.",
		dashIfEmpty(personName(st.PatientName)), countNoun(st.InstanceCount, "instance", "instances"), app.HumanBytes(st.SizeBytes))
	d.confirm = dialog.NewConfirm("Delete study", msg, func(ok bool) {
		d.confirm = nil
		if ok {
			d.startDelete()
		}
	}, d.parent)
	d.confirm.SetConfirmText("Delete")
	d.confirm.SetConfirmImportance(widget.DangerImportance)
	d.confirm.Show()
}

func (d *studyDetail) startDelete() {
	d.deleting = true
	for _, b := range []*widget.Button{d.openBtn, d.copyBtn, d.deleteBtn, d.closeBtn} {
		b.Disable()
	}
	d.showStatus("Deleting the study…", false)
	key := d.study.Key()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), detailQueryTimeout)
		n, err := d.src.DeleteStudy(ctx, key)
		cancel()
		d.do(func() { d.applyDelete(n, err) })
	}()
}

func (d *studyDetail) applyDelete(n int, err error) {
	defer d.applied("delete")
	d.deleting = false
	if err != nil {
		d.showStatus("Could not delete the study: "+err.Error(), true)
		d.deleteBtn.Enable()
		d.closeBtn.Enable()
		if d.folder != "" {
			d.openBtn.Enable()
			d.copyBtn.Enable()
		}
		return
	}
	d.showStatus(fmt.Sprintf("Deleted %s.", countNoun(n, "instance", "instances")), false)
	d.dlg.Hide()
	if d.onDeleted != nil {
		d.onDeleted()
	}
}

func (d *studyDetail) showStatus(text string, bad bool) {
	showDialogStatus(d.status, d.content, text, bad)
}

// ---- formatting ------------------------------------------------------------------------

// detailTime writes a DICOM time (HHMMSS.frac, or shorter) as HH:MM[:SS].
func detailTime(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	if strings.Trim(s, "0123456789") != "" {
		return s
	}
	switch len(s) {
	case 4:
		return s[:2] + ":" + s[2:]
	case 6:
		return s[:2] + ":" + s[2:4] + ":" + s[4:]
	}
	return s
}

// dashIfEmpty shows "—" for an empty value.
func dashIfEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// countNoun writes "1 instance" / "1,204 instances".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return groupThousands(n) + " " + many
}
