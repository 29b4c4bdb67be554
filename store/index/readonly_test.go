package index

import (
	"bytes"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fileState is one file of a folder: its bytes and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

// snapshot returns the state of every file in dir, by name.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]fileState{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fileState{data, fi.ModTime()}
	}
	return m
}

// An index opened with OpenReadOnly answers queries, refuses every write
// with ErrReadOnly, and leaves index.db as it was (same bytes, same
// modification time); the only files it may add are an empty -wal and the
// -shm (SQLite's shared-memory index), which later reads reuse.
func TestOpenReadOnlyNeverWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, inst("P", "1", "1.1", "1.1.1", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	time.Sleep(20 * time.Millisecond) // a write now would get a later mtime

	ro, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, total, err := ro.Studies(ctx, StudyQuery{})
	if err != nil || total != 1 || len(rows) != 1 || rows[0].StudyInstanceUID != "1" {
		t.Errorf("Studies: %v, total %d, %v", rows, total, err)
	}
	if _, err := ro.Put(ctx, inst("P", "2", "2.1", "2.1.1", 1)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Put: %v, want ErrReadOnly", err)
	}
	if err := ro.Delete(ctx, "1.1.1"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Delete: %v, want ErrReadOnly", err)
	}
	if _, err := ro.DeleteStudy(ctx, StudyKey{"P", "1"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("DeleteStudy: %v, want ErrReadOnly", err)
	}
	// Even SQL that bypasses the DB's methods cannot write on its pool.
	r, _ := ro.reader()
	if _, err := r.ExecContext(ctx, "DELETE FROM instances"); err == nil {
		t.Error("a DELETE on the read-only pool succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// index.db is untouched. SQLite, opening a WAL database read-only in a
	// writable folder, creates the missing -wal and -shm files and leaves them
	// (see OpenReadOnly): the -wal must be empty, as nothing was written.
	after := snapshot(t, dir)
	for name, b := range before {
		a, ok := after[name]
		if !ok || !bytes.Equal(a.data, b.data) || !a.mtime.Equal(b.mtime) {
			t.Errorf("%s changed (present %v, mtime %v -> %v)", name, ok, b.mtime, a.mtime)
		}
	}
	for name, a := range after {
		switch _, old := before[name]; {
		case old:
		case name == "index.db-wal" && len(a.data) == 0, name == "index.db-shm":
		default:
			t.Errorf("new file %s (%d bytes)", name, len(a.data))
		}
	}

	// A second read-only open adds nothing and changes neither index.db nor
	// the -wal. (The -shm is SQLite's shared memory: readers write their read
	// marks in it, so it is not compared.)
	before = after
	time.Sleep(20 * time.Millisecond)
	if ro, err = OpenReadOnly(path, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, total, err := ro.Studies(ctx, StudyQuery{}); err != nil || total != 1 {
		t.Errorf("second Studies: total %d, %v", total, err)
	}
	ro.Close()
	after = snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("files before %v, after %v", keys(before), keys(after))
	}
	for name, b := range before {
		if name == "index.db-shm" {
			continue
		}
		if a := after[name]; !bytes.Equal(a.data, b.data) || !a.mtime.Equal(b.mtime) {
			t.Errorf("second open: %s changed (mtime %v -> %v)", name, b.mtime, a.mtime)
		}
	}
}

func keys(m map[string]fileState) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// OpenReadOnly creates nothing for a missing index and migrates nothing: an
// older schema is refused with ErrTooOld, a newer one with ErrTooNew, and
// the file is left as it was.
func TestOpenReadOnlyRefuses(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "index.db")
	if db, err := OpenReadOnly(missing, Options{}); !errors.Is(err, fs.ErrNotExist) {
		if db != nil {
			db.Close()
		}
		t.Errorf("missing index: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly created the missing index: %v", err)
	}

	for _, tc := range []struct {
		version int
		want    error
	}{{0, ErrTooOld}, {schemaVersion - 1, ErrTooOld}, {schemaVersion + 1, ErrTooNew}} {
		path := filepath.Join(t.TempDir(), "index.db")
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("CREATE TABLE t (x); PRAGMA user_version = " + strconv.Itoa(tc.version)); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if db, err := OpenReadOnly(path, Options{}); !errors.Is(err, tc.want) {
			if db != nil {
				db.Close()
			}
			t.Errorf("user_version %d: %v, want %v", tc.version, err, tc.want)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("user_version %d: the refused index was changed", tc.version)
		}
	}
}
