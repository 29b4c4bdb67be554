package app

import (
	"sync"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
)

// Event is what the hub delivers: an association event of the listener,
// plus, for a stored instance, the study it belongs to (read from its header
// by the store); or, with Kind StudyCompleted, a study the engine found
// complete.
type Event struct {
	scp.Event
	// Study is set on InstanceStored events (nil otherwise, and nil for an
	// instance stored before the store could read its header).
	Study *StudyRef
	// Completed is set on StudyCompleted events (nil otherwise): the
	// study's final progress, State StudyStateComplete.
	Completed *StudyProgress
}

// StudyCompleted is the kind of the events the engine itself adds to the
// listener's: a study is complete (no association sends to it any more and
// it stayed quiet for Config.StudyCompleteAfter; see studywatch.go).
// Event.Completed describes it and Event.Time is when it completed; the
// association fields are zero. The value is far above scp's kinds.
const StudyCompleted scp.EventKind = 1000

// StudyRef names the study (and series) of a stored instance.
type StudyRef struct {
	StudyInstanceUID  string
	SeriesInstanceUID string
	PatientName       string // decoded to UTF-8
	PatientID         string
	StudyDescription  string
	StudyDate         string // YYYYMMDD as received
	AccessionNumber   string
	Modality          string
	SizeBytes         int64 // of the stored file
}

func studyRefOf(st store.Stored) *StudyRef {
	h := st.Header
	return &StudyRef{
		StudyInstanceUID: h.StudyInstanceUID, SeriesInstanceUID: h.SeriesInstanceUID,
		PatientName: h.PatientName, PatientID: h.PatientID, StudyDescription: h.StudyDescription,
		StudyDate: h.StudyDate, AccessionNumber: h.AccessionNumber, Modality: h.Modality,
		SizeBytes: st.Size,
	}
}

// studyRefs hands the study of an instance from the handler, which learns
// it, to the InstanceStored event that follows on the same association
// goroutine (the scp server emits it right after the handler returns).
type studyRefs struct{ m sync.Map } // refKey -> *StudyRef

type refKey struct {
	assoc uint64
	sop   string
}

func (r *studyRefs) put(assoc uint64, sop string, ref *StudyRef) {
	r.m.Store(refKey{assoc, sop}, ref)
}

// take returns and forgets the study of the instance ev is about.
func (r *studyRefs) take(ev scp.Event) *StudyRef {
	if ev.Kind != scp.InstanceStored && ev.Kind != scp.InstanceFailed {
		return nil
	}
	v, ok := r.m.LoadAndDelete(refKey{ev.Association.ID, ev.SOPInstanceUID})
	if !ok || ev.Kind != scp.InstanceStored {
		return nil
	}
	return v.(*StudyRef)
}

// publish is the listener's OnEvent hook: it adds the study to the event,
// feeds the engine's study tracker (a few map updates under its mutex) and
// the Kafka lifecycle queue (an append under its mutex, lifecycle.go), so
// that no event they need can be lost, and hands the event to the hub
// without blocking.
func (e *Engine) publish(ev scp.Event) {
	out := Event{Event: ev, Study: e.refs.take(ev)}
	switch ev.Kind {
	case scp.InstanceStored, scp.AssociationReleased, scp.AssociationAborted:
		e.studies.Apply(out)
	}
	switch ev.Kind {
	case scp.AssociationRejected, scp.AssociationAborted:
		e.kafka.lifecycle(ev)
	}
	e.hub.Publish(out)
}
