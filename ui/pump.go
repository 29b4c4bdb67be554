package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
)

// pumpBuffer is the room of the pump's hub subscription: events beyond it
// are dropped by the hub (never blocking the network) and counted.
const pumpBuffer = 4096

// runPump is the window's one event pump: it feeds every hub event to the
// models at once, and at most every refreshEvery hands one coalesced
// refresh to the UI goroutine. Studies complete when the engine says so (a
// StudyCompleted event, or its tracker when the hub dropped events for the
// window: catchUp); the ticks only forget old ones. It returns when
// done closes.
func (w *mainWindow) runPump(done <-chan struct{}) {
	hub := w.engine.Events()
	events, unsub := hub.Subscribe(pumpBuffer)
	defer unsub()
	dropped := hub.Dropped()
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	var u liveUpdate
	dirty := false
	idle := 0
	for {
		select {
		case <-done:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			w.mon.Apply(ev)
			u.note(ev)
			dirty = true
		case <-t.C:
			now := w.opts.now()
			if c := w.catchUp(hub, &dropped); len(c) > 0 {
				u.completed = append(u.completed, c...)
				dirty = true
			}
			w.mon.Tick(now)
			idle++
			// Rates and durations move while anything runs: refresh once a
			// second even without events then.
			if !dirty && (idle < int(time.Second/refreshEvery) ||
				w.mon.Assocs.Active() == 0 && w.mon.Studies.Receiving() == 0) {
				continue
			}
			send := u
			u, dirty, idle = liveUpdate{}, false, 0
			fyne.Do(func() { w.refreshLive(now, &send) })
		}
	}
}

// catchUp: when the hub dropped events since *dropped (the window fell
// behind), a study may have completed unseen; the engine's tracker says
// which, and those complete here too. It returns them.
func (w *mainWindow) catchUp(hub *app.Hub, dropped *uint64) []app.StudyProgress {
	d := hub.Dropped()
	if d == *dropped {
		return nil
	}
	*dropped = d
	return w.mon.CatchUp(w.engine.StudyProgress)
}

// liveUpdate is what changed since the last refresh.
type liveUpdate struct {
	stored   bool // an instance was stored: the study list and counts change
	assocEnd bool // an association ended
	// completed are the studies the engine found complete.
	completed []app.StudyProgress
}

func (u *liveUpdate) note(ev app.Event) {
	switch ev.Kind {
	case scp.InstanceStored:
		u.stored = true
	case scp.AssociationReleased, scp.AssociationAborted, scp.AssociationRejected:
		u.assocEnd = true
	case app.StudyCompleted:
		if ev.Completed != nil {
			u.completed = append(u.completed, *ev.Completed)
		}
	}
}

// apply feeds one event to the models and refreshes the window at once. It
// is what the tests call on the UI (test) goroutine instead of the pump.
func (w *mainWindow) apply(ev app.Event) {
	w.mon.Apply(ev)
	var u liveUpdate
	u.note(ev)
	w.refreshLive(w.opts.now(), &u)
}

// tick forgets old complete studies at now and refreshes (tests).
func (w *mainWindow) tick(now time.Time) {
	w.mon.Tick(now)
	w.refreshLive(now, &liveUpdate{})
}

// refreshLive renders the models: associations, study progress, activity
// log, status line; reloads the study page when instances arrived; and
// announces completed studies. UI goroutine only; u may be nil.
func (w *mainWindow) refreshLive(now time.Time, u *liveUpdate) {
	w.assocs.update(now)
	w.activity.update()
	w.refresh()
	if u == nil {
		w.studies.showProgress(now)
		return
	}
	if u.stored || len(u.completed) > 0 {
		w.studies.reload()
		w.stats.reload()
	}
	w.studies.showProgress(now)
	for _, s := range u.completed {
		w.studyCompleted(s)
	}
}

// studyCompleted reacts to a study the engine found complete: a desktop
// notification when the settings ask for one. (The engine itself logs it
// and queues its Kafka lifecycle event.)
func (w *mainWindow) studyCompleted(s app.StudyProgress) {
	if w.engine.Config().NotifyStudyComplete {
		w.app.SendNotification(fyne.NewNotification("Study received", studyLine(s)))
	}
}

// studyLine describes a study in one line for a notification.
func studyLine(s app.StudyProgress) string {
	who := personName(s.PatientName)
	if who == "" {
		who = s.PatientID
	}
	if s.Description != "" {
		who += " — " + s.Description
	}
	return who + ": " + plural(s.Instances, "instance", "instances") + " from " + s.CallingAE
}
