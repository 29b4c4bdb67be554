package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

func TestForeignEntries(t *testing.T) {
	mk := func(t *testing.T, names ...string) string {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	fresh := mk(t, ".Trash-1000", "$RECYCLE.BIN") // what a fresh disk holds besides lost+found
	if err := os.Mkdir(filepath.Join(fresh, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	ours := mk(t, "stray.dcm")
	st, err := store.Open(ours, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, tc := range []struct {
		name, dir string
		want      int
	}{
		{"missing", filepath.Join(t.TempDir(), "new"), 0},
		{"empty", mk(t), 0},
		{"a fresh disk's root", fresh, 0},
		{"someone's files", mk(t, "IM0001", "IM0002", "DICOMDIR"), 3},
		{"a storage folder", ours, 0},
	} {
		if got := ForeignEntries(tc.dir); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// The engine warns when it opens a folder that held someone's files.
func TestEngineWarnsOfAForeignFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "IM0001"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf lockedBuffer
	cfg := testConfig(t)
	cfg.StorageDir = dir
	e := NewEngine(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	defer e.Close(context.Background())
	if _, _, err := e.Studies(context.Background(), index.StudyQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "the storage folder held other files before") || !strings.Contains(buf.String(), "entries=1") {
		t.Errorf("no warning in the log:\n%s", buf.String())
	}
}
