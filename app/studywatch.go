package app

import (
	"context"
	"strings"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// The engine decides when a study is complete, whether a window runs or not
// (`dicominbox serve`): a study is complete when no association sends to it
// any more and Config.StudyCompleteAfter passed since its last instance or
// the end of its last association, whichever came later.
//
// The engine's StudyTracker (e.studies) is fed by the listener's event hook
// (publish, event.go) on the association goroutines: a few map updates under
// the tracker's mutex, never a wait on a channel, a subscriber or I/O. A
// watcher goroutine ticks it and, for every study that completed, logs one
// line, queues the Kafka study-complete lifecycle event (when Kafka and a
// lifecycle topic are configured) and publishes a StudyCompleted event on
// the hub, which is all the window needs to show "complete" and notify.
//
// The watcher runs from the first Start (or catalog query) until Close,
// also while the listener is stopped, so that studies whose associations
// ended before a Stop still complete. A study that has not completed when
// the engine is closed gets no study-complete event.

// completeTimeout bounds queueing one study-complete event in the outbox.
const completeTimeout = 10 * time.Second

// studyTickEvery is how often the watcher looks for complete studies: a
// tenth of the idle time, between 20 ms and 1 s.
func studyTickEvery(idle time.Duration) time.Duration {
	return min(max(idle/10, 20*time.Millisecond), time.Second)
}

// startWatchLocked starts the study watcher unless it runs. e.mu held.
func (e *Engine) startWatchLocked() {
	if e.watchStop != nil {
		return
	}
	e.watchStop, e.watchDone = make(chan struct{}), make(chan struct{})
	go e.watchStudies(e.watchStop, e.watchDone)
}

// watchOrLost is what a catalog query does first, under one lock: it
// returns the error of a storage folder that went away (folderwatch.go),
// else starts the watcher unless it runs or the engine is closing, so that
// a window that only browses (not listening yet) also notices a folder
// that goes away.
func (e *Engine) watchOrLost() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lost != nil {
		return e.lost.err
	}
	if !e.closing {
		e.startWatchLocked()
	}
	return nil
}

// stopWatch stops the study watcher and waits for it (Close).
func (e *Engine) stopWatch() {
	e.mu.Lock()
	stop, done := e.watchStop, e.watchDone
	e.watchStop, e.watchDone = nil, nil
	e.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// watchStudies ticks the engine's study tracker, and checks that the
// storage folder is still there (folderwatch.go), until stop is closed.
func (e *Engine) watchStudies(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(studyTickEvery(e.studies.idleTime()))
	defer t.Stop()
	folder := time.NewTicker(e.folderEvery)
	defer folder.Stop()
	for {
		select {
		case <-stop:
			return
		case <-folder.C:
			e.checkFolder()
		case <-t.C:
			for _, p := range e.studies.Tick(time.Now()) {
				e.studyComplete(p)
			}
			t.Reset(studyTickEvery(e.studies.idleTime()))
		}
	}
}

// studyComplete logs a study that completed, queues its lifecycle event and
// tells the hub's subscribers (the window).
func (e *Engine) studyComplete(p StudyProgress) {
	e.log.Info("study complete", "study_instance_uid", p.StudyInstanceUID, "instances", p.Instances,
		"series", p.Series, "bytes", p.Bytes, "modalities", strings.Join(p.Modalities, ","),
		"calling_ae", p.CallingAE, "receiving_for", p.LastReceived.Sub(p.FirstReceived).Round(time.Millisecond).String())
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	err := e.queueStudyComplete(ctx, p)
	cancel()
	if err != nil {
		e.log.Warn("kafka: study-complete event not queued", "study_instance_uid", p.StudyInstanceUID, "err", err)
	}
	e.hub.Publish(Event{Event: scp.Event{Kind: StudyCompleted, Time: p.CompletedAt}, Completed: &p})
}
