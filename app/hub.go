package app

import (
	"sync"
	"sync/atomic"
)

// Hub fans engine events out to subscribers without ever blocking the
// network: a subscriber that falls behind loses events (counted), it never
// slows an association down.
type Hub struct {
	mu      sync.RWMutex
	subs    map[*subscriber]struct{}
	dropped atomic.Uint64
}

type subscriber struct{ ch chan Event }

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[*subscriber]struct{})} }

// Subscribe returns a channel with room for buffer events and a function
// that unsubscribes and closes it.
func (h *Hub) Subscribe(buffer int) (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, buffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.ch)
		})
	}
}

// Publish delivers e to every subscriber that has room. It never blocks.
func (h *Hub) Publish(e Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		select {
		case s.ch <- e:
		default:
			h.dropped.Add(1)
		}
	}
}

// Dropped returns how many events subscribers were too slow to take.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }
