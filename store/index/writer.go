package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
)

// The writer owns the only write connection. Put, Delete, DeleteStudy and
// DeleteSeries queue a request and wait; the writer takes the first request,
// then whatever else is already queued (up to MaxBatch) without waiting for
// more, runs them all in one IMMEDIATE transaction and commits once. Under
// load many instances share a transaction (and, with Synchronous FULL, one
// fsync); a lone request is committed at once, so nobody waits for a batch
// to fill. Each request runs inside its own SAVEPOINT, so one that fails is
// rolled back alone and the rest of its batch still commits.

type reqKind int

const (
	kindPut reqKind = iota
	kindDelete
	kindDeleteStudy
	kindDeleteSeries
	kindEnqueue      // an outbox event of no instance
	kindDeleteOutbox // published outbox events
	kindRestore      // take back a Put (and its event)
	kindForget       // delete instance rows and their outbox events
)

type request struct {
	ctx  context.Context
	kind reqKind
	in   Instance // kindPut; the previous row for kindRestore
	uids []string // kindDelete, kindForget; the key (StudyKey, SeriesKey fields in order) for the others
	ids  []int64  // kindDeleteOutbox
	msg  OutboxMessage
	// outcome is the Put that kindRestore takes back.
	outcome Outcome
	done    chan result
}

type result struct {
	out   Outcome
	paths []string
	id    int64 // kindEnqueue: the new event's id
	// delta is the change of the number of outbox rows, counted once the
	// transaction has committed; added and removed are the rows for the
	// in-memory mirror (outbox.go), invalidate drops the mirror.
	delta      int64
	added      []OutboxRow
	removed    []int64
	invalidate bool
	err        error
}

type writer struct {
	conn     *sql.Conn
	st       *stmts
	reqs     chan *request
	stopped  chan struct{}
	maxBatch int
	log      *slog.Logger
	ob       *outboxState
	added    []OutboxRow // outbox rows inserted by the request being applied
	wal      *walWatch

	txs atomic.Int64 // committed transactions, for tests and benchmarks
	// slowPuts counts the Puts that were not one insertKnown (put.go), for
	// tests and benchmarks.
	slowPuts atomic.Int64

	// hookInTx, when set (tests only, before the first request), runs after
	// BEGIN and before the batch's requests.
	hookInTx func()
}

func newWriter(ctx context.Context, wdb *sql.DB, maxBatch int, log *slog.Logger, ob *outboxState) (*writer, error) {
	conn, err := wdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("index: writer connection: %w", err)
	}
	st, err := prepare(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &writer{
		conn:     conn,
		st:       st,
		reqs:     make(chan *request, maxBatch),
		stopped:  make(chan struct{}),
		maxBatch: maxBatch,
		log:      log,
		ob:       ob,
	}, nil
}

// run serves batches until reqs is closed and drained.
func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.maxBatch)
	for r := range w.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
		clear(batch)
	}
}

// close releases the statements and the connection; run must have returned.
func (w *writer) close() error {
	ctx := context.Background()
	// Lets SQLite refresh its query-planner statistics where they are stale.
	if _, err := w.conn.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		w.log.Warn("index: PRAGMA optimize", "err", err)
	}
	w.st.close()
	return w.conn.Close()
}

func (w *writer) exec(st *sql.Stmt) error {
	_, err := st.Exec()
	return err
}

