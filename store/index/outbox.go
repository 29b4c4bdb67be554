package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// The outbox holds events waiting to be published by a relay (the Kafka
// forwarder in package app). An instance's event is inserted by Put in the
// same transaction as its index row, so there is never a row without its
// event nor an event without its row. The index knows nothing about Kafka:
// Options.Outbox builds the message from the Instance inside the writer.
//
// An instance's row is committed before its file is renamed into the tree
// (the fsync and the commit overlap, see store.Ingest). Until the store
// knows the instance is stored, its event is held: ReadOutbox returns no row
// at or after the oldest held id, which also keeps the outbox order. The
// store then either releases it (ReleaseOutbox) or takes row and event back
// (Restore). Holds live in memory only: after a crash, reconcile removes the
// rows of files that never reached the tree, and their events with them
// (Forget).

// Outbox streams: which configured topic a message goes to.
const (
	StreamInstance  = "instance"  // one event per stored instance
	StreamLifecycle = "lifecycle" // association and study lifecycle events
)

// OutboxHeader is one message header (Kafka record header).
type OutboxHeader struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// OutboxMessage is an event as the relay publishes it.
type OutboxMessage struct {
	Stream  string // StreamInstance or StreamLifecycle
	Key     string // partitioning key (the Study Instance UID for instance events)
	Headers []OutboxHeader
	Value   []byte // the event (JSON)
	// SOPInstanceUID ties an event to the instance it describes (empty for
	// lifecycle events); Put fills it in.
	SOPInstanceUID string
}

// OutboxRow is a message read back from the outbox.
type OutboxRow struct {
	ID int64 // rising in commit order
	OutboxMessage
	CreatedAt time.Time
}

// OutboxFunc builds the event of an instance about to be indexed. It runs on
// the writer's goroutine inside the transaction: it must be quick and must not
// call the DB. An error fails that Put (the instance is then not indexed, and
// its C-STORE fails), so it should fail only on a programming error.
type OutboxFunc func(in *Instance) (OutboxMessage, error)

// outboxState is shared by the DB and its writer.
type outboxState struct {
	build OutboxFunc // nil: Put writes no event
	ready func()     // nil or called when rows become readable
	n     atomic.Int64

	mu   sync.Mutex
	held map[int64]struct{}
	// mem mirrors the committed outbox rows, in id order, while memValid:
	// the relay reads it instead of querying SQLite after every event
	// (that query was most of the relay's CPU). It is valid from an empty
	// outbox on, as long as this process wrote every row, and is dropped
	// when it would grow past memCap (a long outage) or on anything it
	// cannot follow; it becomes valid again when the outbox is empty.
	mem      []OutboxRow
	memValid bool

	// lastID is the highest event id used so far (writer goroutine only).
	lastID int64
}

// memCap bounds the in-memory mirror of the outbox.
const memCap = 10000

// applyCommitted updates the mirror after a transaction committed; n is
// the outbox size after it.
func (o *outboxState) applyCommitted(added []OutboxRow, removed []int64, invalidate bool, n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case invalidate:
		o.memValid, o.mem = false, nil
	case o.memValid:
		if len(removed) > 0 {
			gone := make(map[int64]bool, len(removed))
			for _, id := range removed {
				gone[id] = true
			}
			kept := o.mem[:0]
			for _, r := range o.mem {
				if !gone[r.ID] {
					kept = append(kept, r)
				}
			}
			clear(o.mem[len(kept):])
			o.mem = kept
		}
		o.mem = append(o.mem, added...)
		if len(o.mem) > memCap || int64(len(o.mem)) != n {
			o.memValid, o.mem = false, nil
		}
	}
	if n == 0 && !o.memValid {
		o.memValid, o.mem = true, nil
	}
}

// readMem returns up to n readable rows from the mirror; ok is false when
// the mirror is not valid.
func (o *outboxState) readMem(n int) (rows []OutboxRow, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.memValid {
		return nil, false
	}
	lim := int64(math.MaxInt64)
	for id := range o.held {
		lim = min(lim, id)
	}
	for _, r := range o.mem {
		if r.ID >= lim || len(rows) == n {
			break
		}
		rows = append(rows, r)
	}
	return rows, true
}

