package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store/index"
)

// openDetail shows the study detail over a 1280×800 window and starts its
// queries; the channel receives the name of every applied result.
func openDetail(t *testing.T, src studyCatalog, st index.Study, onDeleted func(), open func(string) error) (*studyDetail, *uiRunner) {
	t.Helper()
	d := newStudyDetail(dialogParent(t), src, st, onDeleted, open)
	ui := newUIRunner()
	d.do, d.onApplied = ui.do, ui.applied
	d.dlg.Show()
	d.load()
	return d, ui
}

// findStudy returns the study with uid from the engine's study list.
func findStudy(t *testing.T, e interface {
	Studies(context.Context, index.StudyQuery) ([]index.Study, int, error)
}, uid string) (index.Study, int) {
	t.Helper()
	rows, total, err := e.Studies(context.Background(), index.StudyQuery{Limit: 100})
	if err != nil {
		t.Fatalf("studies: %v", err)
	}
	for _, r := range rows {
		if r.StudyInstanceUID == uid {
			return r, total
		}
	}
	t.Fatalf("study %s not in the study list (%d studies)", uid, total)
	return index.Study{}, 0
}

// TestStudyDetailRealEngine sends corpus files with storescu to a real
// engine, opens the detail of one study, checks its series and instances,
// copies and opens its folder, then deletes it through the confirmation:
// its files and index rows are gone, the other study stays.
func TestStudyDetailRealEngine(t *testing.T) {
	cfg := dtTestConfig(t)
	e, port := dtStartEngine(t, cfg)
	// 03 and 32: patient 4MR1, one MR study, two instances; 33: another study.
	files := apptest.CorpusFiles(t, "03_mr_explicit_big_endian.dcm", "32_mr_odd_length_values.dcm", "33_ct_gb18030_chinese.dcm")
	mr, other := files[:2], files[2]
	if mr[0].StudyInstanceUID != mr[1].StudyInstanceUID || mr[0].StudyInstanceUID == other.StudyInstanceUID {
		t.Fatal("corpus files no longer form one two-instance study plus another")
	}
	dtStorescu(t, port, files...)
	study, total := findStudy(t, e, mr[0].StudyInstanceUID)
	if total != 2 || study.InstanceCount != 2 {
		t.Fatalf("%d studies, MR study with %d instances; want 2 and 2", total, study.InstanceCount)
	}

	var mu sync.Mutex
	var opened []string
	open := func(p string) error { mu.Lock(); opened = append(opened, p); mu.Unlock(); return nil }
	deleted := 0
	d, applied := openDetail(t, e, study, func() { deleted++ }, open)
	applied.waitFor(t, "series", "folder", "instances")

	// Series and instances as the index has them, shown in the tables.
	if len(d.series) != 1 || d.series[0].Modality != "MR" || d.series[0].InstanceCount != 2 {
		t.Fatalf("series = %+v, want one MR series of 2 instances", d.series)
	}
	if d.selected != 0 || len(d.instances) != 2 {
		t.Fatalf("selected series %d with %d instances, want 0 and 2", d.selected, len(d.instances))
	}
	markup := test.RenderObjectToMarkup(d.parent.Canvas().Overlays().Top())
	for _, f := range mr {
		if !strings.Contains(markup, f.SOPInstanceUID) {
			t.Errorf("instance %s not shown in the dialog", f.SOPInstanceUID)
		}
	}
	for _, want := range []string{"Series (1)", "Instances of series", "(2)", "4MR1", "MR"} {
		if !strings.Contains(markup, want) {
			t.Errorf("dialog does not show %q", want)
		}
	}

	// The folder: copied to the clipboard, opened, holding the two files.
	folder, err := e.StudyFolder(context.Background(), study.Key())
	if err != nil {
		t.Fatal(err)
	}
	if d.copyBtn.Disabled() || d.openBtn.Disabled() {
		t.Fatal("folder buttons disabled although the folder is known")
	}
	test.Tap(d.copyBtn)
	if got := fyne.CurrentApp().Clipboard().Content(); got != folder {
		t.Errorf("clipboard = %q, want %q", got, folder)
	}
	test.Tap(d.openBtn)
	mu.Lock()
	if len(opened) != 1 || opened[0] != folder {
		t.Errorf("opened %v, want [%s]", opened, folder)
	}
	mu.Unlock()
	for _, f := range mr {
		got := dtFilesWithUID(t, cfg.StorageDir, f.SOPInstanceUID)
		if len(got) != 1 || !strings.HasPrefix(got[0], folder+string(filepath.Separator)) {
			t.Fatalf("file of %s: %v, want one under %s", f.SOPInstanceUID, got, folder)
		}
	}

	// Delete, first cancelled, then confirmed.
	test.Tap(d.deleteBtn)
	if d.confirm == nil {
		t.Fatal("no confirmation dialog")
	}
	d.confirm.Hide() // "Cancel"
	if d.deleting || deleted != 0 {
		t.Fatal("cancelled confirmation deleted")
	}
	if _, total := findStudy(t, e, study.StudyInstanceUID); total != 2 {
		t.Fatalf("%d studies after a cancelled delete", total)
	}
	test.Tap(d.deleteBtn)
	d.confirm.Confirm()
	applied.waitFor(t, "delete")
	if deleted != 1 {
		t.Fatalf("onDeleted called %d times, want 1", deleted)
	}
	if dialogShown(d.parent) {
		t.Error("the detail is still shown after the delete")
	}

	// Gone from disk...
	for _, f := range mr {
		if got := dtFilesWithUID(t, cfg.StorageDir, f.SOPInstanceUID); len(got) != 0 {
			t.Errorf("file of deleted instance %s still there: %v", f.SOPInstanceUID, got)
		}
	}
	if _, err := os.Stat(folder); err == nil {
		if left, _ := filepath.Glob(filepath.Join(folder, "*", "*.dcm")); len(left) != 0 {
			t.Errorf("files left in the study folder: %v", left)
		}
	}
	// ...and from the index; the other study stays.
	ctx := context.Background()
	if s, err := e.Series(ctx, study.Key()); err != nil || len(s) != 0 {
		t.Errorf("series of the deleted study: %v, %v; want none", s, err)
	}
	for _, f := range mr {
		if ins, err := e.Instances(ctx, index.SeriesKey{PatientID: study.PatientID, StudyInstanceUID: study.StudyInstanceUID, SeriesInstanceUID: f.SeriesInstanceUID}); err != nil || len(ins) != 0 {
			t.Errorf("instances of the deleted series: %d, %v; want none", len(ins), err)
		}
	}
	rows, total, err := e.Studies(ctx, index.StudyQuery{})
	if err != nil || total != 1 || rows[0].StudyInstanceUID != other.StudyInstanceUID {
		t.Errorf("study list after the delete: %d studies, %v; want only %s", total, err, other.StudyInstanceUID)
	}
	if got := dtFilesWithUID(t, cfg.StorageDir, other.SOPInstanceUID); len(got) != 1 {
		t.Errorf("the other study's file: %v, want it kept", got)
	}
}

