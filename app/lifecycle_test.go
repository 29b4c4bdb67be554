package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/forward"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// TestKafkaLifecycleRejectedFlood: a burst of rejected associations, far
// more than a hub subscriber's buffer holds, gives exactly one
// association-rejected lifecycle event per association.
func TestKafkaLifecycleRejectedFlood(t *testing.T) {
	const n = 400
	_, broker := startKfake(t, 0)
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.LifecycleTopic = testLifecycleTopic
	cfg.MaxAssociations = 4 // rejections for the limit are rejections too
	e, addr := startKafkaEngine(t, cfg, time.Second, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := scp.Dial(ctx, addr, scp.DialConfig{CallingAE: "FLOOD", CalledAE: "WRONG", Contexts: []scp.ProposedContext{
				{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
			var rj *scp.RejectedError
			if !errors.As(err, &rj) {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("association not rejected: %v", err)
	}

	var byID map[string]kafka.Message
	waitFor(t, 60*time.Second, "one lifecycle event per rejected association", func() bool {
		if e.Kafka().Backlog != 0 {
			return false
		}
		byID, _ = dedupe(t, drainTopic(t, broker, testLifecycleTopic))
		return len(byID) >= n
	}, stateOf(e))
	assocs := map[uint64]bool{}
	for _, m := range byID {
		var ev forward.LifecycleEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.EventType != forward.TypeAssociationRejected || ev.CallingAE != "FLOOD" {
			t.Errorf("unexpected lifecycle event %+v", ev)
		}
		assocs[ev.AssociationID] = true
	}
	if len(byID) != n || len(assocs) != n {
		t.Errorf("%d lifecycle events for %d associations, want %d", len(byID), len(assocs), n)
	}
	if q := e.kafka.lc.Load(); q == nil || q.Dropped() != 0 {
		t.Errorf("lifecycle queue %v dropped events", q)
	}
}

// TestLifecycleQueueBound: beyond its bound the queue drops (and counts)
// events instead of growing; events without a lifecycle event are not
// queued at all.
func TestLifecycleQueueBound(t *testing.T) {
	// No drainer: the queue only fills.
	q := &lifecycleQueue{log: testLogger(t, 0), max: 3, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for i := range 10 {
		q.add(scp.Event{Kind: scp.AssociationRejected, Association: scp.AssociationInfo{ID: uint64(i)}})
		q.add(scp.Event{Kind: scp.AssociationReleased, Association: scp.AssociationInfo{ID: uint64(i)}})
	}
	if len(q.pending) != 3 || q.Dropped() != 7 {
		t.Errorf("%d pending, %d dropped; want 3 and 7", len(q.pending), q.Dropped())
	}
	for i, ev := range q.pending {
		if ev.Association.ID != uint64(i) {
			t.Errorf("pending[%d] is association %d", i, ev.Association.ID)
		}
	}
}