func (o *outboxState) hold(id int64) {
	o.mu.Lock()
	if o.held == nil {
		o.held = make(map[int64]struct{})
	}
	o.held[id] = struct{}{}
	o.mu.Unlock()
}

func (o *outboxState) release(id int64) {
	if id == 0 {
		return
	}
	o.mu.Lock()
	delete(o.held, id)
	o.mu.Unlock()
}

// limit is the oldest held id (rows from it on are not readable yet).
func (o *outboxState) limit() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	lim := int64(math.MaxInt64)
	for id := range o.held {
		lim = min(lim, id)
	}
	return lim
}

func (o *outboxState) notify() {
	if o.ready != nil {
		o.ready()
	}
}

// insertOutbox runs inside the writer's transaction and returns the row id.
func (w *writer) insertOutbox(m *OutboxMessage) (int64, error) {
	hdr, err := json.Marshal(m.Headers)
	if err != nil {
		return 0, fmt.Errorf("index: outbox headers: %w", err)
	}
	if m.Headers == nil {
		hdr = []byte("[]")
	}
	if m.Value == nil {
		m.Value = []byte{}
	}
	now := time.Now()
	// Ids come from a counter, not from SQLite's rowid (which reuses the
	// id of a deleted last row): an id must never name two events while
	// this process runs, or a late release of the first would end the hold
	// of the second.
	id := w.ob.lastID + 1
	if _, err := w.st.insertOutbox.Exec(id, m.Stream, m.Key, string(hdr), m.Value, m.SOPInstanceUID, formatTime(now)); err != nil {
		return 0, fmt.Errorf("index: insert outbox event: %w", err)
	}
	w.ob.lastID = id
	w.added = append(w.added, OutboxRow{ID: id, OutboxMessage: *m, CreatedAt: now.UTC()})
	return id, nil
}

// EnqueueOutbox adds an event that belongs to no instance (a lifecycle
// event) and returns its id once committed. It is readable at once.
func (db *DB) EnqueueOutbox(ctx context.Context, m OutboxMessage) (int64, error) {
	if m.Stream == "" {
		return 0, fmt.Errorf("index: enqueue: message without a stream")
	}
	res, err := db.submit(ctx, &request{kind: kindEnqueue, msg: m})
	if err != nil {
		return 0, err
	}
	db.ob.notify()
	return res.id, nil
}

// ReadOutbox returns up to n of the oldest readable events, in id order:
// none at or after the oldest event still held for an instance being stored.
func (db *DB) ReadOutbox(ctx context.Context, n int) ([]OutboxRow, error) {
	st, err := db.readOutboxStmt()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 100
	}
	if rows, ok := db.ob.readMem(n); ok {
		return rows, nil
	}
	rows, err := st.QueryContext(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("index: read outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var o OutboxRow
		var hdr, created string
		if err := rows.Scan(&o.ID, &o.Stream, &o.Key, &hdr, &o.Value, &o.SOPInstanceUID, &created); err != nil {
			return nil, fmt.Errorf("index: read outbox: %w", err)
		}
		if err := json.Unmarshal([]byte(hdr), &o.Headers); err != nil {
			return nil, fmt.Errorf("index: outbox event %d: headers: %w", o.ID, err)
		}
		o.CreatedAt = parseTime(created)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: read outbox: %w", err)
	}
	// The limit is taken after the query: an event held before its
	// transaction committed is seen as held here if the query saw it.
	lim := db.ob.limit()
	for i, o := range out {
		if o.ID >= lim {
			return out[:i], nil
		}
	}
	return out, nil
}

// readOutboxStmt returns the outbox query, prepared once on the read pool
// (the relay runs it after every event; preparing it each time was a tenth
// of the receiver's CPU under load).
func (db *DB) readOutboxStmt() (*sql.Stmt, error) {
	r, err := db.reader()
	if err != nil {
		return nil, err
	}
	db.obStmtOnce.Do(func() {
		db.obStmt, db.obStmtErr = r.Prepare(`SELECT id, stream, msg_key, headers, value, sop_instance_uid, created_at
	  FROM outbox ORDER BY id LIMIT ?`)
		if db.obStmtErr != nil {
			db.obStmtErr = fmt.Errorf("index: prepare the outbox query: %w", db.obStmtErr)
		}
	})
	return db.obStmt, db.obStmtErr
}