// fakeCatalog is a scripted studyCatalog with fixed data (for the golden
// markup and the error paths).
type fakeCatalog struct {
	series    []index.Series
	instances map[string][]index.Instance
	folder    string
	err       error // returned by every call when set
	deleteErr error
}

func (f *fakeCatalog) Series(context.Context, index.StudyKey) ([]index.Series, error) {
	return f.series, f.err
}
func (f *fakeCatalog) Instances(_ context.Context, key index.SeriesKey) ([]index.Instance, error) {
	return f.instances[key.SeriesInstanceUID], f.err
}
func (f *fakeCatalog) DeleteStudy(context.Context, index.StudyKey) (int, error) {
	return 0, f.deleteErr
}
func (f *fakeCatalog) StudyFolder(context.Context, index.StudyKey) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return f.folder, nil
}

func goldenStudy() (index.Study, *fakeCatalog) {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	// Latin text only: CJK glyphs would come from whatever system font the
	// machine has, and the markup records text sizes.
	st := index.Study{StudyInstanceUID: "1.2.826.0.1.3680043.8.498.1", PatientID: "SCSFREN",
		PatientName: "Buc^Jérôme", PatientBirthDate: "19600101", PatientSex: "M",
		StudyDate: "20240307", StudyTime: "101530.25", Description: "Thorax sans injection", AccessionNumber: "ACC-7781",
		Modalities: `CT\SR`, SourceAE: "CT01", SeriesCount: 2, InstanceCount: 3, SizeBytes: 1_572_864,
		FirstReceived: at, LastReceived: at}
	cat := &fakeCatalog{
		folder: "/srv/inbox/SCSFREN/1.2.826.0.1.3680043.8.498.1",
		series: []index.Series{
			{SeriesInstanceUID: "1.2.826.0.1.3680043.8.498.1.1", Modality: "CT", Description: "Thorax 1.0 mm", BodyPart: "CHEST",
				SeriesNumber: 1, InstanceCount: 2, SizeBytes: 1_048_576},
			{SeriesInstanceUID: "1.2.826.0.1.3680043.8.498.1.2", Modality: "SR", Description: "Dose report",
				SeriesNumber: 900, InstanceCount: 1, SizeBytes: 524_288},
		},
		instances: map[string][]index.Instance{
			"1.2.826.0.1.3680043.8.498.1.1": {
				{SOPInstanceUID: "1.2.826.0.1.3680043.8.498.1.1.1", StudyInstanceUID: st.StudyInstanceUID, InstanceNumber: 1, NumberOfFrames: 0, SizeBytes: 524_288, ReceivedAt: at},
				{SOPInstanceUID: "1.2.826.0.1.3680043.8.498.1.1.2", StudyInstanceUID: st.StudyInstanceUID, InstanceNumber: 2, NumberOfFrames: 0, SizeBytes: 524_288, ReceivedAt: at.Add(time.Second)},
			},
			"1.2.826.0.1.3680043.8.498.1.2": {
				{SOPInstanceUID: "1.2.826.0.1.3680043.8.498.1.2.1", StudyInstanceUID: st.StudyInstanceUID, InstanceNumber: 1, SizeBytes: 524_288, ReceivedAt: at},
			},
		},
	}
	return st, cat
}

