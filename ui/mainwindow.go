// Package ui holds every Fyne widget and window of DICOM Inbox.
//
// Threading: Fyne runs all callbacks on one UI goroutine, and widgets are
// changed only there. Engine calls that can block (Start, Stop, SQL queries)
// run on goroutines of their own and hand their result back with fyne.Do.
// Engine events arrive through one event pump (pump.go) that feeds the app's
// models and refreshes the window at most refreshRate times a second.
//
// This package never imports fyne.io/fyne/v2/app (only main does), so it
// builds and tests headless with fyne.io/fyne/v2/test.
package ui

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/assets"
)

const (
	windowTitle = "DICOM Inbox"
	// stopTimeout bounds how long the toggle waits for the engine to drain.
	stopTimeout = 15 * time.Second
	// statusPoll is how often the status line re-reads the engine, so that
	// it stays true even when the engine changes state on its own.
	statusPoll = time.Second
	// refreshEvery is the event pump's coalescing period (≤ 20 refreshes/s).
	refreshEvery = 50 * time.Millisecond
	// statsEvery spaces out the status line's query (instances today: an
	// SQL count over today's rows) while instances arrive; the status poll
	// brings it up to date at least every statusPoll.
	statsEvery = 900 * time.Millisecond
	// searchDebounce is how long the search waits for typing to pause.
	searchDebounce = 250 * time.Millisecond
)

// Files are the window's files and what became of them at start.
type Files struct {
	// Config is where the settings dialog saves; ConfigErr is why the
	// settings could not be read from it (app.LoadConfig), nil when they
	// could or the file does not exist yet.
	Config    string
	ConfigErr error
	// Log is the log file the program writes ("": none); LogErr is why it
	// could not be opened. The activity tab shows where it is.
	Log    string
	LogErr error
}

// NewMainWindow builds the main window over the engine: toolbar, status
// line, live associations, the study list and the activity log (whose
// first entries say when a file of files could not be used). The caller
// shows it, typically with ShowAndRun, and closes the engine afterwards.
func NewMainWindow(a fyne.App, e Engine, files Files) fyne.Window {
	return newMainWindow(a, e, productionOptions(files)).win
}

func productionOptions(files Files) options {
	return options{poll: statusPoll, pump: true, async: true, debounce: searchDebounce, files: files,
		live: liveEvery, statsEvery: statsEvery}
}

// options are the seams the tests use; NewMainWindow sets the production values.
type options struct {
	poll       time.Duration // status re-read interval; 0 disables polling
	opDone     func()        // if set, called on the UI goroutine after a Start/Stop result was applied
	pump       bool          // subscribe to the engine's events (tests call apply instead)
	async      bool          // run queries off the UI goroutine (tests run them inline)
	debounce   time.Duration // search debounce; 0 searches at every keystroke
	live       time.Duration // at most one live redraw of moving numbers per live; 0: at every refresh
	statsEvery time.Duration // at most one status-line query per statsEvery from events; 0: every time
	files      Files
	now        func() time.Time // clock; nil = time.Now
	loc        *time.Location   // time zone of the tables; nil = time.Local
	openFolder func(string) error
	portOwner  func(port int) string // who listens on a port ("" = unknown); nil = read /proc
	// after runs f on the UI goroutine once d has passed; nil = a timer and fyne.Do.
	after func(d time.Duration, f func())
}

type mainWindow struct {
	app    fyne.App
	win    fyne.Window
	engine Engine
	opts   options
	mon    *app.Monitor

	toggle                                  *widget.Button
	settingsBtn, folderBtn, echoBtn, reload *widget.Button
	status                                  *widget.Label
	stats                                   *statsLine
	assocs                                  *assocView
	studies                                 *studyView
	activity                                *activityView
	tabs                                    *container.AppTabs
	statusBar                               *fyne.Container // status text and numbers

	// Only touched on the UI goroutine.
	pending    op    // the Start or Stop in flight, if any
	lastErr    error // the error of the last Start/Stop, while it is current
	errRunning bool  // Engine.Running() when lastErr was set; a change makes lastErr stale
	closing    bool  // the window is being closed for good
	// trayInstalled: a tray menu keeps the app alive without windows.
	trayInstalled bool
	// live spaces out redraws of moving numbers (see liveEvery); frameNow is
	// the instant of the refresh being drawn (refreshLive passes it to
	// assocs.update first, then to the other views).
	live     liveGate
	frameNow time.Time
	// owner is who holds the port, looked up for the status text ownerFor
	// (the engine's "port N is already in use" line).
	owner, ownerFor string

	stop     chan struct{} // closed when the window closes: ends the pump and the poll
	stopOnce sync.Once
}

