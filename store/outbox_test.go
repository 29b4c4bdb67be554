package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/dicominbox/dicominbox/store/index"
)

// eventOf is the outbox function of these tests: key = study, value = SOP.
func eventOf(in *index.Instance) (index.OutboxMessage, error) {
	return index.OutboxMessage{Stream: index.StreamInstance, Key: in.StudyInstanceUID, Value: []byte(in.SOPInstanceUID)}, nil
}

func outboxOptions(sync bool) Options {
	opt := DefaultOptions()
	opt.Sync = sync
	opt.Logger = slog.New(slog.DiscardHandler)
	opt.Outbox = eventOf
	return opt
}

func openOutboxAt(t testing.TB, root string, opt Options) *Store {
	t.Helper()
	s, err := Open(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// events returns the values (SOP Instance UIDs) of the readable events, in
// outbox order, and fails when the in-memory count disagrees with the table.
func events(t testing.TB, s *Store) []string {
	t.Helper()
	rows, err := s.Index().ReadOutbox(context.Background(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	var v []string
	for _, r := range rows {
		v = append(v, string(r.Value))
	}
	if n := s.Index().OutboxLen(); n != int64(len(rows)) {
		t.Errorf("OutboxLen %d, but %d readable events (a hold was never released?)", n, len(rows))
	}
	return v
}

func TestIngestWritesOneEventPerStoredInstance(t *testing.T) {
	s := openOutboxAt(t, t.TempDir(), outboxOptions(true))
	for i := range 3 {
		uid := fmt.Sprintf("1.2.3.%d", i)
		ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", 100))
	}
	if got := fmt.Sprint(events(t, s)); got != "[1.2.3.0 1.2.3.1 1.2.3.2]" {
		t.Errorf("events %s", got)
	}
	rows, _ := s.Index().ReadOutbox(context.Background(), 10)
	if rows[0].Key != "1.2.4" || rows[0].SOPInstanceUID != "1.2.3.0" {
		t.Errorf("event: %+v", rows[0])
	}
}

// Identical duplicates and the keep policy change nothing and announce
// nothing; a replacement is a new stored instance and gets its event.
func TestIngestDuplicateEvents(t *testing.T) {
	s := openOutboxAt(t, t.TempDir(), outboxOptions(false))
	first := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", "P1", 100)
	ingest(t, s, cmd("1.2.9"), first)
	if st := ingest(t, s, cmd("1.2.9"), first); st.Duplicate != DuplicateIdentical {
		t.Fatalf("Duplicate = %v", st.Duplicate)
	}
	if got := len(events(t, s)); got != 1 {
		t.Errorf("identical duplicate: %d events, want 1", got)
	}
	changed := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", "P1", 200)
	if st := ingest(t, s, cmd("1.2.9"), changed); st.Duplicate != DuplicateReplaced {
		t.Fatalf("Duplicate = %v", st.Duplicate)
	}
	if got := len(events(t, s)); got != 2 {
		t.Errorf("replacement: %d events, want 2", got)
	}

	opt := outboxOptions(false)
	opt.DuplicatePolicy = DuplicateKeep
	keep := openOutboxAt(t, t.TempDir(), opt)
	ingest(t, keep, cmd("1.2.9"), first)
	if st := ingest(t, keep, cmd("1.2.9"), changed); st.Duplicate != DuplicateKept {
		t.Fatalf("Duplicate = %v", st.Duplicate)
	}
	if got := len(events(t, keep)); got != 1 {
		t.Errorf("keep policy: %d events, want 1", got)
	}
}

// An instance whose file does not reach the tree leaves no event; one whose
// file did (only the directory fsync failed) keeps its event, like its row.
func TestIngestFailureLeavesNoEvent(t *testing.T) {
	ds := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 1000)
	for _, op := range []string{"sync", "journal", "journalsync", "close", "mkdir", "rename", "dirsync"} {
		opt := outboxOptions(true)
		if op == "sync" || op == "dirsync" { // the journal makes neither happen for a new file
			opt.JournalBytes = -1
		}
		s := openOutboxAt(t, t.TempDir(), opt)
		injected, renamed := false, false
		s.setFaultHook(func(o string) error {
			if o == op && !injected {
				injected = true
				return &os.PathError{Op: op, Path: "injected", Err: syscall.EIO}
			}
			if o == "rename" {
				renamed = true
			}
			return nil
		})
		if _, err := s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(ds)); err == nil || !injected {
			t.Fatalf("%s: injected %v, err %v", op, injected, err)
		}
		want := 0
		if renamed {
			want = 1
		}
		if got := len(events(t, s)); got != want {
			t.Errorf("%s failed: %d events, want %d", op, got, want)
		}
		if got := len(allRows(t, s)); got != want {
			t.Errorf("%s failed: %d rows, want %d", op, got, want)
		}
		// The outbox is not blocked by the failure.
		ingest(t, s, cmd("1.2.8"), basicDataSet(ctClass, "1.2.8", "1.2.4", "1.2.5", "P1", 10))
		if got := len(events(t, s)); got != want+1 {
			t.Errorf("%s: after a good instance %d events, want %d", op, got, want+1)
		}
	}
}

// Files indexed by the reconcile at start get events; rows of files that
// never reached the tree lose theirs; a full reindex announces nothing new
// but keeps the events still waiting.
func TestReconcileAndReindexEvents(t *testing.T) {
	root := t.TempDir()
	quiet := outboxOptions(false)
	quiet.Outbox = nil
	s := openOutboxAt(t, root, quiet)
	for i := range 3 {
		uid := fmt.Sprintf("1.2.7.%d", i)
		ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", 100))
	}
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(root, IndexFile+suffix))
	}

	s = openOutboxAt(t, root, outboxOptions(false))
	got := events(t, s)
	sort.Strings(got)
	if fmt.Sprint(got) != "[1.2.7.0 1.2.7.1 1.2.7.2]" {
		t.Fatalf("events after reconcile: %v", got)
	}
	// A row (and held-then-persisted event) whose file never made it: as
	// after a crash between the commit and the rename.
	ghost := index.Instance{SOPInstanceUID: "9.9", StudyInstanceUID: "9", SeriesInstanceUID: "9.1",
		PatientID: "G", Path: "G/9/9.1/9.9.dcm"}
	if _, err := s.Index().Put(context.Background(), ghost); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openOutboxAt(t, root, outboxOptions(false))
	if got := events(t, s); len(got) != 3 {
		t.Errorf("after reopen: events %v, want the 3 files' only (not the ghost's)", got)
	}
	if _, ok := allRows(t, s)["9.9"]; ok {
		t.Error("ghost row survived reconcile")
	}
	s.Close()

	if _, err := Reindex(root, outboxOptions(false)); err != nil {
		t.Fatal(err)
	}
	s = openOutboxAt(t, root, quiet)
	if got := events(t, s); len(got) != 3 {
		t.Errorf("after reindex: %d events, want the 3 waiting ones (none new)", len(got))
	}
	if n := len(allRows(t, s)); n != 3 {
		t.Errorf("after reindex: %d rows", n)
	}
}
