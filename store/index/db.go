package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("index: closed")

// walAutocheckpoint is the WAL size, in pages, at which a commit checkpoints
// it (copies its pages into the database file, then fsyncs both): 32 MiB at
// the 4 KiB page size, instead of SQLite's 1000 pages. The checkpoint runs in
// the writer, inside the commit of the Put that crosses the size, and costs
// two fsyncs plus a write of every page changed since the last one. An
// instance alone in its transaction writes ~7.5 pages to the WAL (the
// instances row, its two index entries, and the series, study, patient and
// studies_last_received pages the triggers update), so the default
// checkpointed every ~130 instances; most of those pages are the same hot
// pages each time. Measured with BenchmarkPutSerial, one Put per
// transaction (medians of 8 runs on a shared 2-vCPU VM, so only roughly):
// ~280 µs per Put at 1000 pages, ~230 µs at 8192, ~220 µs with no
// checkpoint at all. The WAL file then stays up to ~32 MiB (below
// journal_size_limit, so it is reused rather than truncated).
const walAutocheckpoint = 8192

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Logger receives migration notices and failed batches. Default slog.Default().
	Logger *slog.Logger
	// MaxBatch is the largest number of requests (Put, Delete, ...) the writer
	// runs in one transaction. Default 256.
	MaxBatch int
	// Synchronous is SQLite's synchronous setting for the writer: "NORMAL"
	// (default) or "FULL" / "EXTRA". In WAL mode NORMAL does not fsync at each
	// commit, only at checkpoints: a commit survives a crash of the process but
	// the last commits before a power cut or kernel crash may be lost. That is
	// the intended trade-off: the store fsyncs and renames each file before it
	// calls Put, the file is the durable record, and reconcile at start
	// re-creates index rows for files that have none, so a lost row comes back
	// the next time the program starts. FULL adds one fsync of the WAL per
	// group-committed transaction (shared by the whole batch). "OFF" is refused:
	// it can corrupt the database on power loss.
	Synchronous string
	// ReadConns is the size of the read-only connection pool used by queries.
	// Default 4.
	ReadConns int
	// Outbox, when set, makes Put write one outbox event per instance in the
	// same transaction as its row (see outbox.go). Nil: no events.
	Outbox OutboxFunc
	// OutboxReady, when set, is called whenever outbox events become
	// readable (ReleaseOutbox, EnqueueOutbox). It must not block.
	OutboxReady func()
	// WALWarnBytes is the size of the WAL file from which the writer logs
	// a warning (again each time it doubles): the sign of a program that
	// keeps a read transaction open on the index (walwatch.go). Default
	// 1 GiB.
	WALWarnBytes int64
}

// DB is the SQLite index beside the storage tree. One goroutine owns the only
// write connection and group-commits every change; queries use a separate
// pool of query_only connections and never wait for the writer (WAL mode).
// A DB is safe for concurrent use.
type DB struct {
	log *slog.Logger
	wdb *sql.DB // one connection, held by the writer goroutine (nil: read-only)
	rdb *sql.DB // query_only pool
	w   *writer // nil: opened with OpenReadOnly
	ob  *outboxState
	// obStmt is the relay's outbox query, prepared on first use.
	obStmt     *sql.Stmt
	obStmtErr  error
	obStmtOnce sync.Once
	mu         sync.RWMutex // guards closed against sends on w.reqs
	done       bool
}

