package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/dicominbox/dicominbox/store/index"
)

// DeleteStudy removes the study named by key: its files and its rows
// together. It returns how many instances were removed. A study of the same
// UID under another patient ID is another study and stays. Instances of the
// study that arrive while it is deleted are either deleted with it or, when
// their rows commit after the delete, form the study again, files and rows.
func (s *Store) DeleteStudy(ctx context.Context, key index.StudyKey) (int, error) {
	n, err := s.deleteLevel(
		func() ([]string, error) { return s.idx.StudyPaths(ctx, key) },
		func() ([]string, error) { return s.idx.DeleteStudy(ctx, key) })
	if err != nil {
		return n, fmt.Errorf("store: delete study %s: %w", key.StudyInstanceUID, err)
	}
	return n, nil
}

// DeleteSeries removes the series named by key: its files and its rows
// together, like DeleteStudy.
func (s *Store) DeleteSeries(ctx context.Context, key index.SeriesKey) (int, error) {
	n, err := s.deleteLevel(
		func() ([]string, error) { return s.idx.SeriesPaths(ctx, key) },
		func() ([]string, error) { return s.idx.DeleteSeries(ctx, key) })
	if err != nil {
		return n, fmt.Errorf("store: delete series %s: %w", key.SeriesInstanceUID, err)
	}
	return n, nil
}

// deleteLevel lists the files of a study or series (listPaths), moves them
// into a fresh folder under .trash, deletes the rows (deleteRows, which
// returns the paths of the rows it deleted), then the folder. A crash at
// any point leaves a state the reconcile at start repairs without bringing
// deleted instances back: files already in the trash are gone (their rows
// are dropped), files not yet moved keep their rows.
//
// It holds placing for writing throughout, so no Ingest is between its row
// and its file: every listed row's file is in the tree, and the rows
// deleted are the rows listed.
func (s *Store) deleteLevel(listPaths, deleteRows func() ([]string, error)) (int, error) {
	if err := s.fault("delete"); err != nil {
		return 0, err
	}
	s.placing.Lock()
	defer s.placing.Unlock()
	// No journal record may bring a deleted file back after a power cut.
	if err := s.jr.flush(); err != nil {
		return 0, err
	}
	paths, err := listPaths()
	if err != nil {
		return 0, err
	}
	var b [8]byte
	rand.Read(b[:])
	bin := filepath.Join(s.root, trashDir, hex.EncodeToString(b[:]))
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return 0, err
	}
	if err := s.moveToTrash(bin, 0, paths); err != nil {
		return 0, err
	}
	deleted, err := deleteRows()
	if err != nil {
		return 0, fmt.Errorf("delete rows: %w", err)
	}
	// Not expected while placing is held; should a row have slipped in
	// all the same, its file goes too rather than outlive its row.
	if late := notIn(deleted, paths); len(late) > 0 {
		s.log.Warn("store: delete found rows it had not listed; their files are deleted too", "count", len(late))
		if err := s.moveToTrash(bin, len(paths), late); err != nil {
			return 0, err
		}
		paths = append(paths, late...)
	}
	if err := os.RemoveAll(bin); err != nil {
		s.log.Warn("store: could not empty the trash; it is emptied at the next start", "dir", bin, "err", err)
	}
	s.dirs.forgetAll()
	s.removeEmptyDirs(paths)
	return len(deleted), nil
}

// moveToTrash renames the files at paths into bin, numbered from first;
// a file already gone is skipped.
func (s *Store) moveToTrash(bin string, first int, paths []string) error {
	for i, rel := range paths {
		abs, err := s.absPath(rel)
		if err != nil {
			return err
		}
		err = os.Rename(abs, filepath.Join(bin, fmt.Sprintf("%d.dcm", first+i)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", rel, err)
		}
	}
	return nil
}

// notIn returns the elements of a that b (sorted) does not hold.
func notIn(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

// removeEmptyDirs removes the series, study and patient folders the deleted
// files leave empty (os.Remove fails on a non-empty folder, which is kept).
func (s *Store) removeEmptyDirs(paths []string) {
	seen := map[string]bool{}
	for _, rel := range paths {
		dir := filepath.Dir(filepath.Join(s.root, filepath.FromSlash(rel)))
		for dir != s.root && len(dir) > len(s.root) && !seen[dir] {
			seen[dir] = true
			if os.Remove(dir) != nil {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
}

// Reindex rebuilds the index of the tree at root from the files alone: the
// old index is removed and every file indexed again. It writes no outbox
// events (a rebuild must not announce every stored instance again), whatever
// opt.Outbox says; events still waiting in the old index's outbox are carried
// over in their order, so a rebuild loses none. While a Store has the
// folder open (a receiver runs in it) it fails with ErrInUse and touches
// nothing.
func Reindex(root string, opt Options) (index.Totals, error) {
	opt.Outbox, opt.OutboxReady = nil, nil
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx := context.Background()
	// Locked before anything is touched: a receiver running in the folder
	// would go on writing into the index removed below.
	lock, err := lockStorage(root)
	if err != nil {
		return index.Totals{}, fmt.Errorf("store: reindex %s: %w", root, err)
	}
	pending, err := readOutbox(ctx, filepath.Join(root, IndexFile))
	if err != nil {
		log.Warn("store: reindex: the old index's unpublished events cannot be read; they are lost", "err", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(root, IndexFile+suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			lock.release()
			return index.Totals{}, fmt.Errorf("store: reindex: remove the old index: %w", err)
		}
	}
	s, err := open(root, opt, lock)
	if err != nil {
		return index.Totals{}, err
	}
	defer s.Close()
	for _, r := range pending {
		if _, err := s.idx.EnqueueOutbox(ctx, r.OutboxMessage); err != nil {
			return index.Totals{}, fmt.Errorf("store: reindex: carry over an unpublished event: %w", err)
		}
	}
	if len(pending) > 0 {
		log.Info("store: reindex kept the unpublished outbox events", "count", len(pending))
	}
	return s.idx.Totals(ctx)
}

// readOutbox returns every event in the outbox of the index at path (none
// when there is no index).
func readOutbox(ctx context.Context, path string) ([]index.OutboxRow, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	db, err := index.Open(path, index.Options{Logger: slog.New(slog.DiscardHandler), ReadConns: 1})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ReadOutbox(ctx, math.MaxInt32)
}
