package ui

import (
	"context"
	"fmt"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/store/index"
)

// indexRebuild is the study list's way out of a damaged index: a button,
// shown under the error, that rebuilds the index from the stored files
// (Engine.RebuildIndex) after a confirmation.
type indexRebuild struct {
	w       *mainWindow
	button  *widget.Button
	content fyne.CanvasObject     // the button, centred; hidden with it
	confirm *dialog.ConfirmDialog // while shown
	running bool
}

func newIndexRebuild(w *mainWindow) *indexRebuild {
	r := &indexRebuild{w: w}
	r.button = widget.NewButton("Rebuild the index from the files…", r.ask)
	r.button.Importance = widget.HighImportance
	r.content = container.NewCenter(r.button)
	r.content.Hide()
	return r
}

// show shows the button when err says the index is damaged, hides it
// otherwise.
func (r *indexRebuild) show(err error) {
	if index.IsDamaged(err) || r.running {
		r.content.Show()
	} else {
		r.content.Hide()
	}
}

// ask asks for a confirmation, then rebuilds.
func (r *indexRebuild) ask() {
	if r.running {
		return
	}
	msg := fmt.Sprintf("Rebuild the index of %s from the stored files?\n"+
		"The listener stops while it runs and starts again afterwards.\nThe files are not changed.", r.w.engine.StorageDir())
	r.confirm = dialog.NewConfirm("Rebuild the index", msg, func(ok bool) {
		r.confirm = nil
		if ok {
			r.start()
		}
	}, r.w.win)
	r.confirm.SetConfirmText("Rebuild")
	r.confirm.Show()
}

func (r *indexRebuild) start() {
	r.running = true
	r.button.Disable()
	r.button.SetText("Rebuilding the index…")
	r.w.background(func() func() {
		// Bounds the wait for running associations, as the toggle's Stop;
		// the rebuild itself takes as long as the files need.
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		tot, err := r.w.engine.RebuildIndex(ctx, r.progress)
		return func() { r.done(tot, err) }
	})
}

// progress shows how many files the rebuild has read (called off the UI
// goroutine while the window runs).
func (r *indexRebuild) progress(files int) {
	show := func() {
		if r.running {
			r.button.SetText(fmt.Sprintf("Rebuilding the index… %s files read", groupThousands(files)))
		}
	}
	if r.w.opts.async {
		fyne.Do(show)
	} else {
		show()
	}
}

func (r *indexRebuild) done(tot index.Totals, err error) {
	r.running = false
	r.button.SetText("Rebuild the index from the files…")
	r.button.Enable()
	now := r.w.opts.now()
	if err != nil {
		r.w.mon.Log.Add(now, slog.LevelError, "Index rebuild failed: "+err.Error())
	} else {
		r.w.mon.Log.Add(now, slog.LevelInfo, fmt.Sprintf("Index rebuilt from the files: %s, %s",
			countNoun(tot.Studies, "study", "studies"), countNoun(tot.Instances, "instance", "instances")))
	}
	r.w.refresh()
	r.w.studies.reloadNow()
}
