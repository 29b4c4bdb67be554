package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// liveEvery is how often, at most, the window redraws what changes with
// every received instance while nothing else changes: counts, rates and
// durations of the associations, the progress column, the "stored N
// instances" line of the activity log, and the page of the study list (an
// SQL query). Changes of substance — a new association or study, a state
// change, a rejection, a study that completes — are shown at the event
// pump's next refresh (≤ 20/s). Each redraw repaints the whole window, in
// software where there is no GPU (~30 ms of CPU for 1280×800 on the
// benchmark machine), and that CPU is taken from the receiver: 2 redraws a
// second still read as live and keep the window's cost low (measured in
// docs/benchmarks.md, "Window open": 4 a second cost visibly more).
const liveEvery = 500 * time.Millisecond

// throttle spaces out live redraws: at most one per every. Time is cut
// into slots of every (on the wall clock), and a redraw is let through once
// per slot: the views of the window, each with its own throttle, redraw in
// the same refresh rather than one after the other. The zero every lets
// every call through (the tests).
type throttle struct {
	every time.Duration
	slot  int64 // the slot of the last redraw let through
	used  bool  // slot is set
}

// due reports whether a redraw may happen at now, and if so records it.
func (t *throttle) due(now time.Time) bool {
	if t.every <= 0 {
		return true
	}
	s := now.UnixNano() / int64(t.every)
	if t.used && s == t.slot {
		return false
	}
	t.slot, t.used = s, true
	return true
}

// wait is how long after now the next redraw may happen (0: at once).
func (t *throttle) wait(now time.Time) time.Duration {
	if t.every <= 0 || !t.used || now.UnixNano()/int64(t.every) != t.slot {
		return 0
	}
	return time.Duration(int64(t.every) - now.UnixNano()%int64(t.every))
}

// liveGate decides for the whole window which refreshes redraw moving
// numbers: the first refresh of each liveEvery slot does, in every view, so
// that the numbers of all views (and the page and status numbers queried
// meanwhile) change together, in one repaint per slot rather than one per
// view. A view asks with the instant of the refresh it is drawing.
type liveGate struct {
	t  throttle
	at time.Time // the refresh let through in the current slot
}

// due reports whether the refresh at now redraws moving numbers.
func (g *liveGate) due(now time.Time) bool {
	if g.t.every <= 0 {
		return true
	}
	if g.t.used && now.Equal(g.at) {
		return true // another view of the refresh that was let through
	}
	if g.t.due(now) {
		g.at = now
		return true
	}
	return false
}

// setCellText sets the text of a table cell's label of the given width. It
// truncates with an ellipsis only when the text does not fit: Fyne's
// truncation shapes the text again with a new shaper at every change (it
// caches nothing), which made it the largest cost of a refresh while
// numbers change several times a second. Measuring is cached by Fyne.
// It reports whether the label changed (and was refreshed). UI goroutine only.
func setCellText(l *widget.Label, text string, width float32) bool {
	trunc := fyne.TextTruncateOff
	if text != "" && fyne.MeasureText(text, theme.TextSize(), l.TextStyle).Width+2*theme.InnerPadding() > width {
		trunc = fyne.TextTruncateEllipsis
	}
	if l.Text == text && l.Truncation == trunc {
		return false
	}
	l.Truncation = trunc
	l.SetText(text)
	return true
}
