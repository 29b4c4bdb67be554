package ui

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// applyTimeout bounds a settings change: the listener drains this long.
const applyTimeout = 30 * time.Second

// newToolbar builds the row of labelled buttons (a widget.Toolbar squeezes
// items to icon size): start/stop, settings, storage folder, verify a
// remote node, refresh.
func (w *mainWindow) newToolbar() fyne.CanvasObject {
	w.toggle = widget.NewButton("", w.onToggle)
	w.settingsBtn = widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), w.openSettings)
	w.folderBtn = widget.NewButtonWithIcon("Storage folder", theme.FolderOpenIcon(), w.openStorageFolder)
	w.echoBtn = widget.NewButtonWithIcon("Verify node (C-ECHO)", theme.ConfirmIcon(), w.openEcho)
	w.reload = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), w.refreshAll)
	return container.NewHBox(w.toggle, widget.NewSeparator(), w.settingsBtn, w.folderBtn, w.echoBtn, w.reload)
}

// addShortcuts binds the keyboard shortcuts of the main actions.
func (w *mainWindow) addShortcuts() {
	c := w.win.Canvas()
	bind := func(key fyne.KeyName, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { fn() })
	}
	bind(fyne.KeyL, w.onToggle)
	bind(fyne.KeyComma, w.openSettings)
	bind(fyne.KeyE, w.openEcho)
	bind(fyne.KeyO, w.openStorageFolder)
	bind(fyne.KeyR, w.refreshAll)
	bind(fyne.KeyF, func() { c.Focus(w.studies.search) })
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyF5 {
			w.refreshAll()
		}
	})
}

// refreshAll re-reads everything: status, numbers, studies, associations, log.
func (w *mainWindow) refreshAll() {
	w.refresh()
	w.stats.reloadNow()
	w.studies.reloadNow()
	w.refreshLive(w.opts.now(), nil)
}

// openStorageFolder shows the storage folder in the file manager.
func (w *mainWindow) openStorageFolder() {
	dir := w.engine.StorageDir()
	if err := w.opts.openFolder(dir); err != nil {
		dialog.ShowError(fmt.Errorf("cannot open %s: %w", dir, err), w.win)
	}
}

// openSettings shows the settings dialog; saving applies the settings to
// the engine (to the running listener at once; a graceful restart only for a
// new address or storage folder, see app.Engine.Apply) and writes them to
// disk.
func (w *mainWindow) openSettings() {
	showSettings(w.win, w.engine.Config(), w.saveSettings, app.TestKafkaConnection)
}

// saveSettings is the settings dialog's save: it blocks (the dialog calls it
// off the UI goroutine).
func (w *mainWindow) saveSettings(cfg app.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	applyErr := w.engine.Apply(ctx, cfg)
	if applyErr != nil && cfg.Validate() != nil {
		return applyErr // invalid: nothing changed
	}
	if w.opts.files.Config != "" {
		if err := app.SaveConfig(w.opts.files.Config, cfg); err != nil {
			return fmt.Errorf("settings applied but not saved: %w", err)
		}
	}
	w.mon.Configure(cfg)
	fyne.Do(func() {
		w.setupTray() // the tray option may have been switched on
		w.refresh()
		w.studies.reloadNow() // the storage folder may have changed
		w.stats.reloadNow()
	})
	if applyErr != nil {
		slog.Warn("settings saved; the listener did not restart", "err", applyErr)
		return fmt.Errorf("settings saved, but the listener could not restart: %w", applyErr)
	}
	return nil
}

// openEcho shows the C-ECHO dialog.
func (w *mainWindow) openEcho() { showEcho(w.win, w.engine.Config()) }