// DeleteOutbox removes published events (unknown ids are ignored).
func (db *DB) DeleteOutbox(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.submit(ctx, &request{kind: kindDeleteOutbox, ids: ids})
	return err
}

// OutboxLen returns the number of events in the outbox (held ones included).
// It never blocks: the count is kept in memory by the writer.
func (db *DB) OutboxLen() int64 { return db.ob.n.Load() }

// ReleaseOutbox makes the event Put wrote for an instance readable, once the
// instance is known to be stored (id is Outcome.OutboxID; 0 is a no-op).
func (db *DB) ReleaseOutbox(id int64) {
	if id == 0 {
		return
	}
	db.ob.release(id)
	db.ob.notify()
}

// Restore takes back what a Put did for an instance that was not stored after
// all (its file did not reach the tree) or that changed nothing (an identical
// duplicate): the previous row comes back (out.Previous) or the row goes,
// and the event the Put wrote (out.OutboxID) is deleted, in one transaction.
// The restored row gets no event. The hold on the event ends either way.
func (db *DB) Restore(ctx context.Context, sopInstanceUID string, out Outcome) error {
	r := &request{kind: kindRestore, uids: []string{sopInstanceUID}, outcome: out}
	if out.Replaced && out.Previous != nil {
		r.in = *out.Previous
	}
	_, err := db.submit(ctx, r)
	db.ob.release(out.OutboxID)
	return err
}

// Forget removes the rows of instances whose files are not in the tree, like
// Delete, and also their events still in the outbox: an event must not
// announce an instance that was never stored (reconcile at start uses it for
// rows left by a crash between the commit and the rename).
func (db *DB) Forget(ctx context.Context, sopInstanceUIDs ...string) error {
	if len(sopInstanceUIDs) == 0 {
		return nil
	}
	_, err := db.submit(ctx, &request{kind: kindForget, uids: sopInstanceUIDs})
	return err
}

// restore runs inside the writer's transaction.
func (w *writer) restore(r *request) (int64, error) {
	var delta int64
	if id := r.outcome.OutboxID; id != 0 {
		res, err := w.st.deleteOutbox.Exec(id)
		if err != nil {
			return 0, fmt.Errorf("index: restore %s: delete event: %w", r.uids[0], err)
		}
		n, _ := res.RowsAffected()
		delta -= n
	}
	if r.in.SOPInstanceUID != "" {
		if _, err := w.put(&r.in, true); err != nil {
			return 0, fmt.Errorf("index: restore %s: %w", r.uids[0], err)
		}
		return delta, nil
	}
	if _, err := w.st.deleteInstance.Exec(r.uids[0]); err != nil {
		return 0, fmt.Errorf("index: restore %s: delete row: %w", r.uids[0], err)
	}
	return delta, nil
}

// forgetEvents deletes the outbox events of the given instances, a chunk of
// UIDs per statement (the outbox has no index on sop_instance_uid: each
// statement scans it once).
func (w *writer) forgetEvents(uids []string) (int64, error) {
	const chunk = 500
	var n int64
	for len(uids) > 0 {
		part := uids[:min(chunk, len(uids))]
		uids = uids[len(part):]
		args := make([]any, len(part))
		for i, u := range part {
			args[i] = u
		}
		res, err := w.conn.ExecContext(context.Background(),
			`DELETE FROM outbox WHERE sop_instance_uid <> '' AND sop_instance_uid IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return 0, fmt.Errorf("index: delete outbox events of unstored instances: %w", err)
		}
		c, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("index: delete outbox events of unstored instances: %w", err)
		}
		n += c
	}
	return n, nil
}

// execCount runs st once per argument and returns the rows it affected.
func execCount(st *sql.Stmt, what string, args []any) (int64, error) {
	var n int64
	for _, a := range args {
		res, err := st.Exec(a)
		if err != nil {
			return 0, fmt.Errorf("index: %s: %w", what, err)
		}
		c, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("index: %s: %w", what, err)
		}
		n += c
	}
	return n, nil
}
