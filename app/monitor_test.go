package app

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

var t0 = time.Date(2025, 5, 6, 10, 0, 0, 0, time.UTC)

func assocEv(kind scp.EventKind, id uint64, at time.Duration) Event {
	return Event{Event: scp.Event{Kind: kind, Time: t0.Add(at), Association: scp.AssociationInfo{
		ID: id, CallingAE: "MODALITY", CalledAE: "INBOX", RemoteAddr: "127.0.0.1:4000", StartedAt: t0.Add(at)}}}
}

func storedEv(id uint64, at time.Duration, study, series string, size int64) Event {
	ev := assocEv(scp.InstanceStored, id, at)
	ev.Bytes = size
	ev.Study = &StudyRef{StudyInstanceUID: study, SeriesInstanceUID: series, PatientName: "Doe^Jane", PatientID: "P1",
		StudyDescription: "CT HEAD", Modality: "CT", SizeBytes: size + 300}
	return ev
}

func TestAssocTracker(t *testing.T) {
	tr := NewAssocTracker(time.Minute)
	tr.Apply(assocEv(scp.AssociationRequested, 1, 0))
	if rows := tr.Rows(t0); len(rows) != 1 || rows[0].State != AssocNegotiating {
		t.Fatalf("rows after request: %+v", rows)
	}
	tr.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	tr.Apply(storedEv(1, time.Second, "S", "SE", 1000))
	p := assocEv(scp.BytesReceived, 1, 2*time.Second)
	p.Bytes = 500
	tr.Apply(p)
	r := tr.Rows(t0.Add(2 * time.Second))[0]
	if r.State != AssocReceiving || r.Instances != 1 || r.Bytes != 1500 || r.Throughput(t0.Add(2*time.Second)) != 750 {
		t.Fatalf("running row: %+v", r)
	}
	f := assocEv(scp.InstanceFailed, 1, 3*time.Second)
	f.Bytes, f.Reason = 600, "storage disk nearly full"
	tr.Apply(f)
	tr.Apply(assocEv(scp.AssociationRequested, 2, 4*time.Second))
	rj := assocEv(scp.AssociationRejected, 2, 4*time.Second)
	rj.Reason = `called AE title "WRONG" not recognised`
	tr.Apply(rj)
	rel := assocEv(scp.AssociationReleased, 1, 5*time.Second)
	rel.Bytes, rel.Instances = 1600, 1
	tr.Apply(rel)
	if tr.Active() != 0 {
		t.Errorf("active = %d, want 0", tr.Active())
	}
	rows := tr.Rows(t0.Add(5 * time.Second))
	if len(rows) != 2 || rows[0].ID != 2 || rows[1].ID != 1 {
		t.Fatalf("rows not newest first: %+v", rows)
	}
	if rows[0].State != AssocRejected || !strings.Contains(rows[0].Reason, "WRONG") {
		t.Errorf("rejected row: %+v", rows[0])
	}
	if r := rows[1]; r.State != AssocReleased || r.Bytes != 1600 || r.LastError != "storage disk nearly full" || r.Duration(t0.Add(time.Hour)) != 5*time.Second {
		t.Errorf("released row: %+v", r)
	}
	if rows := tr.Rows(t0.Add(5*time.Second + time.Minute + time.Millisecond)); len(rows) != 0 {
		t.Errorf("finished rows kept past the history: %+v", rows)
	}
}

func TestStudyTrackerCompletes(t *testing.T) {
	st := NewStudyTracker(10*time.Second, time.Minute)
	st.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	for i := range 5 {
		st.Apply(storedEv(1, time.Duration(i)*time.Second, "S", []string{"A", "B"}[i%2], 100))
	}
	p, ok := st.Get("S", t0.Add(4*time.Second))
	if !ok || p.State != StudyStateReceiving || p.Instances != 5 || p.Series != 2 || p.Bytes != 5*400 || p.Rate != 1.25 {
		t.Fatalf("progress: %+v", p)
	}
	if done := st.Tick(t0.Add(time.Hour)); len(done) != 0 {
		t.Fatalf("completed while its association runs: %+v", done)
	}
	st.Apply(assocEv(scp.AssociationReleased, 1, 6*time.Second))
	if done := st.Tick(t0.Add(15 * time.Second)); len(done) != 0 {
		t.Fatalf("completed before the idle time: %+v", done)
	}
	done := st.Tick(t0.Add(16 * time.Second))
	if len(done) != 1 || done[0].StudyInstanceUID != "S" || done[0].State != StudyStateComplete {
		t.Fatalf("not complete after idle: %+v", done)
	}
	if c := done[0]; c.Instances != 5 || c.Series != 2 || len(c.Modalities) != 1 || c.Modalities[0] != "CT" ||
		c.CallingAE != "MODALITY" || !c.CompletedAt.Equal(t0.Add(16*time.Second)) {
		t.Errorf("completed study: %+v", c)
	}
	if done := st.Tick(t0.Add(17 * time.Second)); len(done) != 0 {
		t.Errorf("completed twice: %+v", done)
	}
	// More instances later: receiving again, counted afresh.
	st.Apply(storedEv(2, 30*time.Second, "S", "C", 100))
	if p, _ := st.Get("S", t0.Add(30*time.Second)); p.State != StudyStateReceiving || p.Instances != 1 {
		t.Errorf("after a late instance: %+v", p)
	}
	if st.Receiving() != 1 || len(st.All(t0)) != 1 {
		t.Errorf("receiving %d, all %d", st.Receiving(), len(st.All(t0)))
	}
	// Complete studies are forgotten after keep.
	st.Apply(assocEv(scp.AssociationAborted, 2, 31*time.Second))
	st.Tick(t0.Add(time.Minute))
	st.Tick(t0.Add(3 * time.Minute))
	if _, ok := st.Get("S", t0); ok {
		t.Error("complete study kept past keep")
	}
}

