package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dicominbox/dicominbox/store/index"
)

// Instance describes one received instance as the network layer knows it
// (from the C-STORE command and the association).
type Instance struct {
	SOPClassUID, SOPInstanceUID string // Affected SOP Class/Instance UID of the C-STORE-RQ
	TransferSyntaxUID           string // accepted transfer syntax of the presentation context
	CallingAE, CalledAE         string
	RemoteAddr                  string // ip:port of the peer
}

// Stored is what Ingest reports about an instance it stored.
type Stored struct {
	Path        string // relative to the storage root, slash-separated
	Size        int64  // bytes of the whole Part-10 file
	DataSetSize int64  // bytes of the data set as received
	Header      Header // header values read from the data set (SOP UIDs from the command when it has none)
	// Warning is non-empty when the instance was stored but deserves a
	// warning status (B007): the data set's SOP Class/Instance UID differs
	// from the command or is missing (the command's is used then), or the
	// data set is malformed within its header. It quotes peer values and may
	// be longer than the 64 characters of an Error Comment (0000,0902).
	Warning string
	// Replaced reports that an earlier copy of the same SOP Instance UID was
	// replaced (file and index row).
	Replaced bool
	// Duplicate tells what happened when the SOP Instance UID was already stored.
	Duplicate Duplicate
	// Phases says where the time of this Ingest went.
	Phases Phases
}

const (
	// earlyWritebackMin is the smallest journaled file whose writeback
	// placeFirst starts at once: for tiny files (11 KB, one association,
	// Nagle on) the extra syscall measured slower (median 1075 vs 1160
	// inst/s over 8 interleaved pairs) and their checkpoints stalled nothing
	// measurable.
	earlyWritebackMin = copyBufSize

	partExt = ".part"
	// headerWindow is how much of the temp file one read of the header scan
	// fetches: the header of almost every data set fits in one read.
	headerWindow = 32 << 10
)

