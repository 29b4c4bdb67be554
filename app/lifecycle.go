package app

import (
	"context"
	"log/slog"
	"sync"

	"github.com/dicominbox/dicominbox/app/forward"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store/index"
)

// The association lifecycle events (association rejected, association
// aborted) are fed by the listener's event hook (Engine.publish) on the
// association goroutines, not through the hub, whose subscribers lose events
// when they fall behind. The hook only appends the event to an in-memory
// queue under a mutex and wakes the one goroutine that drains it into the
// outbox: it never waits for the index writer, a channel or I/O.
//
// Memory: the queue is bounded by maxPendingLifecycle events (each a few
// hundred bytes: about 30 MB at most). Under normal load it holds a handful
// of events: the drainer writes them to the outbox in parallel, so that the
// index writer group-commits them, far faster than associations can be
// rejected. Only a flood of rejected or aborted associations that outpaces
// the index for long (a disk that stalls, a port scanner hammering the
// listener) can fill it; the events beyond the bound are dropped, counted
// (lifecycleQueue.Dropped) and logged at error level, rather than letting
// the flood grow memory without bound.

// maxPendingLifecycle bounds the lifecycle events waiting for the outbox.
const maxPendingLifecycle = 1 << 16

// lifecycleParallel is how many events the drainer hands the index writer at
// once (it group-commits concurrent requests).
const lifecycleParallel = 64

// lifecycleQueue carries association lifecycle events from the listener's
// event hook to the outbox.
type lifecycleQueue struct {
	b   *forward.Builder
	idx *index.DB
	log *slog.Logger
	max int

	mu      sync.Mutex
	pending []scp.Event
	closed  bool
	dropped uint64

	wake chan struct{} // capacity 1: "pending is not empty or closed is set"
	done chan struct{} // closed when the drainer has returned
}

// newLifecycleQueue starts the drainer of a queue that writes into idx.
func newLifecycleQueue(b *forward.Builder, idx *index.DB, log *slog.Logger) *lifecycleQueue {
	q := &lifecycleQueue{b: b, idx: idx, log: log, max: maxPendingLifecycle,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.drain()
	return q
}

// add queues the lifecycle event of ev, if it has one. It never blocks: it
// takes the queue's mutex for an append. Beyond the bound the event is
// dropped, counted and logged.
func (q *lifecycleQueue) add(ev scp.Event) {
	if _, _, ok := lifecycleOf(ev); !ok {
		return
	}
	q.mu.Lock()
	if q.closed {
		q.dropped++
		n := q.dropped
		q.mu.Unlock()
		q.log.Error("kafka: lifecycle event dropped: forwarding has stopped", "kind", ev.Kind.String(),
			"association", ev.Association.ID, "dropped_total", n)
		return
	}
	if len(q.pending) >= q.max {
		q.dropped++
		n := q.dropped
		q.mu.Unlock()
		if n == 1 || n%1000 == 0 {
			q.log.Error("kafka: lifecycle events dropped: too many waiting for the outbox", "limit", q.max,
				"dropped_total", n)
		}
		return
	}
	q.pending = append(q.pending, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Dropped returns how many lifecycle events were dropped.
func (q *lifecycleQueue) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// close stops taking events, waits until those queued are in the outbox (or
// failed) and the drainer has returned. The index must still be open.
func (q *lifecycleQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}

// drain writes the queued events into the outbox until the queue is closed
// and empty.
func (q *lifecycleQueue) drain() {
	defer close(q.done)
	var batch []scp.Event
	for range q.wake {
		for {
			q.mu.Lock()
			batch, q.pending = q.pending, batch[:0]
			closed := q.closed
			q.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			q.write(batch)
			clear(batch) // no strings kept alive by the reused array
			if cap(batch) > 1024 {
				batch = nil // a flood is over: give its memory back
			}
		}
	}
}

// write queues the lifecycle events of batch in the outbox, up to
// lifecycleParallel at a time, and waits for them.
func (q *lifecycleQueue) write(batch []scp.Event) {
	sem := make(chan struct{}, lifecycleParallel)
	var wg sync.WaitGroup
	for _, ev := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func(ev scp.Event) {
			defer func() { <-sem; wg.Done() }()
			q.write1(ev)
		}(ev)
	}
	wg.Wait()
}

// write1 queues the lifecycle event of ev in the outbox.
func (q *lifecycleQueue) write1(ev scp.Event) {
	typ, le, ok := lifecycleOf(ev)
	if !ok {
		return
	}
	m, err := q.b.Lifecycle(typ, ev.Association.CallingAE, ev.Association.CallingAE, ev.Time, le)
	if err == nil {
		_, err = q.idx.EnqueueOutbox(context.Background(), m)
	}
	if err != nil {
		q.log.Error("kafka: lifecycle event not queued", "type", typ, "association", ev.Association.ID, "err", err)
	}
}
