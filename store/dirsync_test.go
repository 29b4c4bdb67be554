package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDirSyncerCoalesces checks that concurrent callers share fsyncs, and
// that every caller returns only after an fsync that started after its call.
func TestDirSyncerCoalesces(t *testing.T) {
	var clock atomic.Int64 // logical time
	type span struct{ start, end int64 }
	var mu sync.Mutex
	var spans []span
	d := newDirSyncer()
	d.fsync = func(dir string) error {
		start := clock.Add(1)
		time.Sleep(5 * time.Millisecond)
		end := clock.Add(1)
		mu.Lock()
		spans = append(spans, span{start, end})
		mu.Unlock()
		return nil
	}
	const callers = 64
	calls := make([]span, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			time.Sleep(time.Duration(i%8) * time.Millisecond)
			calls[i].start = clock.Add(1)
			if err := d.sync("/x"); err != nil {
				t.Error(err)
			}
			calls[i].end = clock.Add(1)
		})
	}
	wg.Wait()
	if len(spans) >= callers/2 {
		t.Errorf("%d fsyncs for %d callers: not coalesced", len(spans), callers)
	}
	for i, c := range calls {
		ok := false
		for _, s := range spans {
			ok = ok || (s.start > c.start && s.end < c.end)
		}
		if !ok {
			t.Errorf("caller %d (%d..%d) returned without an fsync that started after its call", i, c.start, c.end)
		}
	}
	if len(d.state) != 0 {
		t.Errorf("state left behind: %v", d.state)
	}
	t.Logf("%d callers, %d fsyncs", callers, len(spans))
}

func TestDirSyncerErrorsReachTheBatch(t *testing.T) {
	d := newDirSyncer()
	boom := errors.New("boom")
	d.fsync = func(string) error { time.Sleep(2 * time.Millisecond); return boom }
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := d.sync("/y"); !errors.Is(err, boom) {
				t.Errorf("err %v", err)
			}
		})
	}
	wg.Wait()
}

func TestDirSyncerSeparatesDirectories(t *testing.T) {
	d := newDirSyncer()
	var mu sync.Mutex
	seen := map[string]int{}
	d.fsync = func(dir string) error { mu.Lock(); seen[dir]++; mu.Unlock(); return nil }
	for _, dir := range []string{"/a", "/b", "/a"} {
		if err := d.sync(dir); err != nil {
			t.Fatal(err)
		}
	}
	if seen["/a"] != 2 || seen["/b"] != 1 {
		t.Errorf("fsyncs %v", seen)
	}
}
