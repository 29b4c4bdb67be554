package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The journal makes a small instance durable with one fdatasync of a file
// that is already allocated, instead of an fsync of the new file and one of
// the folder it is renamed into (each a file system journal commit: about
// 1 ms together on the test VM against 0.3 ms). The file's whole content
// and its path are appended to one of two preallocated journal files in
// .incoming; concurrent appends share one fdatasync. Then the file is
// renamed into the tree without any fsync. A checkpoint (when a journal
// file is half full, a second after its first record, and at Close) makes
// the tree durable with one syncfs and empties that journal file; the
// other one takes the appends meanwhile. At Open, before the index is
// reconciled, every live record whose file is missing or differs is
// written to the tree again: so an instance answered as stored is never
// lost, even if the power fails before the checkpoint.
//
// A record must not bring back a file that was removed on purpose. Ingest
// withdraws its own record when it takes the file out again, and every
// other removal from the tree (a replaced copy, a deleted study or series)
// is preceded by a checkpoint (flush).

var (
	// errJournalSkip: the instance does not go through the journal (too
	// big, journal full or off); it is fsynced the classic way.
	errJournalSkip = errors.New("journal: not used for this instance")
)

// Journal defaults (see Options).
const (
	defaultJournalBytes = 32 << 20
	// defaultJournalMaxRecord: on the test VM the journal won for files of
	// 33 and 67 KB and lost for 132 KB (MR) and 0.5 MB (CT), single and
	// four associations alike (docs/benchmarks.md, "Journal size limit"):
	// a larger file is written twice, and its own fsync, whose writeback
	// started while it arrived, costs little next to the transfer.
	defaultJournalMaxRecord = 96 << 10
	journalMaxAge           = time.Second
)

