package app

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// LogEntry is one line of the activity log.
type LogEntry struct {
	Seq   uint64 // increases with every new entry
	Time  time.Time
	Level slog.Level // info, warn or error
	Text  string
}

// ActivityLog keeps the latest events in words ("Accepted ...", "Rejected
// ... because ...", "Stored 12 instances ...", "Failed ...") in a bounded
// ring. Stored instances of one association and study are counted in one
// entry, updated in place, so a large study does not push everything else
// out. It is safe for concurrent use.
type ActivityLog struct {
	mu      sync.Mutex
	ring    []LogEntry
	next    int // ring index of the next write
	full    bool
	seq     uint64
	version uint64                // changes with every add or update
	storing map[uint64]*storedRun // association -> its running "stored" entry
}

type storedRun struct {
	seq   uint64
	study string
	count int
	bytes int64
	label string
}

// NewActivityLog returns a log that keeps the last capacity entries.
func NewActivityLog(capacity int) *ActivityLog {
	return &ActivityLog{ring: make([]LogEntry, max(capacity, 1)), storing: map[uint64]*storedRun{}}
}

// Add appends an entry.
func (l *ActivityLog) Add(t time.Time, level slog.Level, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(t, level, text)
}

func (l *ActivityLog) addLocked(t time.Time, level slog.Level, text string) uint64 {
	l.seq++
	l.version++
	l.ring[l.next] = LogEntry{Seq: l.seq, Time: t, Level: level, Text: text}
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	return l.seq
}

// update rewrites the entry seq if it is still in the ring.
func (l *ActivityLog) update(seq uint64, t time.Time, text string) bool {
	if seq == 0 || l.seq-seq >= uint64(len(l.ring)) {
		return false
	}
	i := (l.next - int(l.seq-seq) - 1 + len(l.ring)) % len(l.ring)
	l.ring[i].Time, l.ring[i].Text = t, text
	l.version++
	return true
}

// Apply logs one hub event in words; progress events are not logged.
func (l *ActivityLog) Apply(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := ev.Association
	from := fmt.Sprintf("%s (%s)", a.CallingAE, peerText(a))
	if a.ClientCertificate != "" {
		from = fmt.Sprintf("%s (%s, certificate %s)", a.CallingAE, peerText(a), a.ClientCertificate)
	}
	switch ev.Kind {
	case scp.AssociationAccepted:
		l.addLocked(ev.Time, slog.LevelInfo, fmt.Sprintf("Accepted association from %s to %s", from, a.CalledAE))
	case scp.AssociationRejected:
		l.addLocked(ev.Time, slog.LevelWarn, fmt.Sprintf("Rejected association from %s to %s: %s", from, a.CalledAE, ev.Reason))
	case scp.AssociationReleased:
		delete(l.storing, a.ID)
		l.addLocked(ev.Time, slog.LevelInfo, fmt.Sprintf("%s released the association: %s, %s", from, plural(ev.Instances, "instance"), HumanBytes(ev.Bytes)))
	case scp.AssociationAborted:
		delete(l.storing, a.ID)
		l.addLocked(ev.Time, slog.LevelWarn, fmt.Sprintf("Association with %s aborted after %s: %s", from, plural(ev.Instances, "instance"), ev.Reason))
	case scp.InstanceFailed:
		l.addLocked(ev.Time, slog.LevelError, fmt.Sprintf("Failed to store an instance from %s (status %04X): %s", from, ev.Status, ev.Reason))
	case scp.InstanceStored:
		l.stored(ev)
	}
}

func (l *ActivityLog) stored(ev Event) {
	a := ev.Association
	study, label := "", "an unknown study"
	var size int64
	if s := ev.Study; s != nil {
		study, size = s.StudyInstanceUID, s.SizeBytes
		label = s.PatientName
		if label == "" {
			label = s.PatientID
		}
		if s.StudyDescription != "" {
			label += " — " + s.StudyDescription
		}
	}
	run := l.storing[a.ID]
	if run == nil || run.study != study {
		run = &storedRun{study: study, label: label}
		l.storing[a.ID] = run
	}
	run.count++
	run.bytes += size
	text := fmt.Sprintf("Stored %s (%s) of %s from %s", plural(run.count, "instance"), HumanBytes(run.bytes), run.label, a.CallingAE)
	if !l.update(run.seq, ev.Time, text) {
		run.seq = l.addLocked(ev.Time, slog.LevelInfo, text)
	}
}

// Entries returns the entries at min level or above, newest first.
func (l *ActivityLog) Entries(min slog.Level) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	out := make([]LogEntry, 0, n)
	for k := 1; k <= n; k++ {
		e := l.ring[(l.next-k+len(l.ring))%len(l.ring)]
		if e.Level >= min {
			out = append(out, e)
		}
	}
	return out
}

// Newest returns the sequence number of the newest entry (0 when empty): it
// changes when an entry is added, not when one is updated in place.
func (l *ActivityLog) Newest() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Version changes whenever an entry is added or updated (0 when empty).
func (l *ActivityLog) Version() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
