package ui

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

const listening = "Listening as INBOX on port 11112"

// fakeEngine is a scripted Engine. Start and Stop run on the window's
// background goroutine, so all state sits behind a mutex.
type fakeEngine struct {
	*catalogStub // everything but Start/Stop/Running/Status
	mu           sync.Mutex
	running      bool
	status       string
	startErr     error         // returned by Start
	gate         chan struct{} // if non-nil, Start blocks until it is closed
	started      chan struct{} // if non-nil, receives once Start has been entered
	starts       int
	stops        int
	deadline     bool // the last Stop context had a deadline
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{status: "Stopped", catalogStub: newCatalogStub()}
}

func (f *fakeEngine) Start() error {
	f.mu.Lock()
	f.starts++
	gate, started := f.gate, f.started
	f.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		<-gate
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		f.status = "Not listening: " + f.startErr.Error()
		return f.startErr
	}
	f.running, f.status = true, listening
	return nil
}

func (f *fakeEngine) Stop(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, f.deadline = ctx.Deadline()
	f.stops++
	f.running, f.status = false, "Stopped"
	return nil
}

func (f *fakeEngine) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}

func (f *fakeEngine) Status() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeEngine) counts() (starts, stops int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts, f.stops
}

// newTestWindow builds the window on the test app without status polling.
// The returned channel receives once per applied Start/Stop result; receiving
// from it orders the test's widget reads after the background goroutine's writes.
func newTestWindow(t *testing.T, e Engine) (*mainWindow, <-chan struct{}) {
	t.Helper()
	a := test.NewTempApp(t)
	done := make(chan struct{}, 1)
	w := newMainWindow(a, e, testOptions(func() { done <- struct{}{} }))
	t.Cleanup(func() {
		select {
		case <-w.stop: // the test closed it (the test driver panics on a second Close)
		default:
			w.win.Close()
		}
	})
	return w, done
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func checkToggle(t *testing.T, w *mainWindow, text string, enabled bool) {
	t.Helper()
	if w.toggle.Text != text {
		t.Errorf("toggle text = %q, want %q", w.toggle.Text, text)
	}
	if w.toggle.Disabled() == enabled {
		t.Errorf("toggle disabled = %v, want %v", w.toggle.Disabled(), !enabled)
	}
}

// A settings file that exists but cannot be read is reported in the
// activity log (the engine runs with the defaults meanwhile); a missing one
// is not (the defaults are what a first start uses).
func TestUnreadableSettingsAreReported(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"ae_title": "READING1", "port": `), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		warn bool
	}{{broken, true}, {filepath.Join(dir, "missing.json"), false}} {
		_, loadErr := app.LoadConfig(c.path) // as main.go does before it builds the window
		opts := testOptions(nil)
		opts.files.Config, opts.files.ConfigErr = c.path, loadErr
		w := newMainWindow(test.NewTempApp(t), newFakeEngine(), opts)
		var warnings []string
		for _, e := range w.mon.Log.Entries(slog.LevelWarn) {
			warnings = append(warnings, e.Text)
		}
		w.win.Close()
		got := len(warnings) == 1 && strings.HasPrefix(warnings[0], "Settings not read, the defaults are in use") &&
			strings.Contains(warnings[0], c.path)
		if got != c.warn || (!c.warn && len(warnings) > 0) {
			t.Errorf("%s: warnings %q, want a warning: %v", c.path, warnings, c.warn)
		}
	}
}

// The activity tab says where the whole log is and shows its folder; a log
// file that could not be opened is the activity log's first warning, and
// then no log path is shown.
func TestActivityTabNamesTheLogFile(t *testing.T) {
	opts := testOptions(nil)
	var opened []string
	opts.openFolder = func(dir string) error { opened = append(opened, dir); return nil }
	opts.files.Log = filepath.Join("/home/rad/.local/state/dicominbox", "dicominbox.log")
	w := newMainWindow(test.NewTempApp(t), newFakeEngine(), opts)
	defer w.win.Close()
	bar := w.activity.content.(*fyne.Container).Objects[2].(*fyne.Container) // the Border's bottom
	if label := bar.Objects[0].(*widget.Label); label.Text != "Whole log: "+opts.files.Log {
		t.Errorf("log line %q", label.Text)
	}
	test.Tap(w.activity.logFolder)
	if len(opened) != 1 || opened[0] != "/home/rad/.local/state/dicominbox" {
		t.Errorf("opened %q, want the log file's folder", opened)
	}

	opts = testOptions(nil)
	opts.files.LogErr = errors.New("mkdir /home/rad/.local/state: permission denied")
	w = newMainWindow(test.NewTempApp(t), newFakeEngine(), opts)
	defer w.win.Close()
	warnings := w.mon.Log.Entries(slog.LevelWarn)
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0].Text, "No log file, this list is the only record of this session: mkdir") {
		t.Errorf("warnings %+v, want the log file's failure", warnings)
	}
	if w.activity.logFolder != nil {
		t.Error("a log folder button without a log file")
	}
}

func TestWindowSetup(t *testing.T) {
	w, _ := newTestWindow(t, newFakeEngine())

	if got := w.win.Title(); got != "DICOM Inbox" {
		t.Errorf("title = %q", got)
	}
	if got := w.win.Canvas().Size(); got.Width < 1280 || got.Height < 800 {
		t.Errorf("canvas size = %v, want at least 1280x800", got)
	}
	checkToggle(t, w, "Start", true)
	if w.status.Text != "Stopped" {
		t.Errorf("status = %q, want Stopped", w.status.Text)
	}
	if !strings.Contains(test.RenderObjectToMarkup(w.win.Content()), "Studies will appear here") {
		t.Error("empty study list text missing")
	}
}

func TestToggleStartsAndStops(t *testing.T) {
	e := newFakeEngine()
	w, done := newTestWindow(t, e)

	test.Tap(w.toggle)
	wait(t, done, "start")
	if starts, _ := e.counts(); starts != 1 {
		t.Fatalf("Start called %d times, want 1", starts)
	}
	if w.status.Text != listening {
		t.Errorf("status = %q, want %q", w.status.Text, listening)
	}
	if w.status.Importance == widget.DangerImportance {
		t.Error("status styled as an error after a successful start")
	}
	checkToggle(t, w, "Stop", true)

	test.Tap(w.toggle)
	wait(t, done, "stop")
	if _, stops := e.counts(); stops != 1 {
		t.Fatalf("Stop called %d times, want 1", stops)
	}
	e.mu.Lock()
	deadline := e.deadline
	e.mu.Unlock()
	if !deadline {
		t.Error("Stop context has no deadline")
	}
	if w.status.Text != "Stopped" {
		t.Errorf("status = %q, want Stopped", w.status.Text)
	}
	checkToggle(t, w, "Start", true)
}

func TestFailingStartShowsError(t *testing.T) {
	e := newFakeEngine()
	e.startErr = errors.New("listen tcp :11112: bind: address already in use")
	w, done := newTestWindow(t, e)

	test.Tap(w.toggle)
	wait(t, done, "start")
	if !strings.Contains(w.status.Text, e.startErr.Error()) {
		t.Errorf("status = %q, want it to contain %q", w.status.Text, e.startErr)
	}
	if w.status.Importance != widget.DangerImportance {
		t.Errorf("status importance = %v, want danger", w.status.Importance)
	}
	checkToggle(t, w, "Start", true)

	// A later successful start clears the error styling.
	e.mu.Lock()
	e.startErr = nil
	e.mu.Unlock()
	test.Tap(w.toggle)
	wait(t, done, "second start")
	if w.status.Text != listening || w.status.Importance == widget.DangerImportance {
		t.Errorf("status = %q (importance %v) after successful retry", w.status.Text, w.status.Importance)
	}
}

// An engine whose Status does not mention the start error must not hide it.
type quietEngine struct{ *fakeEngine }

func (q quietEngine) Status() string { return "Stopped" }

func TestStartErrorShownWhenStatusOmitsIt(t *testing.T) {
	e := newFakeEngine()
	e.startErr = errors.New("port 104 needs privileges")
	w, done := newTestWindow(t, quietEngine{e})

	test.Tap(w.toggle)
	wait(t, done, "start")
	if want := "Stopped: port 104 needs privileges"; w.status.Text != want {
		t.Errorf("status = %q, want %q", w.status.Text, want)
	}
}

func TestStartRunsOffUIGoroutine(t *testing.T) {
	e := newFakeEngine()
	e.gate = make(chan struct{})
	e.started = make(chan struct{}, 1)
	w, done := newTestWindow(t, e)

	test.Tap(w.toggle) // returns although Start is blocked: it runs elsewhere
	wait(t, e.started, "Start to be called")
	checkToggle(t, w, "Starting…", false)

	test.Tap(w.toggle) // ignored while the start is in flight
	if starts, _ := e.counts(); starts != 1 {
		t.Errorf("Start called %d times while busy, want 1", starts)
	}

	close(e.gate)
	wait(t, done, "start")
	checkToggle(t, w, "Stop", true)
	if w.status.Text != listening {
		t.Errorf("status = %q, want %q", w.status.Text, listening)
	}
}

func TestRefreshFollowsEngine(t *testing.T) {
	e := newFakeEngine()
	w, _ := newTestWindow(t, e)

	// The engine changes state on its own (e.g. restarted after a settings change).
	e.mu.Lock()
	e.running, e.status = true, listening
	e.mu.Unlock()
	w.refresh() // what the status poll does through fyne.Do
	checkToggle(t, w, "Stop", true)
	if w.status.Text != listening {
		t.Errorf("status = %q, want %q", w.status.Text, listening)
	}
}

func TestStaleErrorClearsWhenEngineRecovers(t *testing.T) {
	e := newFakeEngine()
	e.startErr = errors.New("address already in use")
	w, done := newTestWindow(t, quietEngine{e})
	test.Tap(w.toggle)
	wait(t, done, "start")
	if w.status.Importance != widget.DangerImportance {
		t.Fatalf("status importance = %v, want danger", w.status.Importance)
	}

	// The app restarts the engine on its own, successfully.
	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	w.refresh()
	if w.status.Text != "Stopped" || w.status.Importance == widget.DangerImportance {
		t.Errorf("status = %q (importance %v), want the stale error gone", w.status.Text, w.status.Importance)
	}
	checkToggle(t, w, "Stop", true)
}

func TestNewMainWindow(t *testing.T) {
	e := newFakeEngine()
	opts := productionOptions(Files{Config: "/x/config.json"})
	if opts.poll != statusPoll || !opts.pump || !opts.async || opts.debounce != searchDebounce || opts.files.Config != "/x/config.json" {
		t.Errorf("production options: %+v", opts)
	}
	// As NewMainWindow builds it, but with the queries inline: a query
	// goroutine's fyne.Do runs inline in the test driver and would race
	// with this goroutine.
	opts.async = false
	mw := newMainWindow(test.NewTempApp(t), e, opts)
	w := mw.win
	if w.Title() != "DICOM Inbox" {
		t.Errorf("title = %q", w.Title())
	}
	w.Close() // stops the status poll and the event pump
	select {
	case <-mw.stop:
	default:
		t.Error("closing the window did not stop the poll and the pump")
	}
	if starts, stops := e.counts(); starts != 0 || stops != 0 {
		t.Errorf("building the window called Start %d / Stop %d times", starts, stops)
	}
}

func TestPollStatusReturnsWhenDone(t *testing.T) {
	w, _ := newTestWindow(t, newFakeEngine())
	done := make(chan struct{})
	close(done)
	exited := make(chan struct{})
	go func() { w.pollStatus(time.Hour, done); close(exited) }()
	wait(t, exited, "pollStatus to return")
}
