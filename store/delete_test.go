package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/store/index"
)

// DeleteSeries removes that series' files and rows, the folders it leaves
// empty, and nothing else; DeleteStudy then removes the rest of the study.
func TestDeleteSeriesThenStudy(t *testing.T) {
	s := openTest(t, true)
	ctx := context.Background()
	for _, u := range []struct{ inst, series string }{{"1.2.3.1", "1.2.5.1"}, {"1.2.3.2", "1.2.5.1"}, {"1.2.3.3", "1.2.5.2"}} {
		ingest(t, s, cmd(u.inst), basicDataSet(ctClass, u.inst, "1.2.4", u.series, "P1", 1000))
	}
	ingest(t, s, cmd("1.2.3.9"), basicDataSet(ctClass, "1.2.3.9", "1.2.4.9", "1.2.5.9", "P1", 1000))

	if n, err := s.DeleteSeries(ctx, index.SeriesKey{PatientID: "P1", StudyInstanceUID: "1.2.4", SeriesInstanceUID: "1.2.5.1"}); err != nil || n != 2 {
		t.Fatalf("DeleteSeries: %d, %v; want 2", n, err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "P1", "1.2.4", "1.2.5.1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the deleted series' folder: %v, want it gone", err)
	}
	assertNoLeftovers(t, s, 2)
	if n, err := s.DeleteStudy(ctx, index.StudyKey{PatientID: "P1", StudyInstanceUID: "1.2.4"}); err != nil || n != 1 {
		t.Fatalf("DeleteStudy: %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "P1", "1.2.4")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the deleted study's folder: %v, want it gone", err)
	}
	assertNoLeftovers(t, s, 1)
	assertTreeMatchesIndex(t, s)
}

// An instance of a study that arrives while the study is deleted, its row
// already committed but its file not yet in the tree, is deleted with the
// study, file and row: it must not stay in the tree without its row (it
// would come back as a study of its own at the next start). Tried on a
// file that goes through the journal (whose checkpoint waits for it), one
// too large for it, and without fsyncs (no journal).
func TestDeleteStudyWhileAnInstanceArrives(t *testing.T) {
	for _, c := range []struct {
		name string
		sync bool
		size int
	}{{"journaled", true, 1000}, {"large", true, 2 << 20}, {"no-sync", false, 1000}} {
		t.Run(c.name, func(t *testing.T) { deleteStudyWhileAnInstanceArrives(t, c.sync, c.size) })
	}
}

func deleteStudyWhileAnInstanceArrives(t *testing.T, sync bool, size int) {
	s := openTest(t, sync)
	ctx := context.Background()
	key := index.StudyKey{PatientID: "P1", StudyInstanceUID: "1.2.4"}
	ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 1000))

	paused, deleteReached, deleteDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var renaming, deleting atomic.Bool
	s.setFaultHook(func(op string) error {
		switch {
		case op == "rename" && renaming.CompareAndSwap(false, true):
			// The arriving instance, before its file goes into the tree:
			// hold it there once its row has committed, until the delete
			// is done or, when the delete waits for this Ingest, a second.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if _, ok, err := s.Index().Get(ctx, "1.2.3.2"); ok || err != nil || time.Now().After(deadline) {
					break
				}
			}
			close(paused)
			<-deleteReached
			select {
			case <-deleteDone:
			case <-time.After(time.Second):
			}
		case op == "delete" && deleting.CompareAndSwap(false, true):
			close(deleteReached)
		}
		return nil
	})
	ingested := make(chan error, 1)
	go func() {
		_, err := s.Ingest(ctx, cmd("1.2.3.2"), bytes.NewReader(basicDataSet(ctClass, "1.2.3.2", "1.2.4", "1.2.5", "P1", size)))
		ingested <- err
	}()
	<-paused
	n, err := s.DeleteStudy(ctx, key)
	close(deleteDone)
	if err != nil || n != 2 {
		t.Errorf("DeleteStudy: %d, %v; want both instances deleted", n, err)
	}
	if err := <-ingested; err != nil {
		t.Fatalf("Ingest of the arriving instance: %v", err)
	}
	s.setFaultHook(nil)
	assertTreeMatchesIndex(t, s)
	assertNoLeftovers(t, s, 0)
}

// assertTreeMatchesIndex checks that every row's file is in the tree and
// every file in the tree has its row.
func assertTreeMatchesIndex(t *testing.T, s *Store) {
	t.Helper()
	rows := map[string]bool{}
	err := s.Index().ForEachInstance(context.Background(), func(in index.Instance) error {
		rows[in.Path] = true
		if _, err := os.Stat(filepath.Join(s.Root(), filepath.FromSlash(in.Path))); err != nil {
			t.Errorf("row %s without its file: %v", in.Path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(s.Root(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".dcm" {
			return err
		}
		rel, _ := filepath.Rel(s.Root(), p)
		if rel = filepath.ToSlash(rel); !rows[rel] {
			t.Errorf("file %s without its row", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
