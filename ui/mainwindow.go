// Package ui holds every Fyne widget and window of DICOM Inbox.
//
// Threading: Fyne runs all callbacks on one UI goroutine, and widgets are
// changed only there. Engine calls that can block (Start, Stop) run on a
// goroutine of their own and hand their result back with fyne.Do.
//
// This package never imports fyne.io/fyne/v2/app (only main does), so it
// builds and tests headless with fyne.io/fyne/v2/test.
package ui

import (
	"context"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/assets"
)

// Engine is what the window needs from the receiver; app.Engine implements it.
// Its methods are called from the UI goroutine (Running, Status) and from
// background goroutines (Start, Stop), so it must be safe for concurrent use.
// Running and Status must be cheap and must not block.
type Engine interface {
	Start() error // start listening; returns a readable error (port in use, ...)
	Stop(ctx context.Context) error
	Running() bool
	Status() string // e.g. "Listening as INBOX on port 11112" / "Stopped" / the start error
}

const (
	windowTitle = "DICOM Inbox"
	// stopTimeout bounds how long the toggle waits for the engine to drain.
	stopTimeout = 15 * time.Second
	// statusPoll is how often the status line re-reads the engine, so that
	// it stays true even when the engine changes state on its own.
	statusPoll = time.Second
)

// NewMainWindow builds the main window: a toolbar with a start/stop toggle,
// a status line showing Engine.Status(), and the (for now empty) study area.
// The caller shows it, typically with ShowAndRun.
func NewMainWindow(a fyne.App, e Engine) fyne.Window {
	return newMainWindow(a, e, options{poll: statusPoll}).win
}

// options are the seams the tests use; NewMainWindow sets the production values.
type options struct {
	poll   time.Duration // status re-read interval; 0 disables polling
	opDone func()        // if set, called on the UI goroutine after a Start/Stop result was applied
}

type mainWindow struct {
	win    fyne.Window
	engine Engine
	opts   options

	toggle *widget.Button
	status *widget.Label

	// Only touched on the UI goroutine.
	pending    op    // the Start or Stop in flight, if any
	lastErr    error // the error of the last Start/Stop, while it is current
	errRunning bool  // Engine.Running() when lastErr was set; a change makes lastErr stale
}

// op is a Start or Stop handed to the engine.
type op int

const (
	opNone op = iota
	opStart
	opStop
)

func newMainWindow(a fyne.App, e Engine, opts options) *mainWindow {
	w := &mainWindow{
		win:    a.NewWindow(windowTitle),
		engine: e,
		opts:   opts,
	}

	w.toggle = widget.NewButton("", w.onToggle)
	w.status = widget.NewLabel("")
	w.status.Wrapping = fyne.TextWrapWord // errors can be long; never hide them

	// A row of labelled buttons: a widget.Toolbar squeezes items to icon size.
	toolbar := container.NewVBox(container.NewHBox(w.toggle), widget.NewSeparator())
	placeholder := container.NewCenter(widget.NewLabelWithStyle(
		"Studies will appear here as they arrive.",
		fyne.TextAlignCenter, fyne.TextStyle{Italic: true}))
	statusLine := container.NewVBox(widget.NewSeparator(), w.status)

	w.refresh() // before SetContent, so the first layout sees the real texts
	w.win.SetContent(container.NewBorder(toolbar, statusLine, nil, nil, placeholder))
	w.win.SetIcon(assets.Icon)
	w.win.Resize(fyne.NewSize(1280, 800))

	if opts.poll > 0 {
		done := make(chan struct{})
		go w.pollStatus(opts.poll, done)
		w.win.SetOnClosed(sync.OnceFunc(func() { close(done) }))
	}
	return w
}

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

// pollStatus keeps the toggle and status line in step with the engine until done closes.
func (w *mainWindow) pollStatus(every time.Duration, done <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fyne.Do(w.refresh)
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
	if w.lastErr != nil {
		importance = widget.DangerImportance
	}
	text := w.statusText()
	if w.status.Text != text || w.status.Importance != importance {
		w.status.Importance = importance
		w.status.SetText(text) // refreshes, also for an importance-only change
	}
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