// Ingest stores one instance whose data set (no preamble, no meta group,
// encoded in in.TransferSyntaxUID) is read from data up to io.EOF.
//
// The data set is streamed through a fixed buffer into a temp file behind a
// new meta group, its header is read back, the file is fsynced and renamed
// into the tree and its directory fsynced; only then does Ingest return nil.
// On any error nothing is left in .incoming and nothing new in the tree (one
// exception: when only the final directory fsync fails, the complete, fsynced
// file stays where it was renamed to). The errors are
// classified with ErrOutOfResources and ErrCannotUnderstand; an error from
// data (or ctx) is returned wrapped as it is. See the package comment for the
// status each deserves. Ingest is safe for concurrent use.
func (s *Store) Ingest(ctx context.Context, in Instance, data io.Reader) (Stored, error) {
	clock := newPhaseClock()
	id := trimUID(in.SOPInstanceUID)
	ts := trimUID(in.TransferSyntaxUID)
	if ts == "" {
		return Stored{}, fmt.Errorf("store %s: no transfer syntax", id)
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp

	meta := metaInfo{
		SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID, TransferSyntaxUID: ts,
		ImplementationClassUID:    s.opt.ImplementationClassUID,
		ImplementationVersionName: s.opt.ImplementationVersionName,
		CallingAE:                 in.CallingAE, CalledAE: in.CalledAE, RemoteAddr: in.RemoteAddr,
	}
	metaLen := int64(len(appendFileMeta(buf[:0], meta)))

	t, err := s.newTemp()
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: create temp file: %w: %w", id, ErrOutOfResources, err)
	}
	defer func() { t.discard(s) }() // no-op once renamed

	crc := crc32.New(castagnoli)
	n, rerr, werr := s.copyIn(ctx, t.f, buf, int(metaLen), io.TeeReader(data, crc))
	if rerr != nil {
		return Stored{}, fmt.Errorf("store %s: receive data set: %w", id, rerr)
	}
	if werr != nil {
		return Stored{}, fmt.Errorf("store %s: write: %w: %w", id, ErrOutOfResources, werr)
	}
	clock.mark(&clock.p.Receive)

	// A small file is still whole in the buffer: the header scan and the
	// journal read it from memory, not the file.
	whole := wholeInBuffer(buf, metaLen+n)
	var src io.ReaderAt = t.f
	window := buf[:headerWindow]
	if whole != nil {
		src, window = bytes.NewReader(whole), buf[len(buf)-headerWindow:]
	}
	hdr, res, err := readHeader(src, metaLen, n, ts, window)
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}
	warning, rewrite := reconcile(&hdr, in, res)
	if hdr.SOPInstanceUID == "" {
		return Stored{}, fmt.Errorf("store: %w: no SOP Instance UID in the command or the data set", ErrCannotUnderstand)
	}
	id = hdr.SOPInstanceUID
	if rewrite { // the meta group must name the data set's own UIDs
		meta.SOPClassUID, meta.SOPInstanceUID = hdr.SOPClassUID, hdr.SOPInstanceUID
		nt, ml, err := s.rewrite(t, meta, metaLen, n)
		if err != nil {
			return Stored{}, fmt.Errorf("store %s: rewrite meta group: %w: %w", id, ErrOutOfResources, err)
		}
		t.discard(s)
		t, metaLen, whole = nt, ml, nil
	}

	hash := contentHash(crc.Sum32(), n)
	received, err := s.stampReceived(t.f, t.name)
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: set time: %w: %w", id, ErrOutOfResources, err)
	}
	comps := layout(hdr)
	abs, rel, err := resolve(s.root, comps[:])
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}

	// Ingests of one SOP Instance UID take turns: each decides from the
	// index row and the file it finds, and must not find them half-changed
	// by another (one sender retrying on two associations).
	unlock := s.sopLocks.lock(id)
	defer unlock()
	s.placing.RLock()
	defer s.placing.RUnlock()
	clock.mark(&clock.p.Header)

	// The file and its index row go to disk side by side. The Put is queued
	// before the file's fsync (or its journal record's fdatasync) and
	// waited for last: while the writer goroutine runs the transaction,
	// this goroutine waits for the disk and, when nothing is stored at the
	// target path yet (the usual case), also renames the file into the tree
	// and fsyncs the folder. The response waits for both, so what is
	// answered as stored is durable either way; a crash in between leaves a
	// row without its file or a file without its row, and the reconcile at
	// start removes the one or indexes the other. When a file is already
	// stored at the target path, the row's outcome (identical copy, keep
	// policy) decides whether it may be replaced, so the rename waits for
	// the commit.
	//
	// The Put is queued as soon as the row is known, before the target path
	// is checked and the journal record written: waking the writer
	// goroutine's thread takes 0.04–0.12 ms on the test VM, and that wake-up
	// now overlaps this goroutine's last steps before the fsync. Measured
	// with the phase log, 18 interleaved pairs of case d: faster in 14 than
	// with the Put queued just before the fdatasync (docs/benchmarks.md).
	put := s.idx.PutAsync(ctx, record(hdr, in, rel, metaLen+n, hash, received.UnixNano()))
	_, statErr := os.Lstat(abs)
	free := errors.Is(statErr, fs.ErrNotExist)
	var serr error
	var ent *jentry
	if s.opt.Sync {
		// A file for a free path goes through the journal when it is small
		// (one shared fdatasync, no folder fsync); any other is fsynced.
		serr = errJournalSkip
		if free {
			ent, serr = s.jr.append(t.f, whole, metaLen+n, rel, abs, received.UnixNano(), buf)
		}
		if errors.Is(serr, errJournalSkip) {
			serr = s.do("sync", t.f.Sync)
			if serr == nil {
				s.dropSynced(t.f)
			}
		}
	}
	s.writeBackForDrop(t, metaLen+n)
	clock.mark(&clock.p.Durable)
	if serr == nil && free {
		return s.placeFirst(id, put, ent, t, abs, rel, comps, hdr, in, warning, metaLen, n, clock)
	}
	out, perr := put.Wait()
	clock.mark(&clock.p.Index)
	switch {
	case perr != nil:
		if serr == nil && out.Replaced {
			s.undoPut(id, out)
		}
		return Stored{}, fmt.Errorf("store %s: index: %w: %w", id, ErrOutOfResources, perr)
	case serr != nil:
		s.undoPut(id, out)
		return Stored{}, fmt.Errorf("store %s: sync: %w: %w", id, ErrOutOfResources, serr)
	}
	// The upsert found an earlier copy (the lookup costs nothing extra inside
	// the write transaction): identical content, or the keep policy, leaves
	// the stored copy and its row as they were.
	if out.Replaced {
		if dup := s.duplicateOutcome(out.Previous, hash, rel, t.name, metaLen); dup != NotDuplicate {
			s.undoPut(id, out)
			s.logNotStored(id, out, dup)
			return Stored{Path: out.Previous.Path, Size: out.Previous.SizeBytes, DataSetSize: n, Header: hdr, Warning: warning, Duplicate: dup, Phases: clock.p}, nil
		}
	}
	// A journal record of the copy at abs must not bring it back over
	// this one after a power cut.
	if err := s.jr.settle(abs); err != nil {
		s.undoPut(id, out)
		return Stored{}, fmt.Errorf("store %s: %w: %w", id, ErrOutOfResources, err)
	}
	if renamed, err := s.place(t, abs, comps, true); err != nil {
		if !renamed {
			s.undoPut(id, out)
			return Stored{}, fmt.Errorf("store %s: %w", id, err)
		}
		// The file is complete and fsynced, and its row committed; only its
		// directory entry may not be durable. It stays (it may have replaced
		// an older copy); the caller answers a failure and the sender's retry
		// replaces it.
		s.idx.ReleaseOutbox(out.OutboxID) // file and row stay: so does the event
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}
	clock.mark(&clock.p.Place)
	return s.stored(id, out, rel, hdr, in, warning, metaLen, n, statErr == nil, clock), nil
}

