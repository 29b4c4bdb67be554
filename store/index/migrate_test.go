package index

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func userVersion(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrations(t *testing.T) {
	path := t.TempDir() + "/index.db"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	db, err := Open(path, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, inst("P", "1", "1.1", "1.1.1", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != schemaVersion {
		t.Fatalf("user_version %d, want %d", v, schemaVersion)
	}
	if !strings.Contains(logs.String(), "index schema migrated") {
		t.Errorf("first open did not log the migration: %s", logs.String())
	}

	// Reopening applies nothing and keeps the data.
	logs.Reset()
	db, err = Open(path, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Get(ctx, "1.1.1"); !ok {
		t.Error("row lost on reopen")
	}
	db.Close()
	if strings.Contains(logs.String(), "migrated") {
		t.Errorf("reopen migrated again: %s", logs.String())
	}

	// A newer program's index is refused and left alone.
	raw, _ := sql.Open("sqlite", path)
	if _, err := raw.Exec("PRAGMA user_version = 1000"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(path, Options{}); !errors.Is(err, ErrTooNew) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a future schema: %v", err)
	}
	if v := userVersion(t, path); v != 1000 {
		t.Errorf("refused open changed user_version to %d", v)
	}
}

func TestMigrationStepsAreAtomic(t *testing.T) {
	// A failing step leaves user_version (and the schema) as it was.
	saved := migrations
	defer func() { migrations, schemaVersion = saved, len(saved) }()
	migrations = append(append([]string{}, saved...), "CREATE TABLE extra (x); THIS IS NOT SQL;")
	schemaVersion = len(migrations)
	path := t.TempDir() + "/index.db"
	if db, err := Open(path, Options{}); err == nil {
		db.Close()
		t.Fatal("broken migration accepted")
	}
	if v := userVersion(t, path); v != 0 {
		t.Errorf("user_version %d after a failed migration", v)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir+"/a.db", Options{Synchronous: "OFF"}); err == nil {
		t.Error("Synchronous OFF accepted")
	}
	if _, err := Open("", Options{}); err == nil {
		t.Error("empty path accepted")
	}
	// Paths with URI-special characters work.
	for _, sync := range []string{"", "full", "EXTRA"} {
		db, err := Open(dir+"/we?ird #%20name "+sync+".db", Options{Synchronous: sync, MaxBatch: 1})
		if err != nil {
			t.Fatal(err)
		}
		var mode int
		if err := db.w.conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"": 1, "full": 2, "EXTRA": 3}[sync]
		if mode != want {
			t.Errorf("Synchronous %q: PRAGMA synchronous = %d, want %d", sync, mode, want)
		}
		var ckpt int
		if err := db.w.conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&ckpt); err != nil || ckpt != walAutocheckpoint {
			t.Errorf("wal_autocheckpoint = %d (%v), want %d", ckpt, err, walAutocheckpoint)
		}
		var fk, qo int
		db.w.conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		db.rdb.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo)
		if fk != 1 || qo != 1 {
			t.Errorf("foreign_keys %d on the writer, query_only %d on readers", fk, qo)
		}
		if _, err := db.rdb.ExecContext(ctx, "DELETE FROM instances"); err == nil {
			t.Error("the read pool can write")
		}
		db.Close()
		if _, err := os.Stat(dir + "/we?ird #%20name " + sync + ".db"); err != nil {
			t.Errorf("file not where asked: %v", err)
		}
	}
}
