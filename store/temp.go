package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// tempFile is a file being written in .incoming.
type tempFile struct {
	f      *os.File
	name   string // "" once renamed into the tree
	closed bool
}

// newTemp returns a new, empty file in .incoming: a spare created ahead of
// need when one is ready, else a new one (O_EXCL, random name). Taking a
// spare does not start making its replacement: the caller calls
// refillSpares when it is about to wait for the disk.
func (s *Store) newTemp() (*tempFile, error) {
	if s.spares != nil {
		select {
		case t := <-s.spares.ready:
			return t, nil
		default:
			s.spares.wakeUp()
		}
	}
	f, name, err := s.createTemp(partExt)
	if err != nil {
		return nil, err
	}
	return &tempFile{f: f, name: name}, nil
}

func (s *Store) createTemp(ext string) (*os.File, string, error) {
	var err error
	for range 4 {
		var rb [16]byte
		_, _ = rand.Read(rb[:])
		name := filepath.Join(s.incoming, hex.EncodeToString(rb[:])+ext)
		if err = s.fault("create"); err != nil {
			return nil, "", err
		}
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", err
}

// discard closes and removes a temp file that did not make it into the tree.
func (t *tempFile) discard(s *Store) {
	if t == nil || t.name == "" {
		return
	}
	if !t.closed {
		t.f.Close()
		t.closed = true
	}
	if err := os.Remove(t.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("store: cannot remove temp file", "file", t.name, "err", err)
	}
	t.name = ""
}

// rewrite copies the data set of t behind a new meta group into a new temp
// file (copy_file_range where the kernel has it). It returns the new file and
// the new meta group length.
func (s *Store) rewrite(t *tempFile, meta metaInfo, oldMetaLen, n int64) (*tempFile, int64, error) {
	head := appendFileMeta(nil, meta)
	nt, err := s.newTemp()
	if err != nil {
		return nil, 0, err
	}
	err = s.do("write", func() error {
		if _, err := nt.f.Write(head); err != nil {
			return err
		}
		if _, err := t.f.Seek(oldMetaLen, io.SeekStart); err != nil {
			return err
		}
		c, err := io.Copy(nt.f, io.LimitReader(t.f, n))
		if err == nil && c != n {
			err = io.ErrShortWrite
		}
		return err
	})
	if err != nil {
		nt.discard(s)
		return nil, 0, err
	}
	return nt, int64(len(head)), nil
}

// spareExt names the empty temp files created ahead of need.
const spareExt = ".spare"

// spareFiles creates temp files ahead of need on its own goroutine: creating
// a file (allocating its inode) costs a few tenths of a millisecond on
// ext4, which would otherwise sit between the last fragment of a small
// instance and its response.
type spareFiles struct {
	ready chan *tempFile
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

func (s *Store) startSpares(n int) {
	sp := &spareFiles{ready: make(chan *tempFile, n), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.spares = sp
	go func() {
		defer close(sp.done)
		for {
			for len(sp.ready) < cap(sp.ready) {
				f, name, err := s.createTemp(spareExt)
				if err != nil {
					break // the synchronous path reports the error
				}
				sp.ready <- &tempFile{f: f, name: name}
			}
			select {
			case <-sp.wake:
			case <-sp.stop:
				return
			}
		}
	}()
}

// refillSpares wakes the goroutine that replaces the spares taken. Ingest
// calls it once the file is renamed into the tree, while it waits for the
// folder fsync: creating a file costs a few tenths of a millisecond of
// kernel CPU, and woken as soon as a spare was taken, that goroutine held
// the second of two Ps just when the index writer needed it, which delayed
// the commit by as much (writer queue wait 0.33 ms per instance, 0.15 ms
// after the move, in BenchmarkFloorVsIngest on a loaded 2-core machine). A
// failed Ingest does not refill: the next one does, or newTemp when none is
// left.
func (s *Store) refillSpares() {
	if s.spares != nil {
		s.spares.wakeUp()
	}
}

func (sp *spareFiles) wakeUp() {
	select {
	case sp.wake <- struct{}{}:
	default:
	}
}

// stopSpares ends the goroutine and removes the spares it made.
func (s *Store) stopSpares() {
	if s.spares == nil {
		return
	}
	close(s.spares.stop)
	<-s.spares.done
	for {
		select {
		case t := <-s.spares.ready:
			t.discard(s)
		default:
			s.spares = nil
			return
		}
	}
}