// placeFirst finishes an Ingest whose target path was free: it moves the
// fsynced temp file into the tree and fsyncs the folder while the index
// transaction commits, then waits for it. If the commit fails, or the row
// says an earlier copy stored elsewhere is kept (keep policy), the file is
// taken out of the tree again. An identical earlier copy cannot be at stake:
// there was no file at the target path, and the lock on the SOP Instance UID
// keeps it so.
//
// ent is the file's journal record (nil when the file was fsynced instead):
// then the folder is not fsynced, and the record is withdrawn when the file
// does not stay in the tree.
func (s *Store) placeFirst(id string, put *index.PendingPut, ent *jentry, t *tempFile, abs, rel string, comps [4]string,
	hdr Header, in Instance, warning string, metaLen, n int64, clock *phaseClock) (Stored, error) {
	defer ent.withdraw() // unless done below
	startJournaledWriteback(t, ent, metaLen+n)
	renamed, err := s.place(t, abs, comps, ent == nil)
	clock.mark(&clock.p.Place)
	out, perr := put.Wait()
	clock.mark(&clock.p.Index)
	if perr != nil {
		if renamed {
			s.unplace(abs)
		}
		if out.Replaced {
			s.undoPut(id, out)
		}
		return Stored{}, fmt.Errorf("store %s: index: %w: %w", id, ErrOutOfResources, perr)
	}
	if err != nil {
		if !renamed {
			s.undoPut(id, out)
			return Stored{}, fmt.Errorf("store %s: %w", id, err)
		}
		// As in Ingest: complete, fsynced file and committed row stay.
		s.idx.ReleaseOutbox(out.OutboxID)
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}
	if out.Replaced && s.keepDuplicates.Load() {
		s.unplace(abs)
		s.undoPut(id, out)
		s.logNotStored(id, out, DuplicateKept)
		return Stored{Path: out.Previous.Path, Size: out.Previous.SizeBytes, DataSetSize: n, Header: hdr, Warning: warning, Duplicate: DuplicateKept, Phases: clock.p}, nil
	}
	ent.done()
	s.dropPlaced(ent, abs, metaLen+n)
	return s.stored(id, out, rel, hdr, in, warning, metaLen, n, false, clock), nil
}

