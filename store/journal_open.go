package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// journalNames are the two journal files in .incoming.
var journalNames = [2]string{"journal-0.dij", "journal-1.dij"}

// openJournal restores the files of the live records an earlier run left
// in the journal, then (with Sync on and the journal not turned off)
// prepares both journal files and starts the checkpointer. It returns nil
// and no error when the journal is off.
func (s *Store) openJournal() (*journal, error) {
	restored, err := s.recoverJournal()
	if err != nil {
		return nil, err
	}
	if restored > 0 {
		s.log.Warn("store: restored instances from the journal (the previous run ended without making them durable in the tree, e.g. a power cut)",
			"count", restored)
	}
	capacity := s.opt.JournalBytes
	if capacity == 0 {
		capacity = defaultJournalBytes
	}
	if !s.opt.Sync || capacity < 0 {
		for _, n := range journalNames {
			_ = os.Remove(filepath.Join(s.incoming, n))
		}
		removeReserves(s.incoming)
		return nil, nil
	}
	maxRecord := s.opt.JournalMaxInstance
	if maxRecord == 0 {
		maxRecord = defaultJournalMaxRecord
	}
	j := &journal{log: s.log, capacity: capacity, maxRecord: min(maxRecord, capacity/4), syncAll: syncTree(s.root),
		fault: s.fault, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	j.idle = sync.NewCond(&j.mu)
	var inos []uint64 // of the journal files, read before their first write
	fresh := journalMissing(s.incoming)
	if fresh {
		removeReserves(s.incoming) // left by a creation that was cut short
		if err := reserveBefore(s.incoming); err != nil {
			s.log.Warn("store: journal reserve files not created (the journal works, maybe more slowly)", "err", err)
		}
	}
	for i, n := range journalNames {
		f, ino, err := preallocate(filepath.Join(s.incoming, n), capacity)
		if err != nil {
			for _, jf := range j.files[:i] {
				jf.f.Close()
			}
			for _, n := range journalNames {
				_ = os.Remove(filepath.Join(s.incoming, n))
			}
			removeReserves(s.incoming)
			s.log.Warn("store: journal off, each instance is fsynced on its own (slower)", "err", err)
			return nil, nil
		}
		j.files[i] = &jfile{f: f, name: n}
		inos = append(inos, ino)
		j.newFill(j.files[i])
	}
	if fresh {
		owned, err := false, reserveAfter(s.incoming)
		if err == nil {
			owned, err = keepOwnGroup(s.incoming, inos)
		}
		if err != nil || !owned {
			s.log.Debug("store: journal files share their inode-table block with other files (fdatasync may be slower)", "err", err)
		}
	}
	j.active = j.files[0]
	go j.run()
	return j, nil
}

// preallocate opens the journal file at name, writing zeros up to size
// bytes where it is shorter: an fdatasync then never has to change the
// file's size or allocation, only flush its data.
func preallocate(name string, size int64) (*os.File, uint64, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("journal: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < size {
		zero := make([]byte, 1<<20)
		for off := fi.Size(); off < size && err == nil; off += int64(len(zero)) {
			_, err = f.WriteAt(zero[:min(int64(len(zero)), size-off)], off)
		}
		if err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("journal %s: %w", name, err)
	}
	return f, inodeOf(fi), nil
}

// recoverJournal writes the file of every live record of both journal files
// to the tree again where it is missing or differs, oldest run first, makes
// that durable, and ends both runs. It returns how many files it wrote.
func (s *Store) recoverJournal() (int, error) {
	type found struct {
		rec journalRecord
		f   *os.File
	}
	var all []found
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	buf := make([]byte, copyBufSize)
	for _, n := range journalNames {
		f, err := os.OpenFile(filepath.Join(s.incoming, n), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("journal: %w", err)
		}
		files = append(files, f)
		fi, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("journal: %w", err)
		}
		recs, err := scanJournal(f, fi.Size(), buf)
		if err != nil {
			return 0, fmt.Errorf("journal %s: %w", n, err)
		}
		for _, r := range recs {
			all = append(all, found{r, f})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].rec.seq < all[b].rec.seq })
	restored, retimed := 0, 0
	for _, fr := range all {
		if !fr.rec.live {
			continue
		}
		wrote, timed, err := s.restore(fr.rec, fr.f, buf)
		if err != nil {
			s.log.Error("store: cannot restore an instance from the journal", "path", fr.rec.path, "err", err)
			continue
		}
		if wrote {
			restored++
		} else if timed {
			retimed++
		}
	}
	if restored+retimed > 0 {
		if err := syncTree(s.root)(nil); err != nil {
			return restored, fmt.Errorf("journal: %w", err)
		}
	}
	for _, f := range files {
		if err := invalidateJournal(f); err != nil {
			return restored, fmt.Errorf("journal: %w", err)
		}
	}
	return restored, nil
}

// restore writes the record's file to the tree unless a file with the same
// content is there, and gives it the record's modification time (its
// received time, which a reindex reads back). A path that would leave the
// tree is refused. It reports whether it wrote the file, and whether it
// only set the modification time of a file whose content was intact.
func (s *Store) restore(r journalRecord, jf *os.File, buf []byte) (wrote, timed bool, err error) {
	abs, err := s.absPath(r.path)
	if err != nil {
		return false, false, err
	}
	var mtime time.Time // zero: left as it is (os.Chtimes)
	if r.mtime != 0 {
		mtime = time.Unix(0, r.mtime)
	}
	data := io.NewSectionReader(jf, r.dataOff(), r.dataLen)
	same, fi, err := sameContent(abs, data, buf)
	if err != nil {
		return false, false, err
	}
	if same {
		if !mtime.IsZero() && !fi.ModTime().Equal(mtime) {
			return false, true, os.Chtimes(abs, time.Time{}, mtime)
		}
		return false, false, nil
	}
	tmp, name, err := s.createTemp(partExt)
	if err != nil {
		return false, false, err
	}
	_, err = io.CopyBuffer(tmp, io.NewSectionReader(jf, r.dataOff(), r.dataLen), buf)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(name, time.Time{}, mtime)
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(abs), 0o755)
	}
	if err == nil {
		err = os.Rename(name, abs)
	}
	if err != nil {
		os.Remove(name)
		return false, false, err
	}
	return true, false, nil
}

// sameContent tells whether the file at path holds exactly the bytes of
// data; when it does, it also returns the file's FileInfo.
func sameContent(path string, data *io.SectionReader, buf []byte) (bool, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != data.Size() {
		return false, nil, err
	}
	half := len(buf) / 2
	a, b := buf[:half], buf[half:]
	for off := int64(0); off < data.Size(); {
		k := int(min(int64(half), data.Size()-off))
		if _, err := f.ReadAt(a[:k], off); err != nil {
			return false, nil, nil
		}
		if _, err := data.ReadAt(b[:k], off); err != nil {
			return false, nil, err
		}
		if !bytes.Equal(a[:k], b[:k]) {
			return false, nil, nil
		}
		off += int64(k)
	}
	return true, fi, nil
}
