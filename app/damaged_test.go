package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/apptest/fill"
	"github.com/dicominbox/dicominbox/store/index"
)

// damagedStorage stores n CT instances of one study in cfg's storage folder
// and damages the index (BreakStudiesTable).
func damagedStorage(t *testing.T, cfg Config, n int) {
	t.Helper()
	fill.CTs(t, cfg.StorageDir, n)
	apptest.BreakStudiesTable(t, filepath.Join(cfg.StorageDir, "index.db"))
}

// A study list that meets a damaged index says so, and how to rebuild it,
// instead of passing SQLite's words on (the window shows this text).
func TestDamagedIndexIsDescribed(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	damagedStorage(t, cfg, 1)
	e := NewEngine(cfg, testLogger(t, 0))
	defer e.Close(ctx)
	_, _, err := e.Studies(ctx, index.StudyQuery{})
	want := fmt.Sprintf("the index of storage folder %s is damaged (database disk image is malformed", cfg.StorageDir)
	hint := fmt.Sprintf("dicominbox reindex --storage %q", cfg.StorageDir)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), hint) || !index.IsDamaged(err) {
		t.Fatalf("studies on a damaged index: %v\nwant %q ... %q, still matching index.IsDamaged", err, want, hint)
	}
	var sure *describedError
	if !errors.As(err, &sure) {
		t.Errorf("%T is not a described error", err)
	}
}

// RebuildIndex brings a damaged index back from the files while the
// listener runs: it stops the listener, rebuilds, and starts it again.
func TestRebuildIndexWhileListening(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	damagedStorage(t, cfg, 2)
	e, _ := startEngine(t, cfg)
	if _, _, err := e.Studies(ctx, index.StudyQuery{}); !index.IsDamaged(err) {
		t.Fatalf("studies before the rebuild: %v, want a damaged index", err)
	}
	var progress []int
	tot, err := e.RebuildIndex(ctx, func(n int) { progress = append(progress, n) })
	if err != nil || tot.Studies != 1 || tot.Instances != 2 || fmt.Sprint(progress) != "[2]" {
		t.Fatalf("RebuildIndex: %+v, %v, progress %v", tot, err, progress)
	}
	if !e.Running() || e.Addr() == nil {
		t.Fatalf("after the rebuild: running %v on %v", e.Running(), e.Addr())
	}
	rows, total, err := e.Studies(ctx, index.StudyQuery{})
	if err != nil || total != 1 || len(rows) != 1 || rows[0].InstanceCount != 2 {
		t.Errorf("studies after the rebuild: %+v, total %d, %v", rows, total, err)
	}
	if _, err := Echo(ctx, e.Addr().String(), "T", "INBOX"); err != nil { // port 0: a new one
		t.Errorf("C-ECHO after the rebuild: %v", err)
	}
}