// wholeInBuffer returns the first size bytes of buf when a file of that
// size is still there whole: it ended within the copy buffer, below the
// header scan's window, so copyIn wrote it in one piece and the window can
// be taken from the rest of buf. Otherwise it returns nil.
func wholeInBuffer(buf []byte, size int64) []byte {
	if size > int64(len(buf)-headerWindow) {
		return nil
	}
	return buf[:size]
}

// startJournaledWriteback starts writing the size bytes of t to disk when
// ent says the journal made them durable and the file is not small: the
// tree's copy then goes to the disk at once, so that the checkpoint's
// syncfs finds little left to write instead of every file since the last
// one (on 512 KiB instances a 16 MiB burst that the next fdatasyncs queued
// behind). It does not wait.
func startJournaledWriteback(t *tempFile, ent *jentry, size int64) {
	if ent != nil && size >= earlyWritebackMin {
		startWriteback(t.f, 0, size)
	}
}

// place closes the fsynced (or journaled) temp file, creates its folders,
// renames it to abs and (with Sync and syncFolder) fsyncs its folder.
// renamed tells whether the file is in the tree (then only the folder fsync
// failed). The error names the step.
func (s *Store) place(t *tempFile, abs string, comps [4]string, syncFolder bool) (renamed bool, err error) {
	t.closed = true
	if err := s.do("close", t.f.Close); err != nil {
		return false, fmt.Errorf("close: %w: %w", ErrOutOfResources, err)
	}
	if err := s.ensureDir(comps[:3]); err != nil {
		return false, fmt.Errorf("create directory: %w: %w", ErrOutOfResources, err)
	}
	if err := s.rename(t.name, abs, comps[:3]); err != nil {
		return false, fmt.Errorf("rename: %w: %w", ErrOutOfResources, err)
	}
	t.name = "" // in the tree now: nothing to discard
	s.refillSpares()
	if s.opt.Sync && syncFolder {
		if err := s.syncDir(filepath.Dir(abs)); err != nil {
			return true, fmt.Errorf("sync directory: %w: %w", ErrOutOfResources, err)
		}
	}
	return true, nil
}

// unplace takes a file placeFirst renamed into the tree out again (it was
// the only file at that path) and makes the removal durable.
func (s *Store) unplace(abs string) {
	err := os.Remove(abs)
	if err == nil && s.opt.Sync {
		err = s.syncDir(filepath.Dir(abs))
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("store: could not take back a file whose index row failed; reconcile at the next start indexes it",
			"path", abs, "err", err)
	}
}

// logNotStored logs a duplicate that was not stored again.
func (s *Store) logNotStored(id string, out index.Outcome, dup Duplicate) {
	s.log.Info("store: duplicate not stored again", "sop_instance", id, "path", out.Previous.Path,
		"why", map[Duplicate]string{DuplicateIdentical: "identical content", DuplicateKept: "keep-first policy"}[dup])
}

// stored completes a successful Ingest: the file is in the tree and its row
// committed. It releases the outbox event, removes a replaced copy stored
// elsewhere and builds the result; existed tells whether a file was at the
// target path before the rename.
func (s *Store) stored(id string, out index.Outcome, rel string, hdr Header, in Instance, warning string, metaLen, n int64,
	existed bool, clock *phaseClock) Stored {
	// Stored: its event may go out now.
	s.idx.ReleaseOutbox(out.OutboxID)
	if out.Replaced && out.Previous.Path != rel {
		s.removeOld(out.Previous.Path)
	}
	st := Stored{Path: rel, Size: metaLen + n, DataSetSize: n, Header: hdr, Warning: warning, Replaced: existed || out.Replaced,
		Phases: clock.p}
	if st.Replaced {
		st.Duplicate = DuplicateReplaced
	}
	// The caller reports the warning in its response and logs it; here it is
	// only a debug detail.
	s.log.Debug("store: stored", "path", rel, "bytes", st.Size, "replaced", st.Replaced,
		"warning", warning, "remote", in.RemoteAddr, "took", time.Since(clock.begin), "sop_instance", id)
	return st
}

