package store

import (
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

// trashDir holds files being deleted (see DeleteStudy); emptied at start.
const trashDir = ".trash"

// reconcileProgressEvery is how many files pass between two calls of
// Options.Progress (a variable for the tests).
var reconcileProgressEvery = 1000

// reconcileIndex makes the index agree with the files, at start: files
// without a row are indexed (from their meta group and header), rows whose
// file is gone are removed, and the trash is emptied. Both counts are logged.
func (s *Store) reconcileIndex(ctx context.Context) error {
	start := time.Now()
	if err := os.RemoveAll(filepath.Join(s.root, trashDir)); err != nil {
		return fmt.Errorf("empty %s: %w", trashDir, err)
	}
	indexed := make(map[string]string) // path -> SOP Instance UID
	err := s.idx.ForEachInstance(ctx, func(in index.Instance) error {
		indexed[in.Path] = in.SOPInstanceUID
		return nil
	})
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	var added, failed, seen int
	progress := func() {
		if s.opt.Progress != nil {
			s.opt.Progress(seen)
		}
	}
	buf := make([]byte, headerWindow)
	err = filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != s.root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .incoming, .trash
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".dcm") {
			return nil
		}
		if seen++; seen%reconcileProgressEvery == 0 {
			progress()
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, ok := indexed[rel]; ok {
			delete(indexed, rel)
			return nil
		}
		if err := s.indexFile(ctx, p, rel, buf); err != nil {
			failed++
			s.log.Warn("store: reconcile: file not indexed", "path", rel, "err", err)
			return nil
		}
		added++
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", s.root, err)
	}
	progress()
	gone := make([]string, 0, len(indexed))
	for _, uid := range indexed {
		gone = append(gone, uid)
	}
	if len(gone) > 0 {
		// Forget, not Delete: a row left by a crash between its commit and
		// the rename must not leave an event behind either.
		if err := s.idx.Forget(ctx, gone...); err != nil {
			return fmt.Errorf("remove rows of missing files: %w", err)
		}
	}
	if added+len(gone)+failed > 0 {
		s.log.Info("store: index reconciled with the files", "files_indexed", added, "rows_removed", len(gone),
			"unreadable_files", failed, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// indexFile reads a stored Part-10 file and puts its row; buf is scratch
// space of headerWindow bytes.
func (s *Store) indexFile(ctx context.Context, abs, rel string, buf []byte) error {
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	m, err := readFileMeta(f)
	if err != nil {
		return err
	}
	size := fi.Size() - m.dataOffset
	hdr, _, err := readHeader(f, m.dataOffset, size, m.transferSyntaxUID, buf)
	if err != nil {
		return err
	}
	in := Instance{SOPClassUID: m.sopClassUID, SOPInstanceUID: m.sopInstanceUID, TransferSyntaxUID: m.transferSyntaxUID,
		CallingAE: m.sourceAE, CalledAE: m.receivingAE, RemoteAddr: m.remoteAddr}
	reconcile(&hdr, in, scanResult{})
	if hdr.SOPInstanceUID == "" {
		return errors.New("no SOP Instance UID")
	}
	crc := crc32.New(castagnoli)
	if _, err := io.Copy(crc, io.NewSectionReader(f, m.dataOffset, size)); err != nil {
		return err
	}
	out, err := s.idx.Put(ctx, record(hdr, in, rel, fi.Size(), contentHash(crc.Sum32(), size), fi.ModTime().UnixNano()))
	s.idx.ReleaseOutbox(out.OutboxID) // the file is in the tree: its event may go
	return err
}

// removeOld deletes the file of a replaced copy that lived at another path.
func (s *Store) removeOld(rel string) {
	abs, err := s.absPath(rel)
	if err == nil {
		err = s.jr.settle(abs)
	}
	if err == nil {
		err = os.Remove(abs)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("store: could not remove the replaced copy", "path", rel, "err", err)
	}
}

// absPath turns an index path into an absolute path under the root, with
// the same proof resolve gives the paths Ingest builds.
func (s *Store) absPath(rel string) (string, error) {
	abs, _, err := resolve(s.root, strings.Split(rel, "/"))
	return abs, err
}

func unixNanoTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
