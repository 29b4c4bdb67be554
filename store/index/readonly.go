package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	sqlite "modernc.org/sqlite"
)

// ErrReadOnly is returned by every write (Put, Delete, outbox changes, ...)
// on a DB opened with OpenReadOnly.
var ErrReadOnly = errors.New("index: opened read-only")

// ErrTooOld is returned by OpenReadOnly for an index whose schema is older
// than this program's: a reader may not migrate it. Opening it with Open (the
// receiver does at start) or rebuilding it (reindex) brings it up to date.
var ErrTooOld = errors.New("index: database schema is older than this program")

// OpenReadOnly opens the existing index at path for queries only (Studies,
// Series, Get, ...): SQLite opens the file with mode=ro and every connection
// is query_only, so nothing is created, migrated or written, and a reader is
// safe beside a running receiver. A missing file is an error wrapping
// fs.ErrNotExist; a schema older than this program's is refused with
// ErrTooOld, a newer one with ErrTooNew. Writes on the returned DB fail with
// ErrReadOnly.
//
// In WAL mode SQLite needs the -shm and -wal files beside the index to read
// it safely while a receiver writes: it uses them when they exist and, where
// the folder is writable, creates them when they do not (an empty -wal and
// the shared-memory index; the database file itself is not touched) and
// leaves them there, as deleting them could lose a receiver's writes. Where
// they cannot be created (a folder this process may not write) and there is
// no -wal file, so no receiver has the index open, the file is opened
// immutable instead: read as it is, without locks.
func OpenReadOnly(path string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 4
	}
	name, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	// mode=ro would fail on a missing file too, but with SQLite's vague
	// "unable to open database file": say what is wrong.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("index: %s is not a file", path)
	}
	const params = "&_pragma=busy_timeout(5000)&_pragma=query_only(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)"
	rdb, v, err := openRO(name+"?mode=ro"+params, opt.ReadConns)
	if err != nil && cannotCreateBeside(err) {
		if _, werr := os.Lstat(path + "-wal"); errors.Is(werr, fs.ErrNotExist) {
			rdb, v, err = openRO(name+"?mode=ro&immutable=1"+params, opt.ReadConns)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %s read-only: %w", path, err)
	}
	switch {
	case v > schemaVersion:
		err = fmt.Errorf("%w: %s has schema version %d, this program knows up to %d", ErrTooNew, path, v, schemaVersion)
	case v < schemaVersion:
		err = fmt.Errorf("%w: %s has schema version %d, this program needs %d (start the receiver once, or run reindex, to upgrade it)",
			ErrTooOld, path, v, schemaVersion)
	}
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &DB{log: opt.Logger, rdb: rdb, ob: &outboxState{}}, nil
}

// openRO opens the query pool at dsn and reads the schema version, which
// also proves the file can be read.
func openRO(dsn string, conns int) (*sql.DB, int, error) {
	rdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, 0, err
	}
	rdb.SetMaxOpenConns(conns)
	rdb.SetMaxIdleConns(conns)
	rdb.SetConnMaxIdleTime(0)
	var v int
	if err := rdb.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&v); err != nil {
		rdb.Close()
		return nil, 0, err
	}
	return rdb, v, nil
}

// cannotCreateBeside reports whether err is SQLite failing to create the
// -wal/-shm files of a WAL database: SQLITE_READONLY (e.g.
// SQLITE_READONLY_DIRECTORY, SQLITE_READONLY_CANTINIT) or SQLITE_CANTOPEN.
func cannotCreateBeside(err error) bool {
	const sqliteReadOnly, sqliteCantOpen = 8, 14
	code := primaryCode(err)
	return code == sqliteReadOnly || code == sqliteCantOpen
}

// primaryCode is the primary SQLite result code of err, or -1 when err is
// not SQLite's.
func primaryCode(err error) int {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return -1
	}
	return se.Code() & 0xff
}

// IsDamaged reports whether err is SQLite finding the index file damaged
// (SQLITE_CORRUPT, SQLITE_NOTADB): not a database, or pages that do not
// fit. The files of the tree are the durable record; a damaged index is
// rebuilt from them (store.Reindex).
func IsDamaged(err error) bool {
	const sqliteCorrupt, sqliteNotADB = 11, 26
	code := primaryCode(err)
	return code == sqliteCorrupt || code == sqliteNotADB
}
