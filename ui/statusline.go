package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
)

// statsLine is the right part of the status line: active associations,
// instances received today, free disk space, and Kafka when enabled.
type statsLine struct {
	w       *mainWindow
	label   *widget.Label
	stats   app.Stats
	loaded  bool
	loading bool // a query is in flight (UI goroutine only)
	err     error
	gap     throttle // spaces out the queries reload starts
	// pending are numbers queried for the event pump or the poll, shown at
	// the window's next live redraw (or once they are statsEvery old).
	pending   *app.Stats
	pendErr   error
	pendingAt time.Time
}

func newStatsLine(w *mainWindow) *statsLine {
	return &statsLine{w: w, label: widget.NewLabel(""), gap: throttle{every: w.opts.statsEvery}}
}

// reload is the reload of the event pump and the status poll: it queries at
// most once per statsEvery (the poll brings the numbers up to date).
func (s *statsLine) reload() {
	if s.loading || !s.gap.due(s.w.opts.now()) {
		return
	}
	s.query(true)
}

// reloadNow queries the numbers at once (a user's refresh, new settings).
func (s *statsLine) reloadNow() {
	if s.loading {
		return
	}
	s.gap.due(s.w.opts.now())
	s.query(false)
}

// query reads the numbers off the UI goroutine (one query at a time). The
// numbers of a live query wait for the window's next live redraw.
func (s *statsLine) query(live bool) {
	s.loading = true
	now := s.w.opts.now()
	s.w.background(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := s.w.engine.Stats(ctx, now)
		return func() {
			s.loading = false
			if live && s.loaded && s.w.opts.live > 0 {
				s.pending, s.pendErr, s.pendingAt = &st, err, s.w.opts.now()
				return
			}
			s.pending = nil
			s.stats, s.err, s.loaded = st, err, true
			s.show()
		}
	})
}

// show renders the numbers; the live ones (associations, Kafka) are read
// again from the engine, which is cheap.
func (s *statsLine) show() {
	if s.pending != nil && (s.w.liveDue() || s.w.opts.now().Sub(s.pendingAt) >= s.w.opts.statsEvery) {
		s.stats, s.err, s.pending = *s.pending, s.pendErr, nil
	}
	text := s.text(s.w.engine.ActiveAssociations(), s.w.engine.Kafka())
	if s.label.Text != text {
		s.label.SetText(text)
		if s.w.statusBar != nil {
			s.w.statusBar.Refresh() // the label's width changed: lay the line out again
		}
	}
}

func (s *statsLine) text(active int, k app.KafkaState) string {
	parts := []string{plural(active, "active association", "active associations")}
	if s.loaded {
		if s.err == nil {
			parts = append(parts, plural(s.stats.InstancesToday, "instance today", "instances today"))
		}
		if s.stats.FreeErr == nil {
			parts = append(parts, app.HumanBytes(int64(s.stats.FreeBytes))+" free")
		} else {
			parts = append(parts, "free space unknown")
		}
	}
	if k.Enabled {
		parts = append(parts, "Kafka: "+k.String())
		if k.Backlog > 0 && !strings.Contains(k.String(), "backlog") {
			parts = append(parts, "backlog "+groupThousands(int(k.Backlog)))
		}
	}
	return strings.Join(parts, " · ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return groupThousands(n) + " " + many
}
