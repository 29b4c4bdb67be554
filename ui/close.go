package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
)

// queryTimeout bounds one query of the window.
const queryTimeout = 10 * time.Second

func contextTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), queryTimeout)
}

// requestClose is the window's close intercept. With the tray option (and a
// desktop that has a tray) the window only hides and receiving goes on.
// Otherwise, while associations run, it asks first: closing ends them.
func (w *mainWindow) requestClose() {
	if w.trayActive() {
		w.win.Hide()
		return
	}
	n := w.engine.ActiveAssociations()
	if n == 0 {
		w.quit()
		return
	}
	msg := fmt.Sprintf("%s still receiving. Closing DICOM Inbox stops the receiver: "+
		"they get %s to finish, then they are aborted.\n\nClose anyway?",
		plural(n, "association is", "associations are"), time.Duration(w.engine.Config().ShutdownTimeout))
	d := dialog.NewConfirm("Associations are running", msg, func(ok bool) {
		if ok {
			w.quit()
		}
	}, w.win)
	d.SetConfirmText("Close")
	d.SetDismissText("Keep running")
	d.Show()
}

// quit closes the window for good; with a tray menu the app quits too
// (otherwise closing the last window ends ShowAndRun).
func (w *mainWindow) quit() {
	w.closing = true
	w.win.Close()
	if w.trayInstalled {
		w.app.Quit()
	}
}

// trayActive reports whether the tray menu keeps the app alive: it is
// installed and the settings still ask for it. (Hiding the window without a
// tray menu would leave no way back to it.)
func (w *mainWindow) trayActive() bool {
	return w.trayInstalled && w.engine.Config().KeepRunningInTray && !w.closing
}

// setupTray installs the system-tray menu when the settings ask for it and
// the driver supports it: show the window, start/stop, quit. It is called
// when the window opens and after the settings were saved.
func (w *mainWindow) setupTray() {
	desk, ok := w.app.(desktop.App)
	if !ok || w.trayInstalled || !w.engine.Config().KeepRunningInTray {
		return
	}
	show := fyne.NewMenuItem("Show DICOM Inbox", func() { w.win.Show(); w.win.RequestFocus() })
	toggle := fyne.NewMenuItem("Start / stop listening", w.onToggle)
	quit := fyne.NewMenuItem("Quit", func() {
		w.closing = true
		w.win.Show()
		w.requestClose()
	})
	quit.IsQuit = true
	desk.SetSystemTrayMenu(fyne.NewMenu("DICOM Inbox", show, toggle, fyne.NewMenuItemSeparator(), quit))
	w.trayInstalled = true
}
