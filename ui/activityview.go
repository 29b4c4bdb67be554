package ui

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// activityView is the activity log with a level filter.
type activityView struct {
	w       *mainWindow
	filter  *widget.Select
	list    *widget.List
	content fyne.CanvasObject
	entries []app.LogEntry
	min     slog.Level
	version uint64 // of the log when entries were read
	newest  uint64 // the newest entry's sequence number then
	// logFolder shows the log file's folder (nil: no log file).
	logFolder *widget.Button
}

var levelChoices = []struct {
	name  string
	level slog.Level
}{{"All events", slog.LevelInfo}, {"Warnings and errors", slog.LevelWarn}, {"Errors only", slog.LevelError}}

func newActivityView(w *mainWindow) *activityView {
	v := &activityView{w: w, min: slog.LevelInfo}
	names := make([]string, len(levelChoices))
	for i, c := range levelChoices {
		names[i] = c.name
	}
	v.filter = widget.NewSelect(names, func(s string) {
		for _, c := range levelChoices {
			if c.name == s {
				v.setLevel(c.level)
			}
		}
	})
	v.filter.SetSelectedIndex(0)
	v.list = widget.NewList(
		func() int { return len(v.entries) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel("00:00:00"), widget.NewLabel("ERROR")), nil,
				widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.entries) {
				return
			}
			e := v.entries[i]
			c := o.(*fyne.Container)
			text := c.Objects[0].(*widget.Label)
			left := c.Objects[1].(*fyne.Container)
			left.Objects[0].(*widget.Label).SetText(e.Time.In(w.opts.loc).Format("15:04:05"))
			lvl := left.Objects[1].(*widget.Label)
			lvl.Importance = levelImportance(e.Level)
			lvl.SetText(levelName(e.Level))
			text.Truncation = fyne.TextTruncateEllipsis
			text.SetText(e.Text)
		})
	top := container.NewBorder(nil, nil, widget.NewLabel("Show:"), nil, v.filter)
	v.content = container.NewBorder(top, v.logFileBar(), nil, nil, v.list)
	return v
}

// logFileBar says where the whole log is, with a button that shows its
// folder (nil when there is no log file): this list keeps only the recent
// events of this session.
func (v *activityView) logFileBar() fyne.CanvasObject {
	path := v.w.opts.files.Log
	if path == "" {
		return nil
	}
	label := widget.NewLabel("Whole log: " + path)
	label.Truncation = fyne.TextTruncateEllipsis
	v.logFolder = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), func() {
		dir := filepath.Dir(path)
		if err := v.w.opts.openFolder(dir); err != nil {
			dialog.ShowError(fmt.Errorf("cannot open %s: %w", dir, err), v.w.win)
		}
	})
	return container.NewBorder(nil, nil, nil, v.logFolder, label)
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	}
	return "INFO"
}

func levelImportance(l slog.Level) widget.Importance {
	switch {
	case l >= slog.LevelError:
		return widget.DangerImportance
	case l >= slog.LevelWarn:
		return widget.WarningImportance
	}
	return widget.LowImportance
}

// setLevel changes the filter and re-reads the log.
func (v *activityView) setLevel(l slog.Level) {
	v.min = l
	v.version, v.newest = ^uint64(0), ^uint64(0) // re-read now
	v.update()
}

// update re-reads the log when it changed: at once when an entry was added,
// when the window's live gate says so when entries were only updated in
// place (the running "Stored N instances" line). UI goroutine only.
func (v *activityView) update() {
	if v.list == nil {
		return
	}
	ver, newest := v.w.mon.Log.Version(), v.w.mon.Log.Newest()
	if ver == v.version {
		return
	}
	if newest == v.newest && !v.w.liveDue() {
		return
	}
	v.version, v.newest = ver, newest
	v.entries = v.w.mon.Log.Entries(v.min)
	v.list.Refresh()
}