// journal is the pair of journal files and their checkpointer.
type journal struct {
	log       *slog.Logger
	capacity  int64 // bytes of each file
	maxRecord int64 // largest file content that goes through the journal
	syncAll   func(live []string) error
	fault     func(op string) error

	ckMu    sync.Mutex // one checkpoint at a time
	mu      sync.Mutex // the fields below and the writes to the files
	idle    *sync.Cond // a draining file's users dropped to 0
	files   [2]*jfile
	active  *jfile
	lastSeq int64

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// jfile is one journal file and the run of records it holds.
type jfile struct {
	f       *os.File
	name    string
	fill    uint64 // random, not 0
	seq     int64
	firstAt time.Time
	written atomic.Int64 // bytes of records of the run (changes under journal.mu)
	synced  atomic.Int64 // bytes known to be on disk (changes under syncMu)
	syncMu  sync.Mutex
	users   int                // appends whose file is not settled yet (under journal.mu)
	live    map[string][]int64 // absolute tree path -> offsets of its live records (under journal.mu)
}

// jentry is one appended record, held by the Ingest that wrote it until its
// file is in the tree (done) or known not to be (withdraw).
type jentry struct {
	j    *journal
	jf   *jfile
	off  int64
	abs  string
	over bool
}

// newFill starts a new run of records in jf (under journal.mu).
func (j *journal) newFill(jf *jfile) {
	var b [8]byte
	for binary.LittleEndian.Uint64(b[:]) == 0 {
		_, _ = rand.Read(b[:])
	}
	jf.fill = binary.LittleEndian.Uint64(b[:])
	jf.seq = max(time.Now().UnixNano(), j.lastSeq+1)
	j.lastSeq = jf.seq
	jf.firstAt = time.Time{}
	jf.written.Store(0)
	jf.synced.Store(0)
	jf.live = make(map[string][]int64)
}

// limit is the size of the largest file append takes (0 when the journal
// is off).
func (j *journal) limit() int64 {
	if j == nil {
		return 0
	}
	return j.maxRecord
}

// append writes the size bytes of src (a complete file for the tree) with
// its relative path rel as a record and returns once it is on disk. whole,
// when not nil, is the same size bytes in memory, written instead of
// reading src. abs is the path the file will get in the tree, mtime its
// modification time (Unix ns), which a restore gives it again. buf is
// scratch space. The error is errJournalSkip when the caller must make the
// file durable itself.
func (j *journal) append(src io.ReaderAt, whole []byte, size int64, rel, abs string, mtime int64, buf []byte) (*jentry, error) {
	if j == nil || size > j.maxRecord || len(rel) == 0 || len(rel) > journalMaxPath {
		return nil, errJournalSkip
	}
	recLen := journalRecordLen(len(rel), size)
	j.mu.Lock()
	jf := j.active
	off := jf.written.Load()
	if off+recLen > j.capacity {
		j.mu.Unlock()
		j.kick()
		return nil, errJournalSkip
	}
	if whole != nil && int64(len(whole)) != size {
		j.mu.Unlock()
		return nil, fmt.Errorf("journal: %d bytes in memory for a %d-byte file", len(whole), size)
	}
	if err := j.writeRecord(jf, off, src, whole, size, rel, mtime, buf); err != nil {
		j.mu.Unlock()
		return nil, err
	}
	first := off == 0
	if first {
		jf.firstAt = time.Now()
	}
	jf.written.Store(off + recLen)
	jf.users++
	jf.live[abs] = append(jf.live[abs], off)
	half := off+recLen >= j.capacity/2
	j.mu.Unlock()
	if first || half {
		j.kick()
	}
	e := &jentry{j: j, jf: jf, off: off, abs: abs}
	if err := jf.syncTo(off+recLen, j.fault); err != nil {
		e.withdraw()
		return nil, err
	}
	return e, nil
}

// writeRecord writes path and data, then the header (under journal.mu); a
// file given whole in memory goes with its header and path in one write.
// Either way the record's checksum covers its path and data, so a torn
// record is never taken for a whole one.
func (j *journal) writeRecord(jf *jfile, off int64, src io.ReaderAt, whole []byte, size int64, rel string, mtime int64, buf []byte) error {
	if err := j.fault("journal"); err != nil {
		return err
	}
	if whole != nil {
		crc := crc32.Update(crc32.Checksum([]byte(rel), castagnoli), castagnoli, whole)
		head := make([]byte, journalHeaderLen, journalHeaderLen+len(rel))
		encodeJournalHeader(head, len(rel), size, jf.fill, jf.seq, mtime, crc)
		if err := writeAt2(jf.f, off, append(head, rel...), whole); err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
		return nil
	}
	if _, err := jf.f.WriteAt([]byte(rel), off+journalHeaderLen); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	crc := crc32.Checksum([]byte(rel), castagnoli)
	pos := off + journalHeaderLen + int64(len(rel))
	for done := int64(0); done < size; {
		k := min(size-done, int64(len(buf)))
		if _, err := src.ReadAt(buf[:k], done); err != nil {
			return fmt.Errorf("read for journal: %w", err)
		}
		if _, err := jf.f.WriteAt(buf[:k], pos+done); err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
		crc = crc32.Update(crc, castagnoli, buf[:k])
		done += k
	}
	var h [journalHeaderLen]byte
	encodeJournalHeader(h[:], len(rel), size, jf.fill, jf.seq, mtime, crc)
	if _, err := jf.f.WriteAt(h[:], off); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// syncTo returns once the first end bytes of the run are on disk. Callers
// that arrive while an fdatasync runs wait for it and then share the next.
func (jf *jfile) syncTo(end int64, fault func(string) error) error {
	if jf.synced.Load() >= end {
		return nil
	}
	jf.syncMu.Lock()
	defer jf.syncMu.Unlock()
	if jf.synced.Load() >= end {
		return nil
	}
	w := jf.written.Load()
	if err := fault("journalsync"); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	if err := fdatasync(jf.f); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	jf.synced.Store(w)
	return nil
}

// done settles an entry whose file is in the tree: its record stays live
// until the checkpoint. A nil entry is a no-op.
func (e *jentry) done() {
	if e == nil || e.over {
		return
	}
	e.over = true
	e.j.mu.Lock()
	e.jf.users--
	if e.jf.users == 0 {
		e.j.idle.Broadcast()
	}
	e.j.mu.Unlock()
}

// withdraw settles an entry whose file is not in the tree (or was taken
// out again): the record is marked withdrawn on disk, so that it cannot
// bring the file back. A nil entry is a no-op.
func (e *jentry) withdraw() {
	if e == nil || e.over {
		return
	}
	e.j.mu.Lock()
	offs := e.jf.live[e.abs]
	for i, o := range offs {
		if o == e.off {
			offs = append(offs[:i], offs[i+1:]...)
			break
		}
	}
	if len(offs) == 0 {
		delete(e.jf.live, e.abs)
	} else {
		e.jf.live[e.abs] = offs
	}
	_, err := e.jf.f.WriteAt([]byte(journalMagicWithdrawn), e.off)
	e.j.mu.Unlock()
	if err == nil {
		e.jf.syncMu.Lock()
		err = fdatasync(e.jf.f)
		e.jf.syncMu.Unlock()
	}
	if err != nil {
		e.j.log.Error("store: cannot withdraw a journal record; after a power cut its file may come back",
			"path", e.abs, "err", err)
	}
	e.done()
}

// settle makes sure that no live record can bring an earlier file at abs
// back: when one exists, it checkpoints (flush). Ingest calls it before it
// replaces the file at abs; removals from the tree call it too.
func (j *journal) settle(abs string) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	live := len(j.files[0].live[abs]) > 0 || len(j.files[1].live[abs]) > 0
	j.mu.Unlock()
	if !live {
		return nil
	}
	return j.flush()
}

// kick wakes the checkpointer.
func (j *journal) kick() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// run is the checkpointer: it checkpoints the active file a second after
// its first record, or at once when kicked with the file half full.
func (j *journal) run() {
	defer close(j.done)
	for {
		j.mu.Lock()
		jf := j.active
		busy := jf.written.Load() > 0
		var due time.Duration
		if busy {
			due = time.Until(jf.firstAt.Add(journalMaxAge))
			if jf.written.Load() >= j.capacity/2 {
				due = 0
			}
		}
		j.mu.Unlock()
		if !busy {
			select {
			case <-j.wake:
				continue
			case <-j.stop:
				return
			}
		}
		if due > 0 {
			t := time.NewTimer(due)
			select {
			case <-t.C:
			case <-j.wake:
				t.Stop()
				continue
			case <-j.stop:
				t.Stop()
				return
			}
		}
		if err := j.flush(); err != nil {
			j.log.Error("store: journal checkpoint failed; new instances are fsynced one by one until it succeeds",
				"err", err)
			select { // retry later, not in a tight loop
			case <-time.After(journalMaxAge):
			case <-j.stop:
				return
			}
		}
	}
}

// flush checkpoints every record appended before it was called: the files
// of the tree are made durable (syncAll) and the journal file emptied.
// While it runs, appends go to the other file.
func (j *journal) flush() error {
	if j == nil {
		return nil
	}
	j.ckMu.Lock()
	defer j.ckMu.Unlock()
	j.mu.Lock()
	next := j.other(j.active)
	if next.written.Load() != 0 { // left full by a failed checkpoint: it goes first
		j.mu.Unlock()
		if err := j.checkpoint(next); err != nil {
			return err
		}
		j.mu.Lock()
	}
	old := j.active
	if old.written.Load() == 0 {
		j.mu.Unlock()
		return nil
	}
	j.newFill(next)
	j.active = next
	j.mu.Unlock()
	if err := j.checkpoint(old); err != nil {
		j.mu.Lock()
		if j.active == next && next.written.Load() == 0 { // nothing lost by going back
			j.active = old
		}
		j.mu.Unlock()
		return err
	}
	return nil
}

func (j *journal) other(jf *jfile) *jfile {
	if jf == j.files[0] {
		return j.files[1]
	}
	return j.files[0]
}

// checkpoint makes the files of jf's records durable and empties jf, which
// takes no appends meanwhile. It waits for the Ingests still placing files
// of jf's records.
func (j *journal) checkpoint(jf *jfile) error {
	j.mu.Lock()
	for jf.users > 0 {
		j.idle.Wait()
	}
	live := make([]string, 0, len(jf.live))
	for p := range jf.live {
		live = append(live, p)
	}
	j.mu.Unlock()
	if err := j.fault("checkpoint"); err != nil {
		return fmt.Errorf("journal checkpoint: %w", err)
	}
	if err := j.syncAll(live); err != nil {
		return fmt.Errorf("journal checkpoint: %w", err)
	}
	if err := invalidateJournal(jf.f); err != nil {
		return err
	}
	j.mu.Lock()
	j.newFill(jf)
	j.mu.Unlock()
	return nil
}

// invalidateJournal ends the file's run at offset 0 and syncs that.
func invalidateJournal(f *os.File) error {
	var zero [journalHeaderLen]byte
	if _, err := f.WriteAt(zero[:], 0); err != nil {
		return fmt.Errorf("reset journal: %w", err)
	}
	if err := fdatasync(f); err != nil {
		return fmt.Errorf("reset journal: %w", err)
	}
	return nil
}

// close stops the checkpointer, checkpoints what is left and closes the
// files.
func (j *journal) close() error {
	if j == nil {
		return nil
	}
	closed := false
	j.closeOnce.Do(func() { closed = true })
	if !closed {
		return nil
	}
	close(j.stop)
	<-j.done
	err := j.flush()
	if err == nil {
		err = j.flush() // the other file, if a failed checkpoint left it full
	}
	for _, jf := range j.files {
		if cerr := jf.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
