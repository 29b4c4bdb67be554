package store

import (
	"os"
	"runtime"
	"sync"
)

// dirSyncer coalesces directory fsyncs. A caller that has just renamed a file
// into a directory needs an fsync of that directory that starts after its
// rename. Callers arriving while an fsync of the same directory is running
// queue into one next batch; when the running fsync ends, one of them (the
// leader) runs a single fsync for the whole batch. So N concurrent renames
// into a directory cost about two fsyncs instead of N, and no caller is
// answered by an fsync that started before its rename.
type dirSyncer struct {
	fsync func(dir string) error // syncDir; replaced in tests

	mu    sync.Mutex
	state map[string]*dirSyncState
}

type dirSyncState struct {
	running *syncBatch // fsync in progress, nil if none
	next    *syncBatch // batch collecting callers for the next fsync
}

type syncBatch struct {
	done chan struct{}
	err  error
}

func newDirSyncer() *dirSyncer {
	return &dirSyncer{fsync: syncDir, state: make(map[string]*dirSyncState)}
}

// sync returns once an fsync of dir that started after the call has ended.
func (d *dirSyncer) sync(dir string) error {
	d.mu.Lock()
	st := d.state[dir]
	if st == nil {
		st = &dirSyncState{}
		d.state[dir] = st
	}
	if b := st.next; b != nil { // join the batch that has not started yet
		d.mu.Unlock()
		<-b.done
		return b.err
	}
	b := &syncBatch{done: make(chan struct{})}
	st.next = b
	for st.running != nil { // lead: wait until the running fsync ends
		r := st.running
		d.mu.Unlock()
		<-r.done
		d.mu.Lock()
	}
	st.running, st.next = b, nil
	d.mu.Unlock()

	b.err = d.fsync(dir)

	d.mu.Lock()
	st.running = nil
	if st.next == nil {
		delete(d.state, dir)
	}
	d.mu.Unlock()
	close(b.done)
	return b.err
}

// syncDir fsyncs a directory so that the entries created or renamed in it
// survive a power cut. Windows cannot open a directory for fsync (NTFS
// journals metadata); there it is a no-op.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return fsyncPath(dir, os.O_RDONLY)
}

// fsyncPath opens path with flag, fsyncs and closes it.
func fsyncPath(path string, flag int) error {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
