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
	if c := done[0].Completed(); c.InstanceCount != 5 || c.SeriesCount != 2 || c.Modalities[0] != "CT" || c.CallingAE != "MODALITY" {
		t.Errorf("study-complete event: %+v", c)
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

func TestMonitorTickLogsCompletion(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StudyCompleteAfter = Duration(time.Second)
	m := NewMonitor(cfg)
	m.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	m.Apply(storedEv(1, 0, "S", "A", 10))
	m.Apply(assocEv(scp.AssociationReleased, 1, time.Second))
	if done := m.Tick(t0.Add(3 * time.Second)); len(done) != 1 {
		t.Fatalf("done = %+v", done)
	}
	if e := m.Log.Entries(slog.LevelInfo); !strings.HasPrefix(e[0].Text, "Study complete: Doe^Jane — CT HEAD, 1 instance from MODALITY") {
		t.Errorf("log: %q", e[0].Text)
	}
}