// op is a Start or Stop handed to the engine.
type op int

const (
	opNone op = iota
	opStart
	opStop
)

func newMainWindow(a fyne.App, e Engine, opts options) *mainWindow {
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.loc == nil {
		opts.loc = time.Local
	}
	if opts.openFolder == nil {
		opts.openFolder = openFolder
	}
	if opts.after == nil {
		opts.after = func(d time.Duration, f func()) { time.AfterFunc(d, func() { fyne.Do(f) }) }
	}
	if opts.portOwner == nil {
		opts.portOwner = func(port int) string { return portOwner(procRoot, port) }
	}
	w := &mainWindow{
		app:    a,
		win:    a.NewWindow(windowTitle),
		engine: e,
		opts:   opts,
		mon:    app.NewMonitor(e.Config()),
		stop:   make(chan struct{}),
		live:   liveGate{t: throttle{every: opts.live}},
	}

	w.noteUnusableFiles()
	w.status = widget.NewLabel("")
	w.status.Wrapping = fyne.TextWrapWord // errors can be long; never hide them
	w.stats = newStatsLine(w)
	w.assocs = newAssocView(w)
	w.studies = newStudyView(w)
	w.activity = newActivityView(w)

	toolbar := container.NewVBox(w.newToolbar(), widget.NewSeparator())
	w.statusBar = container.NewBorder(nil, nil, nil, w.stats.label, w.status)
	statusLine := container.NewVBox(widget.NewSeparator(), w.statusBar)
	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Associations", theme.ComputerIcon(), w.assocs.content),
		container.NewTabItemWithIcon("Activity", theme.ListIcon(), w.activity.content),
	)
	split := container.NewVSplit(w.studies.content, w.tabs)
	split.Offset = 0.62

	w.refresh() // before SetContent, so the first layout sees the real texts
	w.win.SetContent(container.NewBorder(toolbar, statusLine, nil, nil, split))
	w.win.SetIcon(assets.Icon)
	w.win.Resize(fyne.NewSize(1280, 800))
	w.addShortcuts()
	w.win.SetCloseIntercept(w.requestClose)
	w.win.SetOnClosed(w.closed)
	w.setupTray()

	w.studies.reloadNow()
	w.stats.reloadNow()
	if opts.pump {
		go w.runPump(w.stop)
	}
	if opts.poll > 0 {
		go w.pollStatus(opts.poll, w.stop)
	}
	return w
}

// liveDue reports whether the refresh being drawn redraws moving numbers.
// UI goroutine only.
func (w *mainWindow) liveDue() bool { return w.live.due(w.frameNow) }

// closed runs when the window is gone: the pump and the poll end.
func (w *mainWindow) closed() { w.stopOnce.Do(func() { close(w.stop) }) }

// onToggle runs on the UI goroutine when the start/stop button is tapped.
func (w *mainWindow) onToggle() {
	if w.pending != opNone {
		return
	}
	pending := opStart
	if w.engine.Running() {
		pending = opStop
	}
	w.pending = pending
	w.lastErr = nil
	w.owner, w.ownerFor = "", ""
	w.refresh()

	go func() {
		var err error
		if pending == opStart {
			err = w.engine.Start()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			err = w.engine.Stop(ctx)
			cancel()
		}
		fyne.Do(func() {
			w.pending = opNone
			w.lastErr, w.errRunning = err, w.engine.Running()
			w.refresh()
			if w.opts.opDone != nil {
				w.opts.opDone()
			}
		})
	}()
}