func TestActivityLog(t *testing.T) {
	l := NewActivityLog(4)
	l.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	for i := range 3 {
		l.Apply(storedEv(1, time.Duration(i)*time.Second, "S", "A", 1000))
	}
	rj := assocEv(scp.AssociationRejected, 2, 4*time.Second)
	rj.Reason = `called AE title "WRONG" not recognised`
	l.Apply(rj)
	f := assocEv(scp.InstanceFailed, 1, 5*time.Second)
	f.Reason, f.Status = "could not write the file", 0xA700
	l.Apply(f)
	all := l.Entries(slog.LevelInfo)
	if len(all) != 4 {
		t.Fatalf("entries: %+v", all)
	}
	want := []string{"Failed to store an instance from MODALITY", "Rejected association from MODALITY", "Stored 3 instances (3.9 kB) of Doe^Jane — CT HEAD from MODALITY", "Accepted association"}
	for i, w := range want {
		if !strings.Contains(all[i].Text, w) {
			t.Errorf("entry %d = %q, want it to contain %q", i, all[i].Text, w)
		}
	}
	if e := l.Entries(slog.LevelWarn); len(e) != 2 || e[0].Level != slog.LevelError {
		t.Errorf("warn and above: %+v", e)
	}
	if e := l.Entries(slog.LevelError); len(e) != 1 || !strings.Contains(e[0].Text, "A700") {
		t.Errorf("errors: %+v", e)
	}
	// The ring keeps the newest 4.
	v := l.Version()
	l.Apply(assocEv(scp.AssociationAccepted, 3, 6*time.Second))
	l.Apply(assocEv(scp.AssociationAccepted, 4, 7*time.Second))
	if l.Version() == v {
		t.Error("version did not change")
	}
	all = l.Entries(slog.LevelInfo)
	if len(all) != 4 || !strings.Contains(all[3].Text, "Rejected") {
		t.Errorf("after wrap: %+v", all)
	}
	// A stored run that left the ring starts a new entry.
	l.Apply(storedEv(1, 8*time.Second, "S", "A", 1000))
	if all = l.Entries(slog.LevelInfo); !strings.Contains(all[0].Text, "Stored 4 instances") {
		t.Errorf("stored run after wrap: %q", all[0].Text)
	}
}

