package app

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// StudyState is the progress of a study being received.
type StudyState int

// Study states.
const (
	StudyStateReceiving StudyState = iota // instances arrive, or may still arrive
	StudyStateComplete                    // its associations ended and it stayed quiet long enough
)

// String returns "receiving" or "complete".
func (s StudyState) String() string {
	if s == StudyStateComplete {
		return "complete"
	}
	return "receiving"
}

// StudyProgress is the live progress of one study.
type StudyProgress struct {
	StudyInstanceUID string
	PatientName      string
	PatientID        string
	Description      string
	AccessionNumber  string
	StudyDate        string
	Modalities       []string // sorted, distinct
	CallingAE        string   // sender of the newest instance
	State            StudyState
	// Instances and Bytes count what arrived since the study started
	// receiving this time (not what the index held before).
	Instances     int
	Series        int
	Bytes         int64
	FirstReceived time.Time
	LastReceived  time.Time
	CompletedAt   time.Time
	// Rate is instances per second over the last few seconds.
	Rate float64
}

// rateWindow is the span the instance rate is measured over.
const rateWindow = 5 * time.Second

type studyEntry struct {
	p      StudyProgress
	series map[string]bool
	assocs map[uint64]bool // associations that sent to it and still run
	ended  time.Time       // when the last of them ended
	recent []time.Time     // receive times within rateWindow, oldest first
}

// StudyTracker follows the studies being received: a live instance count
// and rate per study, and "complete" once every association that sent to it
// has ended and it stayed quiet for the idle time. It is safe for concurrent
// use.
//
// The engine owns the tracker that decides: it feeds it every association
// and instance event and ticks it (Tick), and publishes a StudyCompleted
// event for every study that completes (studywatch.go). The window's tracker
// (Monitor) only follows: it counts the same events for the live progress
// and turns a study complete when the engine's StudyCompleted event arrives.
type StudyTracker struct {
	mu       sync.Mutex
	idle     time.Duration
	keep     time.Duration // how long complete studies stay listed
	studies  map[string]*studyEntry
	assocSeq map[uint64][]string // association -> studies it sent to
}

// NewStudyTracker returns a tracker that calls a study complete after idle
// and forgets complete studies after keep.
func NewStudyTracker(idle, keep time.Duration) *StudyTracker {
	return &StudyTracker{idle: idle, keep: keep, studies: map[string]*studyEntry{}, assocSeq: map[uint64][]string{}}
}

// SetTimes changes the idle time and how long complete studies stay.
func (t *StudyTracker) SetTimes(idle, keep time.Duration) {
	t.mu.Lock()
	t.idle, t.keep = idle, keep
	t.mu.Unlock()
}

// Apply updates the tracker with one event. A StudyCompleted event marks
// its study complete with the progress it carries (the engine's decision).
func (t *StudyTracker) Apply(ev Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev.Kind {
	case StudyCompleted:
		if ev.Completed != nil {
			t.completed(*ev.Completed, ev.Time)
		}
	case scp.InstanceStored:
		if ev.Study != nil {
			t.stored(ev)
		}
	case scp.AssociationReleased, scp.AssociationAborted:
		for _, uid := range t.assocSeq[ev.Association.ID] {
			if s := t.studies[uid]; s != nil {
				delete(s.assocs, ev.Association.ID)
				if len(s.assocs) == 0 {
					s.ended = ev.Time
				}
			}
		}
		delete(t.assocSeq, ev.Association.ID)
	}
}

func (t *StudyTracker) stored(ev Event) {
	ref := ev.Study
	s := t.studies[ref.StudyInstanceUID]
	if s == nil || s.p.State == StudyStateComplete {
		s = &studyEntry{p: StudyProgress{StudyInstanceUID: ref.StudyInstanceUID, FirstReceived: ev.Time},
			series: map[string]bool{}, assocs: map[uint64]bool{}}
		t.studies[ref.StudyInstanceUID] = s
	}
	p := &s.p
	p.PatientName, p.PatientID, p.CallingAE = ref.PatientName, ref.PatientID, ev.Association.CallingAE
	if ref.StudyDescription != "" {
		p.Description = ref.StudyDescription
	}
	if ref.AccessionNumber != "" {
		p.AccessionNumber = ref.AccessionNumber
	}
	if ref.StudyDate != "" {
		p.StudyDate = ref.StudyDate
	}
	if m := strings.TrimSpace(ref.Modality); m != "" && !slices.Contains(p.Modalities, m) {
		p.Modalities = append(p.Modalities, m)
		slices.Sort(p.Modalities)
	}
	p.Instances++
	p.Bytes += ref.SizeBytes
	p.LastReceived = ev.Time
	s.series[ref.SeriesInstanceUID] = true
	p.Series = len(s.series)
	id := ev.Association.ID
	if !s.assocs[id] {
		s.assocs[id] = true
		t.assocSeq[id] = append(t.assocSeq[id], ref.StudyInstanceUID)
	}
	s.recent = append(pruneBefore(s.recent, ev.Time.Add(-rateWindow)), ev.Time)
}

