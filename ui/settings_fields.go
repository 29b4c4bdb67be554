package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
)

// formField is one validated text entry of a form. Its reason for being invalid
// is shown right under it (in the error colour) as soon as the text changes,
// and the entry shows Fyne's error icon; a note (e.g. the privileged-port
// warning) can sit under it too without blocking anything.
type formField struct {
	name  string // how Save names it in "Cannot save" reasons, e.g. "Port"
	entry *widget.Entry
	err   *widget.Label // the reason; hidden while the text is valid
	note  *widget.Label // an optional warning; hidden unless noteFor says something
	check func(string) error
	// noteFor returns a warning for a valid text ("" = none); may be nil.
	noteFor func(string) string
	// row is what the form shows: the entry (with an optional button beside
	// it), then the reason and the note.
	row fyne.CanvasObject
	// relayout, if set, is called when the reason or the note appears or
	// goes: the form around the field must make room for it.
	relayout func()
}

// anyText is the check of a field that takes any text (a file path, a
// name): what it must pair with is checked by app.Config.Validate.
func anyText(string) error { return nil }

// newFormField builds a field holding text, validated by check. A non-nil
// button is placed to the right of the entry (e.g. "Choose…").
func newFormField(name, text string, check func(string) error, button fyne.CanvasObject) *formField {
	f := &formField{name: name, entry: widget.NewEntry(), err: widget.NewLabel(""), note: widget.NewLabel(""), check: check}
	return f.init(text, button)
}

// newPasswordFormField is newFormField with a masked entry.
func newPasswordFormField(name, text string, check func(string) error) *formField {
	f := &formField{name: name, entry: widget.NewPasswordEntry(), err: widget.NewLabel(""), note: widget.NewLabel(""), check: check}
	return f.init(text, nil)
}

func (f *formField) init(text string, button fyne.CanvasObject) *formField {
	f.err.Importance = widget.DangerImportance
	f.err.Wrapping = fyne.TextWrapWord
	f.err.Hide()
	f.note.Importance = widget.WarningImportance
	f.note.Wrapping = fyne.TextWrapWord
	f.note.Hide()
	f.entry.SetText(text)
	f.entry.Validator = f.check
	// The entry's error icon shows also for text set by the program (e.g.
	// when switching Kafka on makes an empty topic invalid).
	f.entry.AlwaysShowValidationError = true
	f.entry.OnChanged = func(string) { f.validate() }

	var top fyne.CanvasObject = f.entry
	if button != nil {
		top = container.NewBorder(nil, nil, nil, button, f.entry)
	}
	f.row = container.NewVBox(top, f.err, f.note)
	f.validate()
	return f
}

// text is the entry's text without surrounding blanks.
func (f *formField) text() string { return strings.TrimSpace(f.entry.Text) }

// validate re-checks the text, updates the reason and the note under the
// entry and returns the reason (nil when valid).
func (f *formField) validate() error {
	err := f.check(f.entry.Text)
	f.entry.SetValidationError(err)
	before := f.err.Visible() || f.note.Visible()
	reason, note := "", ""
	if err != nil {
		reason = err.Error()
	} else if f.noteFor != nil {
		note = f.noteFor(f.entry.Text)
	}
	showLabelText(f.err, reason)
	showLabelText(f.note, note)
	if f.relayout != nil && (before || reason != "" || note != "") {
		f.relayout()
	}
	return err
}

// showLabelText sets a label's text and hides it while the text is empty.
func showLabelText(l *widget.Label, text string) {
	if text == "" {
		l.Hide()
		return
	}
	if l.Text != text {
		l.SetText(text)
	}
	l.Show()
}

// ---- parsing: each returns the value and a reason a user can act on --------------------

// parseAETitleText checks one AE title (surrounding blanks are not significant).
func parseAETitleText(s string) (string, error) {
	ae := strings.TrimSpace(s)
	if err := scp.ValidateAETitle(ae); err != nil {
		return "", err
	}
	return ae, nil
}

// parsePortText reads a TCP port, 1–65535.
func parsePortText(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("enter a port number (1–65535)")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number; enter a port between 1 and 65535", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%d is out of range; a port is between 1 and 65535", n)
	}
	return n, nil
}

// privilegedPortNote warns about ports below 1024 (a valid choice that
// usually fails on Linux and macOS without administrator rights).
func privilegedPortNote(s string) string {
	if n, err := parsePortText(s); err == nil && n < 1024 {
		return fmt.Sprintf("Port %d is below 1024: listening on it needs administrator rights on Linux and macOS.", n)
	}
	return ""
}

// parseIntRange reads a whole number between lo and hi.
func parseIntRange(s string, lo, hi int) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number; enter %d to %d", s, lo, hi)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range; enter %d to %d", n, lo, hi)
	}
	return n, nil
}

// maxFreeMB bounds the free-space threshold (1 PB): larger values are typos.
const maxFreeMB = 1 << 30

// parseMBText reads a size in MB, 0 (off) or more.
func parseMBText(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of MB (0 switches the check off)", s)
	}
	if n > maxFreeMB {
		return 0, fmt.Errorf("%d MB is more than any disk holds", n)
	}
	return n, nil
}

// parseDurationText reads a positive duration: Go syntax ("30s", "2m", "1h30m")
// or a plain number of seconds.
func parseDurationText(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		s = strconv.Itoa(n) + "s"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write e.g. 30s, 5m or 1h", strings.TrimSpace(s))
	}
	if d <= 0 {
		return 0, errors.New("must be longer than zero")
	}
	return d, nil
}

// formatDurationText writes d the way a person would: "30s", "5m", "2h", "1m30s".
func formatDurationText(d time.Duration) string {
	switch {
	case d <= 0:
		return d.String()
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d < time.Hour && d%time.Second == 0:
		s := strconv.FormatInt(int64(d/time.Minute), 10) + "m" + strconv.FormatInt(int64(d%time.Minute/time.Second), 10) + "s"
		return strings.TrimPrefix(s, "0m")
	}
	return d.String()
}

// splitListText splits on commas, semicolons and blanks, dropping empty items;
// nil when there are none (as a configuration without the list has).
func splitListText(s string) []string {
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
	if len(items) == 0 {
		return nil
	}
	return items
}

// parseAETitles reads a comma/blank separated list of AE titles (empty = none).
func parseAETitles(s string) ([]string, error) {
	items := splitListText(s)
	for _, ae := range items {
		if err := scp.ValidateAETitle(ae); err != nil {
			return nil, fmt.Errorf("%q: %w", ae, err)
		}
	}
	return items, nil
}

// parseBrokers reads a comma/blank separated list of host:port, at least one.
func parseBrokers(s string) ([]string, error) {
	items := splitListText(s)
	if len(items) == 0 {
		return nil, errors.New("enter at least one broker as host:port")
	}
	for _, b := range items {
		if err := app.CheckKafkaBroker(b); err != nil {
			return nil, fmt.Errorf("%q: %w", b, err)
		}
	}
	return items, nil
}

// checkTopicText checks a topic field (app.CheckKafkaTopic).
func checkTopicText(t string) error { return app.CheckKafkaTopic(strings.TrimSpace(t)) }
