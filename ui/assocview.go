package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// assocView is the live association list: one row per association, newest
// first, finished ones kept for the configured history.
type assocView struct {
	w       *mainWindow
	table   *widget.Table
	empty   *widget.Label
	content fyne.CanvasObject
	rows    []app.AssocRow
	now     time.Time
	shape   string // the rows' ids and states as last drawn: a change is drawn at once
}

var assocColumns = []struct {
	title string
	width float32
}{
	{"Calling AE", 120}, {"Called AE", 100}, {"Peer", 140}, {"State", 300}, {"Instances", 75},
	{"Received", 85}, {"Throughput", 95}, {"Duration", 80}, {"Last error", 260},
}

func newAssocView(w *mainWindow) *assocView {
	v := &assocView{w: w}
	v.table = widget.NewTable(
		func() (int, int) { return len(v.rows), len(assocColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row >= len(v.rows) || id.Col >= len(assocColumns) {
				l.SetText("")
				return
			}
			text, imp := v.cell(v.rows[id.Row], id.Col)
			restyle := l.Importance != imp
			l.Importance = imp
			if !setCellText(l, text, assocColumns[id.Col].width) && restyle {
				l.Refresh()
			}
		})
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(assocColumns) {
			o.(*widget.Label).SetText(assocColumns[id.Col].title)
		}
	}
	for i, c := range assocColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.empty = widget.NewLabelWithStyle("No associations yet. Senders appear here as they connect.",
		fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	v.content = container.NewStack(v.table, container.NewCenter(v.empty))
	return v
}

// cell is the text and style of one cell.
func (v *assocView) cell(r app.AssocRow, col int) (string, widget.Importance) {
	switch col {
	case 0:
		return r.CallingAE, widget.MediumImportance
	case 1:
		return r.CalledAE, widget.MediumImportance
	case 2:
		return r.Peer, widget.MediumImportance
	case 3:
		s := r.State.String()
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		switch r.State {
		case app.AssocRejected, app.AssocAborted:
			return s, widget.WarningImportance
		case app.AssocReceiving, app.AssocNegotiating:
			return s, widget.HighImportance
		}
		return s, widget.MediumImportance
	case 4:
		return groupThousands(r.Instances), widget.MediumImportance
	case 5:
		return app.HumanBytes(r.Bytes), widget.MediumImportance
	case 6:
		return rate(r.Throughput(v.now)), widget.MediumImportance
	case 7:
		return shortDuration(r.Duration(v.now)), widget.MediumImportance
	case 8:
		if r.LastError != "" {
			return r.LastError, widget.DangerImportance
		}
	}
	return "", widget.MediumImportance
}

// update re-reads the tracker and redraws the table: at once when an
// association came, went or changed state, otherwise (only numbers moved)
// when the window's live gate says so. It is the first view refreshLive
// updates: it records the refresh's instant for the others. UI goroutine only.
func (v *assocView) update(now time.Time) {
	v.w.frameNow = now
	rows := v.w.mon.Assocs.Rows(now)
	shape := assocShape(rows)
	if shape == v.shape && !v.w.liveDue() {
		return
	}
	v.now, v.rows, v.shape = now, rows, shape
	if len(v.rows) == 0 {
		v.empty.Show()
	} else {
		v.empty.Hide()
	}
	v.table.Refresh()
}

// assocShape is what of the rows must be shown without delay: which
// associations there are, their states, reasons and errors.
func assocShape(rows []app.AssocRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%d\x00%d\x00%s\x00%s\x01", r.ID, r.State, r.Reason, r.LastError)
	}
	return b.String()
}

// rowText returns the cells of row i as text (tests).
func (v *assocView) rowText(i int) []string {
	out := make([]string, len(assocColumns))
	for c := range assocColumns {
		out[c], _ = v.cell(v.rows[i], c)
	}
	return out
}