// completed marks the study of p complete at the engine's word: the entry
// takes the engine's progress (it saw every event; this tracker may have
// missed some), and is created when this tracker never saw the study.
// t.mu held.
func (t *StudyTracker) completed(p StudyProgress, at time.Time) {
	s := t.studies[p.StudyInstanceUID]
	if s != nil && s.p.State == StudyStateComplete && !s.p.CompletedAt.Before(at) {
		return // already complete (a repeated event)
	}
	if s != nil && s.p.State == StudyStateReceiving && s.p.LastReceived.After(p.LastReceived) {
		// An instance the engine counts in the study's next round reached
		// this tracker first: it stays receiving until that round completes.
		return
	}
	if s == nil {
		s = &studyEntry{series: map[string]bool{}, assocs: map[uint64]bool{}}
		t.studies[p.StudyInstanceUID] = s
	}
	p.Modalities = slices.Clone(p.Modalities)
	p.State, p.Rate = StudyStateComplete, 0
	if p.CompletedAt.IsZero() {
		p.CompletedAt = at
	}
	s.p, s.recent = p, nil
	clear(s.assocs)
}

// pruneBefore drops the times before cut from the front of ts (oldest first).
func pruneBefore(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
}

// Tick moves studies whose associations ended and that stayed quiet for the
// idle time to complete, forgets complete studies older than keep, and
// returns the studies that completed now, oldest first. Only the engine
// ticks its tracker to complete studies; the window's calls prune.
func (t *StudyTracker) Tick(now time.Time) []StudyProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	var done []StudyProgress
	for _, s := range t.studies {
		if s.p.State == StudyStateReceiving && len(s.assocs) == 0 && !s.ended.IsZero() &&
			now.Sub(later(s.ended, s.p.LastReceived)) >= t.idle {
			s.p.State, s.p.CompletedAt, s.p.Rate, s.recent = StudyStateComplete, now, 0, nil
			p := s.p
			p.Modalities = slices.Clone(p.Modalities)
			done = append(done, p)
		}
	}
	t.pruneLocked(now)
	slices.SortFunc(done, func(a, b StudyProgress) int { return a.FirstReceived.Compare(b.FirstReceived) })
	return done
}

// prune forgets complete studies older than keep; it completes nothing.
func (t *StudyTracker) prune(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
}

// pruneLocked forgets complete studies that completed more than keep
// before now. t.mu held.
func (t *StudyTracker) pruneLocked(now time.Time) {
	for uid, s := range t.studies {
		if s.p.State == StudyStateComplete && now.Sub(s.p.CompletedAt) > t.keep {
			delete(t.studies, uid)
		}
	}
}

// idleTime returns the idle time after which a study completes.
func (t *StudyTracker) idleTime() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.idle
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Get returns the progress of one study.
func (t *StudyTracker) Get(studyUID string, now time.Time) (StudyProgress, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.studies[studyUID]
	if s == nil {
		return StudyProgress{}, false
	}
	return t.snapshot(s, now), true
}

// All returns every study tracked, newest first.
func (t *StudyTracker) All(now time.Time) []StudyProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]StudyProgress, 0, len(t.studies))
	for _, s := range t.studies {
		out = append(out, t.snapshot(s, now))
	}
	slices.SortFunc(out, func(a, b StudyProgress) int { return b.FirstReceived.Compare(a.FirstReceived) })
	return out
}

// receivingUIDs returns the Study Instance UIDs of the studies still receiving.
func (t *StudyTracker) receivingUIDs() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for uid, s := range t.studies {
		if s.p.State == StudyStateReceiving {
			out = append(out, uid)
		}
	}
	return out
}

// Receiving returns the number of studies still receiving.
func (t *StudyTracker) Receiving() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.studies {
		if s.p.State == StudyStateReceiving {
			n++
		}
	}
	return n
}

// snapshot copies the progress and measures the rate at now. t.mu held.
func (t *StudyTracker) snapshot(s *studyEntry, now time.Time) StudyProgress {
	p := s.p
	p.Modalities = slices.Clone(p.Modalities)
	if p.State == StudyStateComplete {
		return p
	}
	s.recent = pruneBefore(s.recent, now.Add(-rateWindow))
	span := rateWindow
	if d := now.Sub(p.FirstReceived); d < span {
		span = max(d, time.Second)
	}
	p.Rate = float64(len(s.recent)) / span.Seconds()
	return p
}
