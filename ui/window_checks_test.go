package ui

// Requirements of the window not covered elsewhere: the tray menu, the
// switchable notification, settings that restart the listener and persist
// for `serve`, paging over 20,000 studies, and the spacing of live redraws.

import (
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store/index"
)

// trayApp is the test app with a system tray (the test driver has none).
type trayApp struct {
	fyne.App
	menu *fyne.Menu
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { a.menu = m }
func (a *trayApp) SetSystemTrayIcon(fyne.Resource)   {}
func (a *trayApp) SetSystemTrayWindow(w fyne.Window) {}

func menuItem(m *fyne.Menu, label string) *fyne.MenuItem {
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestTrayMenuSwitchedOnInSettings(t *testing.T) {
	e := newFakeEngine()
	a := &trayApp{App: test.NewTempApp(t)}
	w := newMainWindow(a, e, testOptions(nil))
	t.Cleanup(func() {
		if !isClosed(w.stop) {
			w.win.Close()
		}
	})
	if a.menu != nil || w.trayActive() {
		t.Fatal("a tray menu although the settings do not ask for one")
	}

	cfg := e.Config()
	cfg.KeepRunningInTray = true
	if err := w.saveSettings(cfg); err != nil {
		t.Fatal(err)
	}
	if a.menu == nil {
		t.Fatal("no tray menu after switching the option on")
	}
	for _, label := range []string{"Show DICOM Inbox", "Start / stop listening", "Quit"} {
		if menuItem(a.menu, label) == nil {
			t.Errorf("tray menu lacks %q", label)
		}
	}

	// Closing the window keeps the app receiving.
	w.requestClose()
	if isClosed(w.stop) || w.win.Canvas().Overlays().Top() != nil {
		t.Fatal("closing the window with the tray option closed it or asked")
	}
	menuItem(a.menu, "Show DICOM Inbox").Action()

	// Quit from the tray asks while associations run, then quits.
	e.catalogStub.mu.Lock()
	e.catalogStub.active = 1
	e.catalogStub.mu.Unlock()
	menuItem(a.menu, "Quit").Action()
	top := w.win.Canvas().Overlays().Top()
	if top == nil || findButton(top, "Close") == nil {
		t.Fatal("quitting from the tray while an association runs did not ask")
	}
	test.Tap(findButton(top, "Close"))
	if !isClosed(w.stop) {
		t.Error("the window did not close after confirming Quit")
	}
}

func TestTrayOptionWithoutTrayClosesNormally(t *testing.T) {
	e := newFakeEngine()
	e.catalogStub.cfg.KeepRunningInTray = true // the test driver has no tray
	w, _ := newTestWindow(t, e)
	w.requestClose()
	if !isClosed(w.stop) {
		t.Error("without a system tray the window only hid: nothing could show it again")
	}
}

// completedEvent is the engine's StudyCompleted event for a study.
func completedEvent(uid string, at time.Time) app.Event {
	p := app.StudyProgress{StudyInstanceUID: uid, PatientName: "Yamada^Tarou", PatientID: "H31EXAMPLE",
		Description: "CT HEAD", CallingAE: "CT_SCANNER", State: app.StudyStateComplete, Instances: 3,
		FirstReceived: at.Add(-time.Minute), LastReceived: at, CompletedAt: at}
	return app.Event{Event: scp.Event{Kind: app.StudyCompleted, Time: at}, Completed: &p}
}

func TestStudyCompleteNotificationSwitch(t *testing.T) {
	e := newFakeEngine()
	e.catalogStub.cfg.NotifyStudyComplete = false
	w, _ := newTestWindow(t, e)
	test.AssertNotificationSent(t, nil, func() { w.apply(completedEvent("1.2.3.1", testNow)) })
	if got := w.activity.entries; len(got) == 0 || !strings.HasPrefix(got[0].Text, "Study complete: Yamada^Tarou") {
		t.Fatalf("the study did not complete in the window: %+v", got)
	}

	cfg := e.Config()
	cfg.NotifyStudyComplete = true
	if err := w.saveSettings(cfg); err != nil {
		t.Fatal(err)
	}
	test.AssertNotificationSent(t, fyne.NewNotification("Study received", "Yamada, Tarou — CT HEAD: 3 instances from CT_SCANNER"),
		func() { w.apply(completedEvent("1.2.3.2", testNow.Add(time.Second))) })
}

// TestSettingsSaveRestartsListenerAndPersists: the settings dialog over a
// real engine: a new port and AE title restart the listener there (DCMTK's
// echoscu proves it), and the file holds what `serve --config` reads.
func TestSettingsSaveRestartsListenerAndPersists(t *testing.T) {
	r := newRealWindow(t)
	r.opts.files.Config = filepath.Join(t.TempDir(), "dicominbox", "config.json")
	oldPort := r.start(t)
	newPort := apptest.FreePort(t)

	d := newSettingsDialog(r.win, r.engine.Config(), r.saveSettings, nil)
	saved := make(chan struct{}, 1)
	d.onSaveDone = func() { saved <- struct{}{} }
	d.dlg.Show()
	typeReplacing(d.aet.entry, "NEWAE")
	typeReplacing(d.port.entry, fmt.Sprint(newPort))
	typeReplacing(d.history.entry, "2h")
	test.Tap(d.saveBtn)
	wait(t, saved, "save")
	if d.status.Visible() {
		t.Fatalf("save failed: %s", d.status.Text)
	}

	if a := r.engine.Addr(); a == nil || a.(*net.TCPAddr).Port != newPort {
		t.Fatalf("listening on %v, want port %d", a, newPort)
	}
	if want := fmt.Sprintf("Listening as NEWAE on port %d", newPort); r.status.Text != want {
		t.Errorf("status = %q, want %q", r.status.Text, want)
	}
	if out, err := run(t, "echoscu", "-aec", "NEWAE", "-aet", "ECHOSCU", "127.0.0.1", fmt.Sprint(newPort)); err != nil {
		t.Errorf("echoscu to the new port and AE title: %v\n%s", err, out)
	}
	if _, err := run(t, "echoscu", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", oldPort); err == nil {
		t.Error("the old port still answers")
	}

	onDisk, err := app.LoadConfig(r.opts.files.Config) // what `serve --config` reads
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk, r.engine.Config()) {
		t.Errorf("saved file\n %+v\nengine\n %+v", onDisk, r.engine.Config())
	}
	if onDisk.AETitle != "NEWAE" || onDisk.Port != newPort || time.Duration(onDisk.AssociationHistory) != 2*time.Hour {
		t.Errorf("saved file lacks the changes: %+v", onDisk)
	}
}

// TestSettingsSaveAppliesWithoutRestart: a new AE title alone is applied
// to the running listener, which keeps its socket (the very net.Addr of its
// net.Listener; a restart would listen anew) and answers as NEWAE at once.
func TestSettingsSaveAppliesWithoutRestart(t *testing.T) {
	r := newRealWindow(t)
	r.applyConfig(t, func(c *app.Config) { c.Port = apptest.FreePort(t) }) // the dialog refuses port 0
	port := r.start(t)
	before := r.engine.Addr()

	d := newSettingsDialog(r.win, r.engine.Config(), r.saveSettings, nil)
	saved := make(chan struct{}, 1)
	d.onSaveDone = func() { saved <- struct{}{} }
	d.dlg.Show()
	typeReplacing(d.aet.entry, "NEWAE")
	test.Tap(d.saveBtn)
	wait(t, saved, "save")
	if d.status.Visible() {
		t.Fatalf("save failed: %s", d.status.Text)
	}

	if a := r.engine.Addr(); a != before {
		t.Fatalf("listening on %v (%p), want the same listener address %v (%p): no restart", a, a, before, before)
	}
	if want := "Listening as NEWAE on port " + port; r.status.Text != want {
		t.Errorf("status = %q, want %q", r.status.Text, want)
	}
	if out, err := run(t, "echoscu", "-aec", "NEWAE", "-aet", "ECHOSCU", "127.0.0.1", port); err != nil {
		t.Errorf("echoscu to the new AE title: %v\n%s", err, out)
	}
	if _, err := run(t, "echoscu", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", port); err == nil {
		t.Error("the old AE title still answers")
	}
}

// TestStudyListPagesThrough20000Studies: only one page is queried and held,
// the pager reaches the last page, and a search narrows 20,000 to one.
func TestStudyListPagesThrough20000Studies(t *testing.T) {
	e := newFakeEngine()
	for i := range 20_000 {
		e.studies = append(e.studies, index.Study{StudyInstanceUID: fmt.Sprintf("1.2.%d", i),
			PatientID: fmt.Sprintf("P%05d", i), PatientName: fmt.Sprintf("Doe^Patient%05d", i), InstanceCount: 100})
	}
	w, _ := newTestWindow(t, e)
	v := w.studies
	if rows, _ := v.size(); rows != studyPageSize || v.pageLbl.Text != "1–100 of 20,000" {
		t.Fatalf("first page: %d rows, %q", rows, v.pageLbl.Text)
	}
	before := e.queries
	test.Tap(v.next)
	test.Tap(v.next)
	if v.pageLbl.Text != "201–300 of 20,000" || v.rows[0].PatientID != "P00200" || e.queries-before != 2 {
		t.Errorf("third page: %q, first row %s, %d queries for 2 page turns", v.pageLbl.Text, v.rows[0].PatientID, e.queries-before)
	}
	v.query.Offset = 19_800 // as if turned 196 more times
	test.Tap(v.next)
	if v.pageLbl.Text != "19,901–20,000 of 20,000" || !v.next.Disabled() || v.prev.Disabled() || v.rows[99].PatientID != "P19999" {
		t.Errorf("last page: %q, next disabled %v", v.pageLbl.Text, v.next.Disabled())
	}
	if rows, _ := v.size(); rows != studyPageSize || e.queries-before != 3 {
		t.Errorf("last page: %d rows held, %d queries for 3 page turns", rows, e.queries-before)
	}
	test.Type(v.search, "P12345")
	if v.total != 1 || len(v.rows) != 1 || v.rows[0].StudyInstanceUID != "1.2.12345" || v.query.Offset != 0 {
		t.Errorf("search: %d of %d, offset %d", len(v.rows), v.total, v.query.Offset)
	}
}

// BenchmarkStudyPageTurn: the window's own cost of showing another page of
// 100 studies (the query is the in-memory stub; the SQL is measured by
// store/index BenchmarkStudiesPage).
func BenchmarkStudyPageTurn(b *testing.B) {
	e := newFakeEngine()
	for i := range 20_000 {
		e.studies = append(e.studies, index.Study{StudyInstanceUID: fmt.Sprintf("1.2.%d", i),
			PatientID: fmt.Sprintf("P%05d", i), PatientName: fmt.Sprintf("Doe^Patient%05d", i), InstanceCount: 100})
	}
	test.NewTempApp(b)
	w := newMainWindow(fyne.CurrentApp(), e, testOptions(nil))
	defer w.win.Close()
	v := w.studies
	for b.Loop() {
		if v.next.Disabled() {
			v.query.Offset = 0
		}
		test.Tap(v.next)
	}
}

// clock is a settable clock for the window.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestLiveRedrawsSpaced: with live redraws spaced (as in production), moving
// numbers are drawn at most once per slot — all views and the page
// queried meanwhile together — while a new association, a rejection or a
// study completion shows at the next refresh; timers bring the page up to
// date when no refresh comes.
func TestLiveRedrawsSpaced(t *testing.T) {
	e := newFakeEngine()
	e.studies = []index.Study{{StudyInstanceUID: "1.2.3.1", PatientID: "H31EXAMPLE", InstanceCount: 1}}
	c := &clock{t: testNow}
	var later []func()
	opts := testOptions(nil)
	const slot = 250 * time.Millisecond // the times below are chosen for it
	opts.now, opts.live = c.now, slot
	opts.after = func(_ time.Duration, f func()) { later = append(later, f) }
	w := newMainWindow(test.NewTempApp(t), e, opts)
	t.Cleanup(w.win.Close)
	runLater := func() { // the timers that are due by now
		fs := later
		later = nil
		for _, f := range fs {
			f()
		}
	}
	setInstances := func(n int) {
		e.mu.Lock()
		e.studies[0].InstanceCount = n
		e.mu.Unlock()
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	stored := func(at time.Duration) {
		c.t = testNow.Add(at)
		s := ev(scp.InstanceStored, 1, "CT_SCANNER", "INBOX", at)
		s.Bytes = 1000
		s.Study = &app.StudyRef{StudyInstanceUID: "1.2.3.1", SeriesInstanceUID: "1.2.3.1.1", PatientID: "H31EXAMPLE", SizeBytes: 1000}
		w.apply(s)
	}
	page := func() string { return w.studies.cellText(0, 7) }

	c.t = testNow // a slot boundary
	w.apply(ev(scp.AssociationAccepted, 1, "CT_SCANNER", "INBOX", 0))
	if len(w.assocs.rows) != 1 {
		t.Fatalf("a new association is not shown at once: %d rows", len(w.assocs.rows))
	}
	stored(ms(260)) // the next slot, and a new study: drawn
	if got := w.studies.cellText(0, 0); !strings.HasPrefix(got, "1 · ") || w.assocs.rowText(0)[4] != "1" {
		t.Fatalf("first instance: progress %q, association %q", got, w.assocs.rowText(0))
	}
	queries := e.queries
	for i := 2; i <= 5; i++ {
		stored(ms(260 + 10*i)) // the same slot: numbers wait
	}
	if got := w.assocs.rowText(0)[4]; got != "1" {
		t.Errorf("association instances redrawn within %v: %q", slot, got)
	}
	if got := w.studies.cellText(0, 0); !strings.HasPrefix(got, "1 · ") {
		t.Errorf("progress redrawn within %v: %q", slot, got)
	}
	if e.queries != queries {
		t.Errorf("%d page queries within one slot, want none", e.queries-queries)
	}
	// A rejection is news: shown at once, with the numbers of the moment.
	rj := ev(scp.AssociationRejected, 2, "UNKNOWN", "INBOX", ms(330))
	rj.Association.StartedAt, rj.Reason = rj.Time, "calling AE title not allowed"
	c.t = rj.Time
	w.apply(rj)
	if len(w.assocs.rows) != 2 || w.assocs.rowText(0)[3] != "rejected: calling AE title not allowed" || w.assocs.rowText(1)[4] != "5" {
		t.Fatalf("after a rejection: %q / %q", w.assocs.rowText(0), w.assocs.rowText(1))
	}
	// The next slot: the trailing query runs; its page waits for the redraw
	// of the next refresh, which shows it with the other numbers.
	c.t = testNow.Add(ms(500))
	setInstances(5)
	runLater()
	if e.queries != queries+1 || page() != "0 / 1" {
		t.Errorf("trailing query: %d queries, page shows %q before the redraw", e.queries-queries, page())
	}
	stored(ms(510))
	if got := w.studies.cellText(0, 0); !strings.HasPrefix(got, "6 · ") || w.assocs.rowText(1)[4] != "6" || page() != "0 / 5" {
		t.Errorf("redraw in the next slot: progress %q, association %q, page %q", got, w.assocs.rowText(1), page())
	}
	// More instances in the same slot wait; no refresh comes any more: the
	// timers query the page and redraw it with every other number.
	stored(ms(515))
	if got := w.assocs.rowText(1)[4]; got != "6" {
		t.Errorf("association instances redrawn within the slot: %q", got)
	}
	c.t = testNow.Add(ms(750))
	setInstances(7)
	for range 3 {
		runLater()
	}
	if got := w.studies.cellText(0, 0); !strings.HasPrefix(got, "7 · ") || w.assocs.rowText(1)[4] != "7" || page() != "0 / 7" {
		t.Errorf("after the timers: progress %q, association %q, page %q", got, w.assocs.rowText(1), page())
	}
	// The engine's completion is shown at once, within the slot.
	c.t = testNow.Add(ms(760))
	w.apply(completedEvent("1.2.3.1", c.t))
	if got := w.studies.cellText(0, 0); got != "complete" {
		t.Errorf("progress after the completion: %q", got)
	}
}

func TestThrottleSlots(t *testing.T) {
	th := throttle{every: 250 * time.Millisecond}
	base := time.Unix(1000, 0) // a slot boundary
	for _, c := range []struct {
		at   time.Duration
		due  bool
		wait time.Duration
	}{
		{0, true, 250 * time.Millisecond},
		{100 * time.Millisecond, false, 150 * time.Millisecond},
		{249 * time.Millisecond, false, time.Millisecond},
		{250 * time.Millisecond, true, 250 * time.Millisecond},
		{900 * time.Millisecond, true, 100 * time.Millisecond},
	} {
		if got := th.due(base.Add(c.at)); got != c.due {
			t.Errorf("due at %v = %v, want %v", c.at, got, c.due)
		}
		if got := th.wait(base.Add(c.at)); got != c.wait {
			t.Errorf("wait at %v = %v, want %v", c.at, got, c.wait)
		}
	}
	var off throttle
	if first, again := off.due(base), off.due(base); !first || !again || off.wait(base) != 0 {
		t.Error("a zero throttle held a redraw back")
	}
}

// TestAssociationHistoryFollowsSettings: finished associations stay listed
// for the configured history, and a saved change applies at once.
func TestAssociationHistoryFollowsSettings(t *testing.T) {
	w, e := scriptedWindow(t) // released 40 s ago, rejected 30 s ago, one running
	if n := len(w.assocs.rows); n != 3 {
		t.Fatalf("%d association rows, want 3", n)
	}
	cfg := e.Config()
	cfg.AssociationHistory = app.Duration(35 * time.Second)
	if err := w.saveSettings(cfg); err != nil {
		t.Fatal(err)
	}
	w.tick(testNow)
	var calling []string
	for i := range w.assocs.rows {
		calling = append(calling, w.assocs.rowText(i)[0])
	}
	if strings.Join(calling, ",") != "CT_SCANNER,UNKNOWN_AE" {
		t.Errorf("rows with a 35 s history: %v, want the running one and the rejection of 30 s ago", calling)
	}
}

// TestKeyboardShortcuts: Ctrl+L starts and stops the listener, Ctrl+R and
// F5 query the study list again.
func TestKeyboardShortcuts(t *testing.T) {
	e := newFakeEngine()
	w, done := newTestWindow(t, e)
	sh := w.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })
	ctrl := func(k fyne.KeyName) fyne.Shortcut {
		return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
	}
	sh.TypedShortcut(ctrl(fyne.KeyL))
	wait(t, done, "start")
	if starts, _ := e.counts(); starts != 1 || !e.Running() {
		t.Fatalf("Ctrl+L: %d starts, running %v", starts, e.Running())
	}
	sh.TypedShortcut(ctrl(fyne.KeyL))
	wait(t, done, "stop")
	if _, stops := e.counts(); stops != 1 || e.Running() {
		t.Fatalf("Ctrl+L again: %d stops, running %v", stops, e.Running())
	}
	before := e.queries
	sh.TypedShortcut(ctrl(fyne.KeyR))
	w.win.Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF5})
	if n := e.queries - before; n != 2 {
		t.Errorf("Ctrl+R and F5 queried the study list %d times, want 2", n)
	}
}