// Open opens (creating it when missing) the index at path, applies missing
// schema migrations, and starts the writer. A file whose schema is newer than
// this program knows is refused with ErrTooNew.
func Open(path string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 4
	}
	syncMode := strings.ToUpper(strings.TrimSpace(opt.Synchronous))
	switch syncMode {
	case "":
		syncMode = "NORMAL"
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("index: Synchronous %q: want NORMAL, FULL or EXTRA", opt.Synchronous)
	}
	name, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()

	// busy_timeout comes first (the driver sorts it first anyway) so the WAL
	// switch waits for another process instead of failing. journal_size_limit
	// truncates the WAL after a checkpoint so it does not stay at its peak size.
	// wal_autocheckpoint: see walAutocheckpoint.
	wdb, err := sql.Open("sqlite", name+"?_txlock=immediate"+
		"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous("+syncMode+")&_pragma=journal_size_limit(67108864)&_pragma=temp_store(MEMORY)"+
		"&_pragma=cache_size(-16384)"+fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walAutocheckpoint))
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	fail := func(err error) (*DB, error) {
		wdb.Close()
		return nil, err
	}
	var mode string
	if err := wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(fmt.Errorf("index: open %s: %w", path, err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("index: open %s: journal_mode is %q, not WAL (is the file system local?)", path, mode))
	}
	if err := migrate(ctx, wdb, opt.Logger); err != nil {
		return fail(err)
	}

	rdb, err := sql.Open("sqlite", name+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)"+
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)")
	if err != nil {
		return fail(fmt.Errorf("index: open %s for reading: %w", path, err))
	}
	rdb.SetMaxOpenConns(opt.ReadConns)
	rdb.SetMaxIdleConns(opt.ReadConns)
	rdb.SetConnMaxIdleTime(0)
	if err := rdb.PingContext(ctx); err != nil {
		rdb.Close()
		return fail(fmt.Errorf("index: open %s for reading: %w", path, err))
	}

	ob := &outboxState{build: opt.Outbox, ready: opt.OutboxReady}
	var pending int64
	if err := rdb.QueryRowContext(ctx, `SELECT count(*), COALESCE(MAX(id), 0) FROM outbox`).Scan(&pending, &ob.lastID); err != nil {
		rdb.Close()
		return fail(fmt.Errorf("index: open %s: count outbox: %w", path, err))
	}
	ob.n.Store(pending)
	ob.memValid = pending == 0 // the in-memory mirror starts from an empty outbox only
	w, err := newWriter(ctx, wdb, opt.MaxBatch, opt.Logger, ob)
	if err != nil {
		rdb.Close()
		return fail(err)
	}
	w.wal = newWALWatch(path, opt.WALWarnBytes)
	db := &DB{log: opt.Logger, wdb: wdb, rdb: rdb, w: w, ob: ob}
	go w.run()
	return db, nil
}

// fileURI turns a file path into an SQLite "file:" URI, percent-encoding
// the characters ('?', '#', '%', spaces) that would otherwise end the path.
func fileURI(path string) (string, error) {
	if path == "" || path == ":memory:" {
		return "", fmt.Errorf("index: a file path is required (got %q)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("index: %w", err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: C:/x -> /C:/x
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath(), nil
}

// Close waits for the queued writes to commit, stops the writer and closes
// both connection pools. Later calls return nil.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.done {
		db.mu.Unlock()
		return nil
	}
	db.done = true
	if db.w == nil { // OpenReadOnly: no writer
		db.mu.Unlock()
		return db.rdb.Close()
	}
	close(db.w.reqs)
	db.mu.Unlock()
	<-db.w.stopped
	err := db.w.close()
	db.obStmtOnce.Do(func() {}) // no preparing after Close
	if db.obStmt != nil {
		db.obStmt.Close()
	}
	if e := db.rdb.Close(); err == nil {
		err = e
	}
	if e := db.wdb.Close(); err == nil {
		err = e
	}
	return err
}

// submit queues r for the writer and waits for its answer. If ctx ends first
// it returns ctx.Err(); a request the writer has already taken still commits.
func (db *DB) submit(ctx context.Context, r *request) (result, error) {
	if err := db.enqueue(ctx, r); err != nil {
		return result{}, err
	}
	return db.wait(ctx, r)
}

// enqueue hands r to the writer without waiting for its answer (only for
// room in the queue). It fails with ctx.Err() or ErrClosed when r was not
// queued.
func (db *DB) enqueue(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.ctx = ctx
	r.done = make(chan result, 1)
	db.mu.RLock()
	if db.done {
		db.mu.RUnlock()
		return ErrClosed
	}
	if db.w == nil {
		db.mu.RUnlock()
		return ErrReadOnly
	}
	select {
	case db.w.reqs <- r:
		db.mu.RUnlock()
		return nil
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
}

// wait returns the answer to a queued request, or ctx.Err() if ctx ends
// first (the request still commits; an abandoned Put's event is deleted).
func (db *DB) wait(ctx context.Context, r *request) (result, error) {
	select {
	case res := <-r.done:
		return res, res.err
	case <-ctx.Done():
		if r.kind == kindPut {
			go db.dropAbandoned(r)
		}
		return result{}, ctx.Err()
	}
}

// dropAbandoned waits for a Put whose caller gave up and deletes the event it
// wrote, if any: the caller treats the instance as not stored, so nothing may
// announce it (and its hold must not block the outbox forever).
func (db *DB) dropAbandoned(r *request) {
	res := <-r.done
	if id := res.out.OutboxID; id != 0 {
		if err := db.DeleteOutbox(context.Background(), id); err != nil {
			db.log.Warn("index: could not delete the event of an abandoned instance", "id", id, "err", err)
		}
		db.ob.release(id)
		db.ob.notify()
	}
}

// reader returns the query pool, or ErrClosed.
func (db *DB) reader() (*sql.DB, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.done {
		return nil, ErrClosed
	}
	return db.rdb, nil
}