// pollStatus keeps the toggle, the status line and the numbers in step with
// the engine until done closes.
func (w *mainWindow) pollStatus(every time.Duration, done <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fyne.Do(func() {
				w.refresh()
				w.stats.reload()
			})
		}
	}
}

// refresh makes the toggle and status line match the engine. UI goroutine only.
func (w *mainWindow) refresh() {
	switch {
	case w.pending == opStart:
		w.setToggle("Starting…", theme.MediaPlayIcon(), widget.HighImportance)
	case w.pending == opStop:
		w.setToggle("Stopping…", theme.MediaStopIcon(), widget.MediumImportance)
	case w.engine.Running():
		w.setToggle("Stop", theme.MediaStopIcon(), widget.MediumImportance)
	default:
		w.setToggle("Start", theme.MediaPlayIcon(), widget.HighImportance)
	}
	if w.pending != opNone {
		w.toggle.Disable()
	} else {
		w.toggle.Enable()
	}

	if w.lastErr != nil && w.pending == opNone && w.engine.Running() != w.errRunning {
		w.lastErr = nil // the engine moved on (e.g. restarted by the app)
	}
	importance := widget.MediumImportance
	if w.lastErr != nil || strings.HasPrefix(w.engine.Status(), "Not listening") {
		importance = widget.DangerImportance
	}
	base := w.statusText()
	text := base
	if w.owner != "" && w.ownerFor == base {
		text += " (" + w.owner + ")"
	}
	if w.status.Text != text || w.status.Importance != importance {
		w.status.Importance = importance
		w.status.SetText(text) // refreshes, also for an importance-only change
	}
	w.stats.show()
	if w.pending == opNone && !w.engine.Running() && portBusy(w.lastErr, base) && w.ownerFor != base {
		w.lookupOwner(base)
	}
}

// lookupOwner finds out, off the UI goroutine, who holds the port the
// status line says is in use, and shows it.
func (w *mainWindow) lookupOwner(status string) {
	w.ownerFor, w.owner = status, ""
	port := w.engine.Config().Port
	w.background(func() func() {
		owner := w.opts.portOwner(port)
		return func() {
			if w.ownerFor == status && owner != "" {
				w.owner = owner
				w.refresh()
			}
		}
	})
}

func (w *mainWindow) setToggle(text string, icon fyne.Resource, importance widget.Importance) {
	if w.toggle.Text == text && w.toggle.Icon == icon && w.toggle.Importance == importance {
		return
	}
	w.toggle.Text = text
	w.toggle.Icon = icon
	w.toggle.Importance = importance
	w.toggle.Refresh()
}

// statusText is the engine's status, plus the last error if the engine did not report it.
func (w *mainWindow) statusText() string {
	s := w.engine.Status()
	if w.lastErr == nil || strings.Contains(s, w.lastErr.Error()) {
		return s
	}
	if s == "" {
		return w.lastErr.Error()
	}
	return s + ": " + w.lastErr.Error()
}

// background runs work off the UI goroutine and then its result on it
// (inline, in order, when the options say so: the tests).
func (w *mainWindow) background(work func() (apply func())) {
	if !w.opts.async {
		work()()
		return
	}
	go func() {
		apply := work()
		fyne.Do(apply)
	}()
}

// noteUnusableFiles puts a warning at the top of the activity log when the
// settings file exists but could not be read (the engine then runs with
// the defaults, main.go), and when the log file could not be opened: only
// stderr would say it otherwise.
func (w *mainWindow) noteUnusableFiles() {
	if err := w.opts.files.ConfigErr; err != nil {
		w.mon.Log.Add(w.opts.now(), slog.LevelWarn,
			"Settings not read, the defaults are in use until the settings are saved: "+err.Error())
	}
	if err := w.opts.files.LogErr; err != nil {
		w.mon.Log.Add(w.opts.now(), slog.LevelWarn, "No log file, this list is the only record of this session: "+err.Error())
	}
}