// commit runs batch in one transaction and answers every request. Statements
// run with a background context: one caller giving up must not interrupt a
// transaction shared with others. A request whose context has already ended
// when the batch starts is skipped.
func (w *writer) commit(batch []*request) {
	res := make([]result, len(batch))
	live := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			res[i].err = err
			batch[i] = nil
			r.done <- res[i]
			continue
		}
		live++
	}
	if live == 0 {
		return
	}
	answer := func(failAll error) {
		for i, r := range batch {
			if r == nil {
				continue
			}
			if failAll != nil && res[i].err == nil {
				res[i] = result{out: res[i].out, err: failAll}
			}
			if res[i].err != nil {
				// Nothing of it was committed: its event is gone too.
				w.ob.release(res[i].out.OutboxID)
				res[i].out.OutboxID = 0
			}
			r.done <- res[i]
		}
	}
	if err := w.exec(w.st.begin); err != nil {
		answer(fmt.Errorf("index: begin: %w", err))
		return
	}
	if w.hookInTx != nil {
		w.hookInTx()
	}
	// A savepoint per request isolates its failure from the rest of the
	// batch; a batch of one needs none (its failure rolls everything back).
	savepoints := live > 1
	for i, r := range batch {
		if r == nil {
			continue
		}
		if savepoints {
			if err := w.exec(w.st.savepoint); err != nil {
				w.abort(answer, fmt.Errorf("index: savepoint: %w", err))
				return
			}
		}
		res[i] = w.apply(r)
		if !savepoints {
			if res[i].err != nil {
				w.abort(answer, nil)
				return
			}
			break
		}
		if res[i].err != nil {
			if err := w.exec(w.st.rollbackTo); err != nil {
				// SQLite rolled the whole transaction back (disk full, I/O
				// error): nothing of this batch survives.
				w.abort(answer, fmt.Errorf("%w (transaction lost: %v)", res[i].err, err))
				return
			}
		}
		if err := w.exec(w.st.release); err != nil {
			w.abort(answer, fmt.Errorf("index: release savepoint: %w", err))
			return
		}
	}
	if err := w.exec(w.st.commit); err != nil {
		w.abort(answer, fmt.Errorf("index: commit: %w", err))
		return
	}
	w.txs.Add(1)
	if n := w.wal.committed(); n > 0 {
		w.log.Warn("index: the WAL keeps growing: a program keeps a read transaction open on the index, "+
			"so it cannot be checkpointed; end that transaction (the WAL is reused afterwards)",
			"wal", w.wal.path, "mib", n>>20)
	}
	var delta int64
	var added []OutboxRow
	var removed []int64
	invalidate := false
	for i, r := range batch {
		if r != nil && res[i].err == nil {
			delta += res[i].delta
			added = append(added, res[i].added...)
			removed = append(removed, res[i].removed...)
			invalidate = invalidate || res[i].invalidate
		}
	}
	n := w.ob.n.Add(delta)
	// Not "delta != 0": a batch can add one event and remove another.
	if len(added) > 0 || len(removed) > 0 || invalidate {
		w.ob.applyCommitted(added, removed, invalidate, n)
	}
	answer(nil)
}

// abort rolls the transaction back and fails every request of the batch
// (with err, or with their own error when err is nil).
func (w *writer) abort(answer func(error), err error) {
	if e := w.exec(w.st.rollback); e != nil && !errors.Is(e, sql.ErrTxDone) {
		w.log.Debug("index: rollback", "err", e)
	}
	if err != nil {
		w.log.Error("index: batch failed", "err", err)
	}
	answer(err)
}

// apply runs one request inside the open transaction.
func (w *writer) apply(r *request) result {
	w.added = w.added[:0]
	res := w.applyKind(r)
	if len(w.added) > 0 && res.err == nil {
		res.added = slices.Clone(w.added)
	}
	return res
}

func (w *writer) applyKind(r *request) result {
	switch r.kind {
	case kindPut:
		out, err := w.put(&r.in, false)
		res := result{out: out, err: err}
		if out.OutboxID != 0 {
			res.delta = 1
		}
		return res
	case kindEnqueue:
		id, err := w.insertOutbox(&r.msg)
		return result{id: id, delta: 1, err: err}
	case kindDeleteOutbox:
		args := make([]any, len(r.ids))
		for i, id := range r.ids {
			args[i] = id
		}
		n, err := execCount(w.st.deleteOutbox, "delete published outbox events", args)
		return result{delta: -n, removed: r.ids, err: err}
	case kindRestore:
		delta, err := w.restore(r)
		return result{delta: delta, removed: []int64{r.outcome.OutboxID}, err: err}
	case kindForget:
		n, err := w.forgetEvents(r.uids)
		if err != nil {
			return result{err: err}
		}
		return result{delta: -n, invalidate: n > 0, err: w.deleteInstances(r.uids)}
	case kindDelete:
		return result{err: w.deleteInstances(r.uids)}
	case kindDeleteStudy:
		paths, err := w.deleteLevel(w.st.studyPaths, w.st.deleteStudy, r.uids)
		return result{paths: paths, err: err}
	case kindDeleteSeries:
		paths, err := w.deleteLevel(w.st.seriesPaths, w.st.deleteSeries, r.uids)
		return result{paths: paths, err: err}
	}
	return result{err: fmt.Errorf("index: unknown request kind %d", r.kind)}
}
