package app

import (
	"slices"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// AssocState is where an association stands, as the window shows it.
type AssocState int

// Association states.
const (
	AssocNegotiating AssocState = iota // A-ASSOCIATE-RQ received, not answered yet
	AssocReceiving                     // accepted: C-ECHO/C-STORE may come
	AssocReleased                      // ended by an orderly release
	AssocAborted                       // ended by an A-ABORT or a broken connection
	AssocRejected                      // refused at negotiation
)

var assocStateNames = [...]string{"negotiating", "receiving", "released", "aborted", "rejected"}

// String returns "negotiating", "receiving", "released", "aborted" or "rejected".
func (s AssocState) String() string {
	if s < 0 || int(s) >= len(assocStateNames) {
		return "unknown"
	}
	return assocStateNames[s]
}

// Finished reports whether the association has ended.
func (s AssocState) Finished() bool { return s >= AssocReleased }

// AssocRow is one association in the live list.
type AssocRow struct {
	ID                  uint64
	CallingAE, CalledAE string
	Peer                string // remote "ip:port", then " (TLS)" over DICOM TLS
	State               AssocState
	// Reason says in words why it was rejected or aborted.
	Reason    string
	Instances int
	// Bytes counts the data set bytes received, the running data set included.
	Bytes        int64
	Started      time.Time
	Ended        time.Time // zero while running
	LastError    string    // why the last failed instance failed
	LastActivity time.Time

	doneBytes int64 // bytes of the finished data sets
}

// Duration is how long the association ran (until now while it runs).
func (r AssocRow) Duration(now time.Time) time.Duration {
	end := r.Ended
	if end.IsZero() {
		end = now
	}
	if r.Started.IsZero() || end.Before(r.Started) {
		return 0
	}
	return end.Sub(r.Started)
}

// Throughput is the mean receive rate in bytes per second.
func (r AssocRow) Throughput(now time.Time) float64 {
	d := r.Duration(now).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.Bytes) / d
}

// AssocTracker keeps one row per association from the hub's events:
// running ones, and finished ones for a configurable time. It is safe for
// concurrent use: the event pump writes, the window reads.
type AssocTracker struct {
	mu      sync.Mutex
	rows    map[uint64]*AssocRow
	history time.Duration
}

// NewAssocTracker returns a tracker that keeps finished associations for history.
func NewAssocTracker(history time.Duration) *AssocTracker {
	return &AssocTracker{rows: make(map[uint64]*AssocRow), history: history}
}

// SetHistory changes how long finished associations stay.
func (t *AssocTracker) SetHistory(d time.Duration) {
	t.mu.Lock()
	t.history = d
	t.mu.Unlock()
}

// Apply updates the rows with one event.
func (t *AssocTracker) Apply(ev Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := ev.Association
	r := t.rows[a.ID]
	if r == nil {
		start := a.StartedAt
		if start.IsZero() {
			start = ev.Time
		}
		r = &AssocRow{ID: a.ID, CallingAE: a.CallingAE, CalledAE: a.CalledAE, Peer: peerText(a), Started: start}
		t.rows[a.ID] = r
	}
	if a.CallingAE != "" {
		r.CallingAE, r.CalledAE = a.CallingAE, a.CalledAE
	}
	r.LastActivity = ev.Time
	switch ev.Kind {
	case scp.AssociationAccepted:
		r.State = AssocReceiving
	case scp.AssociationRejected:
		r.State, r.Reason, r.Ended = AssocRejected, ev.Reason, ev.Time
	case scp.AssociationReleased, scp.AssociationAborted:
		r.State, r.Ended = AssocReleased, ev.Time
		if ev.Kind == scp.AssociationAborted {
			r.State, r.Reason = AssocAborted, ev.Reason
		}
		r.Instances, r.doneBytes, r.Bytes = ev.Instances, ev.Bytes, ev.Bytes
	case scp.BytesReceived:
		r.Bytes = r.doneBytes + ev.Bytes
	case scp.InstanceStored:
		r.Instances++
		r.doneBytes += ev.Bytes
		r.Bytes = r.doneBytes
	case scp.InstanceFailed:
		r.doneBytes += ev.Bytes
		r.Bytes = r.doneBytes
		r.LastError = ev.Reason
	}
}

// Rows returns the associations, newest first, dropping finished ones older
// than the history.
func (t *AssocTracker) Rows(now time.Time) []AssocRow {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]AssocRow, 0, len(t.rows))
	for id, r := range t.rows {
		if r.State.Finished() && now.Sub(r.Ended) > t.history {
			delete(t.rows, id)
			continue
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b AssocRow) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return int(int64(b.ID) - int64(a.ID))
	})
	return out
}

// Active returns the number of associations that have not ended.
func (t *AssocTracker) Active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, r := range t.rows {
		if !r.State.Finished() {
			n++
		}
	}
	return n
}

// peerText is the peer's address, with "(TLS)" for an association over
// DICOM TLS.
func peerText(a scp.AssociationInfo) string {
	if a.TLS {
		return a.RemoteAddr + " (TLS)"
	}
	return a.RemoteAddr
}