// TestMonitorFollowsEngineCompletion: the window's models never complete a
// study by themselves; the engine's StudyCompleted event completes it (with
// the engine's counts) and is logged.
func TestMonitorFollowsEngineCompletion(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StudyCompleteAfter = Duration(time.Second)
	m := NewMonitor(cfg)
	m.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	m.Apply(storedEv(1, 0, "S", "A", 10))
	m.Apply(assocEv(scp.AssociationReleased, 1, time.Second))
	m.Tick(t0.Add(time.Hour))
	if p, ok := m.Studies.Get("S", t0.Add(time.Hour)); !ok || p.State != StudyStateReceiving {
		t.Fatalf("the monitor completed a study by itself: %+v (present %v)", p, ok)
	}

	// The engine's tracker, fed the same events, decides.
	engine := NewStudyTracker(time.Second, 0)
	engine.Apply(storedEv(1, 0, "S", "A", 10))
	engine.Apply(storedEv(1, 0, "S", "B", 10)) // the monitor missed this one
	engine.Apply(assocEv(scp.AssociationReleased, 1, time.Second))
	done := engine.Tick(t0.Add(2 * time.Second))
	if len(done) != 1 {
		t.Fatalf("engine tracker: %+v", done)
	}
	ev := Event{Event: scp.Event{Kind: StudyCompleted, Time: done[0].CompletedAt}, Completed: &done[0]}
	m.Apply(ev)
	p, ok := m.Studies.Get("S", t0.Add(2*time.Second))
	if !ok || p.State != StudyStateComplete || p.Instances != 2 || p.Series != 2 || !p.CompletedAt.Equal(t0.Add(2*time.Second)) {
		t.Errorf("after the engine's event: %+v", p)
	}
	if e := m.Log.Entries(slog.LevelInfo); !strings.HasPrefix(e[0].Text, "Study complete: Doe^Jane — CT HEAD, 2 instances from MODALITY") {
		t.Errorf("log: %q", e[0].Text)
	}
	if rows := m.Assocs.Rows(t0.Add(2 * time.Second)); len(rows) != 1 {
		t.Errorf("the study event made an association row: %+v", rows)
	}
	// A repeated event changes nothing.
	m.Apply(ev)
	if q, _ := m.Studies.Get("S", t0.Add(3*time.Second)); q.Instances != 2 || q.State != StudyStateComplete {
		t.Errorf("after a repeated event: %+v", q)
	}
	// An instance of the study's next round that reached the monitor before
	// the engine's event for the previous round keeps it receiving.
	engine.Apply(storedEv(2, 10*time.Second, "U", "A", 10))
	engine.Apply(assocEv(scp.AssociationReleased, 2, 11*time.Second))
	m.Apply(storedEv(2, 10*time.Second, "U", "A", 10))
	m.Apply(assocEv(scp.AssociationReleased, 2, 11*time.Second))
	first := engine.Tick(t0.Add(12 * time.Second))
	engine.Apply(storedEv(3, 13*time.Second, "U", "A", 10)) // the next round
	m.Apply(storedEv(3, 13*time.Second, "U", "A", 10))      // seen before the event
	m.Apply(Event{Event: scp.Event{Kind: StudyCompleted, Time: first[0].CompletedAt}, Completed: &first[0]})
	if q, _ := m.Studies.Get("U", t0.Add(13*time.Second)); q.State != StudyStateReceiving {
		t.Errorf("a study receiving its next round was completed by the previous round's event: %+v", q)
	}
	// A study the monitor never saw appears complete.
	other := StudyProgress{StudyInstanceUID: "T", Instances: 3, CallingAE: "X", FirstReceived: t0, LastReceived: t0}
	m.Apply(Event{Event: scp.Event{Kind: StudyCompleted, Time: t0.Add(5 * time.Second)}, Completed: &other})
	if q, ok := m.Studies.Get("T", t0.Add(5*time.Second)); !ok || q.State != StudyStateComplete || q.Instances != 3 {
		t.Errorf("unseen study: %+v (present %v)", q, ok)
	}
	// Complete studies are forgotten after the history.
	m.Tick(t0.Add(5*time.Second + time.Duration(cfg.AssociationHistory) + time.Second))
	if _, ok := m.Studies.Get("T", t0); ok {
		t.Error("complete study kept past the history")
	}
}

// TestMonitorCatchUp: after the hub dropped events, the window asks the
// engine's tracker; a study the engine completed unseen turns complete (with
// the engine's counts), one still receiving there stays receiving.
func TestMonitorCatchUp(t *testing.T) {
	m := NewMonitor(DefaultConfig())
	engine := NewStudyTracker(time.Second, time.Hour)
	for _, ev := range []Event{assocEv(scp.AssociationAccepted, 1, 0), storedEv(1, 0, "S", "A", 10),
		storedEv(1, 0, "U", "A", 10), assocEv(scp.AssociationAccepted, 2, 0), storedEv(2, 0, "V", "A", 10)} {
		m.Apply(ev)
		engine.Apply(ev)
	}
	engine.Apply(storedEv(1, 0, "S", "B", 10)) // the monitor missed it
	engine.Apply(assocEv(scp.AssociationReleased, 1, time.Second))
	if done := engine.Tick(t0.Add(3 * time.Second)); len(done) != 2 { // S and U; V's association runs
		t.Fatalf("engine completed %+v", done)
	}
	// The StudyCompleted events never reached the monitor.
	got := m.CatchUp(func(uid string) (StudyProgress, bool) { return engine.Get(uid, t0.Add(3*time.Second)) })
	if len(got) != 2 {
		t.Fatalf("CatchUp completed %d studies, want 2 (S and U): %+v", len(got), got)
	}
	if p, _ := m.Studies.Get("S", t0.Add(3*time.Second)); p.State != StudyStateComplete || p.Instances != 2 || p.Series != 2 {
		t.Errorf("S after CatchUp: %+v", p)
	}
	if p, _ := m.Studies.Get("V", t0.Add(3*time.Second)); p.State != StudyStateReceiving {
		t.Errorf("V (its association still runs) after CatchUp: %+v", p)
	}
	if n := m.Studies.Receiving(); n != 1 {
		t.Errorf("%d studies receiving after CatchUp, want 1", n)
	}
	if got := m.CatchUp(func(uid string) (StudyProgress, bool) { return engine.Get(uid, t0.Add(3*time.Second)) }); len(got) != 0 {
		t.Errorf("a second CatchUp completed %+v again", got)
	}
}
