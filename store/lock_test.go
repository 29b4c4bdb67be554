package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// While a Store has a folder open, a second Open or a Reindex of it fails
// with ErrInUse naming the holder, and touches nothing: not the first
// store's unfinished files in .incoming, not its index. Close releases the
// folder.
func TestOpenLocksTheFolder(t *testing.T) {
	root := t.TempDir()
	first, err := Open(root, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	inFlight := filepath.Join(root, incomingDir, "arriving"+partExt) // stands for first's file being received
	if err := os.WriteFile(inFlight, []byte("half a data set"), 0o644); err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("(process %d)", os.Getpid())

	second, err := Open(root, DefaultOptions())
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), holder) {
		t.Fatalf("second Open: %v, want ErrInUse naming %s", err, holder)
	}
	if second != nil {
		t.Fatal("second Open returned a store")
	}
	if _, err := Reindex(root, DefaultOptions()); !errors.Is(err, ErrInUse) {
		t.Fatalf("Reindex: %v, want ErrInUse", err)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("the first store's unfinished file is gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, IndexFile)); err != nil {
		t.Errorf("the first store's index is gone: %v", err)
	}
	if _, err := first.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 100))); err != nil {
		t.Fatalf("the first store no longer works: %v", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(root, DefaultOptions())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer again.Close()
	if _, err := os.Stat(inFlight); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a leftover of a closed store was kept (%v)", err)
	}
	if tot, err := again.Index().Totals(context.Background()); err != nil || tot.Instances != 1 {
		t.Errorf("index after reopening: %+v, %v", tot, err)
	}
}

// Reindex takes the lock itself and gives it back: afterwards the folder
// opens again.
func TestReindexReleasesTheFolder(t *testing.T) {
	root := t.TempDir()
	if _, err := Reindex(root, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(root, DefaultOptions())
	if err != nil {
		t.Fatalf("Open after Reindex: %v", err)
	}
	s.Close()
}

// Reindex reports its progress through Options.Progress: every
// reconcileProgressEvery files (here 10), then once with the total.
func TestReindexReportsProgress(t *testing.T) {
	defer func(n int) { reconcileProgressEvery = n }(reconcileProgressEvery)
	reconcileProgressEvery = 10
	root := t.TempDir()
	opt := DefaultOptions()
	opt.Sync = false
	s, err := Open(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	const files = 21
	for i := range files {
		uid := fmt.Sprintf("1.2.3.%d", i)
		if _, err := s.Ingest(context.Background(), cmd(uid), bytes.NewReader(basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", 16))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var calls []int
	opt.Progress = func(n int) { calls = append(calls, n) }
	tot, err := Reindex(root, opt)
	if err != nil || tot.Instances != files {
		t.Fatalf("Reindex: %+v, %v", tot, err)
	}
	if fmt.Sprint(calls) != "[10 20 21]" {
		t.Errorf("progress calls %v, want [10 20 21]", calls)
	}
}
