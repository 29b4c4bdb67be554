package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// ActivityLogSize is how many entries the activity log keeps.
const ActivityLogSize = 2000

// Monitor bundles the models the window shows, all fed from the hub's
// events: the live associations, the studies being received and the
// activity log. Whoever subscribes to the hub calls Apply for every event
// and Tick now and then (the window's event pump does both); the models are
// safe to read from any goroutine. The Monitor never decides that a study is
// complete: the engine does, and its StudyCompleted events complete the
// study here too (and are logged).
type Monitor struct {
	Assocs  *AssocTracker
	Studies *StudyTracker
	Log     *ActivityLog
}

// NewMonitor returns empty models configured from cfg.
func NewMonitor(cfg Config) *Monitor {
	hist := time.Duration(cfg.AssociationHistory)
	return &Monitor{
		Assocs:  NewAssocTracker(hist),
		Studies: NewStudyTracker(time.Duration(cfg.StudyCompleteAfter), hist),
		Log:     NewActivityLog(ActivityLogSize),
	}
}

// Configure applies changed settings (history and idle times).
func (m *Monitor) Configure(cfg Config) {
	hist := time.Duration(cfg.AssociationHistory)
	m.Assocs.SetHistory(hist)
	m.Studies.SetTimes(time.Duration(cfg.StudyCompleteAfter), hist)
}

// Apply feeds one event to every model. A StudyCompleted event completes its
// study and adds "Study complete: …" to the activity log.
func (m *Monitor) Apply(ev Event) {
	if ev.Kind == StudyCompleted {
		if ev.Completed != nil {
			m.Studies.Apply(ev)
			m.Log.Add(ev.Time, slog.LevelInfo, "Study complete: "+describeStudy(*ev.Completed))
		}
		return
	}
	m.Assocs.Apply(ev)
	m.Studies.Apply(ev)
	m.Log.Apply(ev)
}

// CatchUp completes the studies this Monitor still shows as receiving that
// engineProgress (Engine.StudyProgress) says are complete, and returns
// them. The window calls it after the hub dropped events for it: a dropped
// StudyCompleted would otherwise leave its study "receiving" for good.
func (m *Monitor) CatchUp(engineProgress func(studyUID string) (StudyProgress, bool)) []StudyProgress {
	var done []StudyProgress
	for _, uid := range m.Studies.receivingUIDs() {
		p, ok := engineProgress(uid)
		if !ok || p.State != StudyStateComplete {
			continue
		}
		m.Apply(Event{Event: scp.Event{Kind: StudyCompleted, Time: p.CompletedAt}, Completed: &p})
		done = append(done, p)
	}
	return done
}

// Tick forgets the complete studies older than the association history.
func (m *Monitor) Tick(now time.Time) {
	m.Studies.prune(now)
}

func describeStudy(s StudyProgress) string {
	who := s.PatientName
	if who == "" {
		who = s.PatientID
	}
	if s.Description != "" {
		who += " — " + s.Description
	}
	return who + ", " + plural(s.Instances, "instance") + " from " + s.CallingAE
}

// Stats are the numbers of the window's status line.
type Stats struct {
	InstancesToday int
	// FreeBytes is the free space of the storage disk; FreeErr says why it
	// is unknown.
	FreeBytes uint64
	FreeErr   error
	Active    int
	Kafka     KafkaState
}

// Stats reads the status-line numbers: instances received since local
// midnight (from the index), free disk space, active associations and the
// Kafka state. It queries SQLite: call it off the UI goroutine.
func (e *Engine) Stats(ctx context.Context, now time.Time) (Stats, error) {
	s := Stats{Active: e.ActiveAssociations(), Kafka: e.Kafka()}
	s.FreeBytes, s.FreeErr = e.FreeBytes()
	y, m, d := now.Date()
	n, err := e.InstancesSince(ctx, time.Date(y, m, d, 0, 0, 0, 0, now.Location()))
	s.InstancesToday = n
	return s, err
}
