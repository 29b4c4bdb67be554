package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store/index"
)

func ev(kind scp.EventKind, id uint64, calling, called string, at time.Duration) app.Event {
	t := testNow.Add(at)
	return app.Event{Event: scp.Event{Kind: kind, Time: t, Association: scp.AssociationInfo{ID: id,
		CallingAE: calling, CalledAE: called, RemoteAddr: "192.0.2.7:40112", StartedAt: testNow.Add(-time.Minute)}}}
}

// scriptedWindow is the main window over a fake engine with three studies,
// one receiving, and a finished, a rejected and a running association.
func scriptedWindow(t *testing.T) (*mainWindow, *fakeEngine) {
	e := newFakeEngine()
	e.running, e.status = true, listening
	e.studies = []index.Study{
		{StudyInstanceUID: "1.2.3.1", PatientName: "Yamada^Tarou=山田^太郎=やまだ^たろう", PatientID: "H31EXAMPLE", StudyDate: "20240105",
			Modalities: `CT\SR`, Description: "CT HEAD", AccessionNumber: "A100", SeriesCount: 2, InstanceCount: 180,
			SizeBytes: 94_371_840, SourceAE: "CT_SCANNER", LastReceived: testNow.Add(-2 * time.Second)},
		{StudyInstanceUID: "1.2.3.2", PatientName: "Wang^XiaoDong=王^小东", PatientID: "X2EXAMPLE", StudyDate: "20231231",
			Modalities: "MR", Description: "MR KNEE", AccessionNumber: "C9", SeriesCount: 5, InstanceCount: 1240,
			SizeBytes: 650_000_000, SourceAE: "MR_3T", LastReceived: testNow.Add(-3 * time.Hour)},
		{StudyInstanceUID: "1.2.3.3", PatientName: "Dupont^Jérôme", PatientID: "FR-777", StudyDate: "20221111",
			Modalities: "CR", Description: "Thorax", SeriesCount: 1, InstanceCount: 2,
			SizeBytes: 12_000_000, SourceAE: "PACS", LastReceived: testNow.Add(-50 * time.Hour)},
	}
	w, _ := newTestWindow(t, e)
	w.apply(ev(scp.AssociationAccepted, 1, "PACS", "INBOX", -50*time.Second))
	rel := ev(scp.AssociationReleased, 1, "PACS", "INBOX", -40*time.Second)
	rel.Instances, rel.Bytes = 2, 12_000_000
	w.apply(rel)
	rj := ev(scp.AssociationRejected, 2, "UNKNOWN_AE", "INBOX", -30*time.Second)
	rj.Association.StartedAt = testNow.Add(-30 * time.Second)
	rj.Reason = `calling AE title "UNKNOWN_AE" is not allowed`
	w.apply(rj)
	acc := ev(scp.AssociationAccepted, 3, "CT_SCANNER", "INBOX", -10*time.Second)
	acc.Association.StartedAt = testNow.Add(-10 * time.Second)
	w.apply(acc)
	for i := range 3 {
		s := ev(scp.InstanceStored, 3, "CT_SCANNER", "INBOX", time.Duration(i-3)*time.Second)
		s.Association.StartedAt = acc.Association.StartedAt
		s.Bytes = 524_288
		s.Study = &app.StudyRef{StudyInstanceUID: "1.2.3.1", SeriesInstanceUID: "1.2.3.1.1", PatientName: "Yamada^Tarou",
			PatientID: "H31EXAMPLE", StudyDescription: "CT HEAD", Modality: "CT", SizeBytes: 524_800}
		w.apply(s)
	}
	f := ev(scp.InstanceFailed, 3, "CT_SCANNER", "INBOX", -500*time.Millisecond)
	f.Association.StartedAt = acc.Association.StartedAt
	f.Status, f.Reason = 0xA700, "could not write the file"
	w.apply(f)
	return w, e
}

func TestMainWindowGolden(t *testing.T) {
	w, _ := scriptedWindow(t)
	test.AssertRendersToMarkup(t, "mainwindow_associations.xml", w.win.Canvas())
	w.tabs.SelectIndex(1)
	test.AssertRendersToMarkup(t, "mainwindow_activity.xml", w.win.Canvas())

	if got := w.studies.cellText(0, 0); got != "3 · 1.0/s" {
		t.Errorf("progress of the receiving study = %q", got)
	}
	if got := w.stats.label.Text; got != "0 active associations · 1,234 instances today · 250.0 GB free" {
		t.Errorf("stats = %q", got)
	}
}

func TestEmptyWindowGolden(t *testing.T) {
	w, _ := newTestWindow(t, newFakeEngine())
	test.AssertRendersToMarkup(t, "mainwindow_empty.xml", w.win.Canvas())
}

// findButton returns the button with the text among the overlay's objects.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	for _, c := range test.LaidOutObjects(o) {
		if b, ok := c.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func TestCloseAsksWhileAssociationsRun(t *testing.T) {
	e := newFakeEngine()
	w, _ := newTestWindow(t, e)
	e.catalogStub.active = 2
	w.requestClose()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation while 2 associations run")
	}
	keep := findButton(top, "Keep running")
	if keep == nil || findButton(top, "Close") == nil {
		t.Fatalf("confirmation buttons missing:\n%s", test.RenderObjectToMarkup(top))
	}
	test.Tap(keep)
	select {
	case <-w.stop:
		t.Fatal("window closed although the user kept it")
	default:
	}
	w.requestClose()
	test.Tap(findButton(w.win.Canvas().Overlays().Top(), "Close"))
	select {
	case <-w.stop:
	default:
		t.Fatal("window not closed after confirming")
	}
}

func TestCloseWithoutAssociationsDoesNotAsk(t *testing.T) {
	w, _ := newTestWindow(t, newFakeEngine())
	w.requestClose()
	select {
	case <-w.stop:
	default:
		t.Fatal("window not closed")
	}
}

func TestPagingAndShortcutsTargets(t *testing.T) {
	e := newFakeEngine()
	for i := range 250 {
		e.studies = append(e.studies, index.Study{StudyInstanceUID: "1.2." + string(rune('a'+i%26)), PatientID: "P" + string(rune('a'+i%26))})
	}
	w, _ := newTestWindow(t, e)
	if w.studies.pageLbl.Text != "1–100 of 250" || !w.studies.prev.Disabled() || w.studies.next.Disabled() {
		t.Fatalf("first page: %q prev %v next %v", w.studies.pageLbl.Text, w.studies.prev.Disabled(), w.studies.next.Disabled())
	}
	test.Tap(w.studies.next)
	test.Tap(w.studies.next)
	if w.studies.pageLbl.Text != "201–250 of 250" || !w.studies.next.Disabled() || len(w.studies.rows) != 50 {
		t.Errorf("last page: %q, %d rows", w.studies.pageLbl.Text, len(w.studies.rows))
	}
	// Ctrl+F focuses the search box; Ctrl+L toggles the listener.
	sh, ok := w.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })
	if !ok {
		t.Fatal("the test canvas handles no shortcuts")
	}
	ctrl := func(k fyne.KeyName) fyne.Shortcut {
		return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
	}
	sh.TypedShortcut(ctrl(fyne.KeyF))
	if w.win.Canvas().Focused() != w.studies.search {
		t.Errorf("Ctrl+F focused %v", w.win.Canvas().Focused())
	}
}