func TestStudyDetailGolden(t *testing.T) {
	st, cat := goldenStudy()
	d := newStudyDetail(dialogParent(t), cat, st, nil, func(string) error { return nil })
	d.loc = time.UTC
	applied := newUIRunner()
	d.do, d.onApplied = applied.do, applied.applied
	d.dlg.Show()
	d.load()
	applied.waitFor(t, "series", "folder", "instances")
	test.AssertRendersToMarkup(t, "study_detail.xml", d.parent.Canvas())

	// Selecting the second series shows its instances.
	d.seriesTable.Select(widget.TableCellID{Row: 1, Col: 0})
	applied.waitFor(t, "instances")
	if len(d.instances) != 1 || d.instances[0].SOPInstanceUID != "1.2.826.0.1.3680043.8.498.1.2.1" {
		t.Errorf("instances after selecting series 900: %+v", d.instances)
	}
	if d.instTitle.Text != "Instances of series 900 (1)" {
		t.Errorf("instances title %q", d.instTitle.Text)
	}
}

func TestStudyDetailErrorsShown(t *testing.T) {
	st, cat := goldenStudy()
	cat.err = errors.New("index: database is locked")
	d, applied := openDetail(t, cat, st, nil, nil)
	applied.waitFor(t, "series", "folder")
	if !strings.Contains(d.status.Text, "database is locked") || !d.status.Visible() {
		t.Errorf("status = %q (visible %v), want the query error", d.status.Text, d.status.Visible())
	}
	if !d.copyBtn.Disabled() {
		t.Error("Copy path enabled without a folder")
	}

	st, cat = goldenStudy()
	cat.deleteErr = errors.New("remove /srv/inbox/x: permission denied")
	deleted := false
	d, applied = openDetail(t, cat, st, func() { deleted = true }, nil)
	applied.waitFor(t, "series", "folder", "instances")
	test.Tap(d.deleteBtn)
	d.confirm.Confirm()
	applied.waitFor(t, "delete")
	if deleted || !dialogShown(d.parent) {
		t.Error("a failed delete closed the dialog or reported success")
	}
	if !strings.Contains(d.status.Text, "Could not delete the study: remove /srv/inbox/x: permission denied") {
		t.Errorf("status = %q", d.status.Text)
	}
	if d.deleteBtn.Disabled() || d.closeBtn.Disabled() {
		t.Error("buttons still disabled after the failed delete")
	}
}

func TestDetailTime(t *testing.T) {
	for in, want := range map[string]string{"101530.25": "10:15:30", "1015": "10:15", "": "", "10": "10", "ab": "ab"} {
		if got := detailTime(in); got != want {
			t.Errorf("detailTime(%q) = %q, want %q", in, got, want)
		}
	}
}
