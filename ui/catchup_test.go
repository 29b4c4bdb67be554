package ui

import (
	"testing"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
)

// When the hub dropped events for the window, the pump asks the engine's
// tracker: a study whose StudyCompleted event was lost turns complete (and
// is returned for the notification); without drops it asks nothing.
func TestCatchUpAfterDroppedEvents(t *testing.T) {
	e := newFakeEngine()
	w, _ := newTestWindow(t, e)
	s := ev(scp.InstanceStored, 1, "CT_SCANNER", "INBOX", 0)
	s.Study = &app.StudyRef{StudyInstanceUID: "1.2.3.1", SeriesInstanceUID: "1.2.3.1.1", PatientID: "H31EXAMPLE", SizeBytes: 1000}
	w.apply(s)
	if n := w.mon.Studies.Receiving(); n != 1 {
		t.Fatalf("%d studies receiving, want 1", n)
	}
	e.catalogStub.mu.Lock()
	e.progress = map[string]app.StudyProgress{"1.2.3.1": {StudyInstanceUID: "1.2.3.1", PatientID: "H31EXAMPLE",
		Instances: 7, State: app.StudyStateComplete, CompletedAt: testNow, FirstReceived: testNow, LastReceived: testNow}}
	e.catalogStub.mu.Unlock()

	hub := e.Events()
	dropped := hub.Dropped()
	if got := w.catchUp(hub, &dropped); got != nil {
		t.Fatalf("caught up %+v without any dropped event", got)
	}
	// A subscriber without room: the hub drops the event for it.
	_, unsub := hub.Subscribe(0)
	hub.Publish(ev(scp.AssociationAccepted, 2, "CT_SCANNER", "INBOX", 0))
	unsub()
	got := w.catchUp(hub, &dropped)
	if len(got) != 1 || got[0].StudyInstanceUID != "1.2.3.1" {
		t.Fatalf("caught up %+v, want study 1.2.3.1", got)
	}
	if p, ok := w.mon.Studies.Get("1.2.3.1", testNow); !ok || p.State != app.StudyStateComplete || p.Instances != 7 {
		t.Errorf("study after catching up: %+v", p)
	}
	if got := w.catchUp(hub, &dropped); got != nil {
		t.Errorf("caught up again: %+v", got)
	}
}
