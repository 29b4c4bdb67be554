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
}

func newStatsLine(w *mainWindow) *statsLine {
	return &statsLine{w: w, label: widget.NewLabel("")}
}

// reload queries the numbers off the UI goroutine (one query at a time).
func (s *statsLine) reload() {
	if s.loading {
		return
	}
	s.loading = true
	now := s.w.opts.now()
	s.w.background(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := s.w.engine.Stats(ctx, now)
		return func() {
			s.loading = false
			s.stats, s.err, s.loaded = st, err, true
			s.show()
		}
	})
}

// show renders the numbers; the live ones (associations, Kafka) are read
// again from the engine, which is cheap.
func (s *statsLine) show() {
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