// copyIn writes buf[:fill] (the meta group) and then everything read from r
// to f, through buf, in writes of len(buf) bytes. It returns the number of
// bytes read from r and either a read error (from r or ctx) or a write error.
func (s *Store) copyIn(ctx context.Context, f *os.File, buf []byte, fill int, r io.Reader) (n int64, rerr, werr error) {
	var written, wbFrom int64
	// dropFrom is where the pages not yet dropped start (drop-behind, see
	// dropbehind.go); the first buffer's worth stays for the header scan.
	dropFrom := int64(len(buf))
	for {
		if err := ctx.Err(); err != nil {
			return n, err, nil
		}
		k, err := r.Read(buf[fill:])
		if k < 0 || k > len(buf)-fill {
			return n, fmt.Errorf("reader returned invalid count %d", k), nil
		}
		n += int64(k)
		fill += k
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err, nil
		}
		if fill == len(buf) || (err != nil && fill > 0) {
			if werr := s.do("write", func() error { _, e := f.Write(buf[:fill]); return e }); werr != nil {
				return n, nil, werr
			}
			if (s.opt.Sync || s.dropBehind()) && fill == len(buf) && written+int64(fill) > s.jr.limit() {
				// Start writing to disk now, while the next chunk arrives,
				// so that the final fsync has little left to do. A file the
				// journal may still take is not written twice: its fsync is
				// the journal's.
				startWriteback(f, wbFrom, written+int64(fill)-wbFrom)
				// The previous chunk's writeback started one chunk ago:
				// its pages are clean by now, or are skipped.
				if s.dropBehind() && wbFrom > dropFrom {
					dropPages(f, dropFrom, wbFrom-dropFrom)
					dropFrom = wbFrom
				}
				wbFrom = written + int64(fill)
			}
			written += int64(fill)
			fill = 0
		}
		if err != nil {
			return n, nil, nil
		}
	}
}

// rename moves the temp file into the tree. When the target directory has
// vanished (removed behind the store's back), it forgets the cached
// directories, creates them again and retries once.
func (s *Store) rename(from, to string, dirComps []string) error {
	err := s.do("rename", func() error { return os.Rename(from, to) })
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Stat(from); serr != nil {
		return err
	}
	s.dirs.forget(s.levels(dirComps)...)
	if err := s.ensureDir(dirComps); err != nil {
		return err
	}
	return s.do("rename", func() error { return os.Rename(from, to) })
}

// do runs a file system operation unless the test hook injects a failure.
func (s *Store) do(op string, f func() error) error {
	if err := s.fault(op); err != nil {
		return err
	}
	return f()
}

// reconcile fills in the SOP UIDs the data set lacks from the command and
// returns the warning to report and whether the meta group written from the
// command must be rewritten with the data set's own UIDs.
func reconcile(h *Header, in Instance, res scanResult) (warning string, rewrite bool) {
	var w []string
	for _, u := range []struct {
		name string
		ds   *string
		cmd  string
	}{
		{"SOP Class UID", &h.SOPClassUID, trimUID(in.SOPClassUID)},
		{"SOP Instance UID", &h.SOPInstanceUID, trimUID(in.SOPInstanceUID)},
	} {
		switch {
		case *u.ds == "":
			*u.ds = u.cmd
			w = append(w, fmt.Sprintf("data set has no %s; the command's %q is used", u.name, u.cmd))
		case *u.ds != u.cmd:
			w = append(w, fmt.Sprintf("data set %s %q differs from the command's %q", u.name, *u.ds, u.cmd))
			rewrite = true
		}
	}
	if res.err != nil {
		w = append(w, fmt.Sprintf("data set is malformed at byte %d: %v", res.errAt, res.err))
	}
	return strings.Join(w, "; "), rewrite
}
