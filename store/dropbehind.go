package store

import (
	"os"
	"sync"
	"time"
)

// Drop-behind: once a stored file's data is on disk, its pages leave the
// page cache, so that receiving does not fill memory with files nobody may
// read soon, and the next instances are written into pages just freed
// instead of fresh ones. On the test VM, touching memory the host has taken
// back costs ~2 ms of system time per MB (DESIGN.md); there, case a (400 CT
// of 0.5 MB, one association) ran at 462-523 inst/s with drop-behind against
// 321-355 without, interleaved (4 pairs), receiver system time 1.9-2.1 vs
// 2.9-3.1 ms per instance. On a machine whose memory is its own the gain is
// smaller; what it costs there is that a viewer opening a study just
// received reads it from disk. Options.KeepPageCache turns it off.
//
// Only pages that are clean are dropped (posix_fadvise POSIX_FADV_DONTNEED
// skips dirty pages and pages under writeback; it starts the writeback of
// dirty ones without waiting for it), so no data is ever lost. The drops on
// an instance's own path (chunks while it arrives, the file after its
// fsync) never wait for the disk; the background goroutine waits for a
// file's writeback before its drop. Files under 256 KiB (earlyWritebackMin),
// whose tree copy is written back only by the journal's checkpoint, are
// left alone.

// dropDelay is how long after a journaled file (or, without Sync, any file
// from 256 KiB up) is in the tree its pages are dropped: the writeback
// started when its record became durable (startJournaledWriteback), or at
// the end of Ingest without Sync, has finished by then.
const dropDelay = 200 * time.Millisecond

// dropQueueLen bounds the files waiting for their drop; past it a file
// keeps its pages (the kernel reclaims them when it needs to).
const dropQueueLen = 4096

// dropper drops the page cache of the files dropLater queues dropDelay
// after they were stored, on its own goroutine.
type dropper struct {
	queue    chan pendingDrop
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type pendingDrop struct {
	path string
	at   time.Time
}

// KeepsPageCache reports whether the store was opened with
// Options.KeepPageCache (stored files keep their pages).
func (s *Store) KeepsPageCache() bool { return s.opt.KeepPageCache }

// dropBehind reports whether this store drops the pages of stored files.
// Without Sync (benchmarks) it starts their writeback itself, so that
// --no-sync shows what the fsyncs cost and nothing else.
func (s *Store) dropBehind() bool { return !s.opt.KeepPageCache }

func (s *Store) startDropper() {
	d := &dropper{queue: make(chan pendingDrop, dropQueueLen), stop: make(chan struct{}), done: make(chan struct{})}
	s.drops = d
	go func() {
		defer close(d.done)
		t := time.NewTimer(time.Hour)
		t.Stop()
		for {
			var p pendingDrop
			select {
			case p = <-d.queue:
			case <-d.stop:
				return
			}
			if wait := time.Until(p.at.Add(dropDelay)); wait > 0 {
				t.Reset(wait)
				select {
				case <-t.C:
				case <-d.stop:
					return
				}
			}
			if f, err := os.Open(p.path); err == nil {
				// Its writeback started at most dropDelay ago; on a busy
				// disk it may still run: wait for it here, off every
				// instance's path, so that every page is clean.
				awaitWriteback(f)
				dropPages(f, 0, 0)
				f.Close()
			}
		}
	}()
}

// stopDropper ends the goroutine (once; Close may be called again); the
// files still queued keep their pages. s.drops stays set: a late dropLater
// only fills the queue nobody reads.
func (s *Store) stopDropper() {
	if s.drops == nil {
		return
	}
	s.drops.stopOnce.Do(func() { close(s.drops.stop) })
	<-s.drops.done
}

// dropSynced drops the pages of f, fsynced just now (all of them are clean).
func (s *Store) dropSynced(f *os.File) {
	if s.dropBehind() {
		dropPages(f, 0, 0)
	}
}

// writeBackForDrop starts the writeback of a file of size bytes that is not
// fsynced (without Sync), so that dropPlaced finds it written.
func (s *Store) writeBackForDrop(t *tempFile, size int64) {
	if !s.opt.Sync && s.dropBehind() && size >= earlyWritebackMin {
		startWriteback(t.f, 0, size)
	}
}

// dropPlaced queues the drop of a file of size bytes just placed at abs
// whose writeback was started but not waited for: journaled (ent, see
// startJournaledWriteback) or, without Sync, by writeBackForDrop.
func (s *Store) dropPlaced(ent *jentry, abs string, size int64) {
	if size >= earlyWritebackMin && (ent != nil || !s.opt.Sync) {
		s.dropLater(abs)
	}
}

// dropLater queues the file at abs (stored now) for its drop.
func (s *Store) dropLater(abs string) {
	if s.drops == nil {
		return
	}
	select {
	case s.drops.queue <- pendingDrop{abs, time.Now()}:
	default:
	}
}
