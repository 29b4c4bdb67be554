package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The dialogs of the main window live in their own files: settings*.go,
// echo.go and detail*.go. This file holds what they share.

// showDialogStatus shows text in a dialog's status label (the line above
// its buttons), in the error colour when bad, and re-lays out content: a
// label shown later does not re-layout its container by itself.
func showDialogStatus(status *widget.Label, content fyne.CanvasObject, text string, bad bool) {
	status.Importance = widget.MediumImportance
	if bad {
		status.Importance = widget.DangerImportance
	}
	status.SetText(text)
	status.Show()
	content.Refresh()
}
