package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// testEvent is the outbox function of these tests: key = study, value = SOP.
func testEvent(in *Instance) (OutboxMessage, error) {
	return OutboxMessage{Stream: StreamInstance, Key: in.StudyInstanceUID,
		Headers: []OutboxHeader{{"ce_id", "id-" + in.SOPInstanceUID}}, Value: []byte(in.SOPInstanceUID)}, nil
}

func openOutbox(t *testing.T) (*DB, *atomic.Int64) {
	t.Helper()
	var woken atomic.Int64
	db, _ := openTest(t, Options{Outbox: testEvent, OutboxReady: func() { woken.Add(1) }})
	return db, &woken
}

func readAll(t *testing.T, db *DB) []OutboxRow {
	t.Helper()
	rows, err := db.ReadOutbox(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func values(rows []OutboxRow) []string {
	var v []string
	for _, r := range rows {
		v = append(v, string(r.Value))
	}
	return v
}

func TestOutboxEventHeldUntilReleased(t *testing.T) {
	db, woken := openOutbox(t)
	out := mustPut(t, db, inst("P", "1.1", "1.1.1", "1.1.1.1", 1))
	if out.OutboxID == 0 {
		t.Fatal("Put with Options.Outbox wrote no event")
	}
	if n := db.OutboxLen(); n != 1 {
		t.Fatalf("OutboxLen %d, want 1", n)
	}
	if rows := readAll(t, db); len(rows) != 0 {
		t.Fatalf("a held event is readable: %v", values(rows))
	}
	db.ReleaseOutbox(out.OutboxID)
	if woken.Load() == 0 {
		t.Error("ReleaseOutbox did not call OutboxReady")
	}
	rows := readAll(t, db)
	if len(rows) != 1 {
		t.Fatalf("%d events after release, want 1", len(rows))
	}
	r := rows[0]
	if r.ID != out.OutboxID || r.Stream != StreamInstance || r.Key != "1.1" || string(r.Value) != "1.1.1.1" ||
		r.SOPInstanceUID != "1.1.1.1" || len(r.Headers) != 1 || r.Headers[0] != (OutboxHeader{"ce_id", "id-1.1.1.1"}) ||
		time.Since(r.CreatedAt) > time.Minute {
		t.Errorf("event read back: %+v", r)
	}
	if err := db.DeleteOutbox(ctx, r.ID, 9999); err != nil {
		t.Fatal(err)
	}
	if n := db.OutboxLen(); n != 0 || len(readAll(t, db)) != 0 {
		t.Errorf("after delete: OutboxLen %d", n)
	}
}

func TestOutboxNoFuncNoEvents(t *testing.T) {
	db, _ := openTest(t, Options{})
	if out := mustPut(t, db, inst("P", "1.1", "1.1.1", "1.1.1.1", 1)); out.OutboxID != 0 {
		t.Errorf("OutboxID %d without Options.Outbox", out.OutboxID)
	}
	var n int
	if err := db.rdb.QueryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil || n != 0 || db.OutboxLen() != 0 {
		t.Errorf("outbox rows %d (%v), OutboxLen %d", n, err, db.OutboxLen())
	}
}

// A held event also holds back every later one, so the relay keeps the order.
func TestOutboxHoldKeepsOrder(t *testing.T) {
	db, _ := openOutbox(t)
	a := mustPut(t, db, inst("P", "1.1", "1.1.1", "A", 1))
	b := mustPut(t, db, inst("P", "1.1", "1.1.1", "B", 2))
	db.ReleaseOutbox(b.OutboxID)
	if rows := readAll(t, db); len(rows) != 0 {
		t.Fatalf("event after a held one is readable: %v", values(rows))
	}
	id, err := db.EnqueueOutbox(ctx, OutboxMessage{Stream: StreamLifecycle, Key: "AE", Value: []byte("L")})
	if err != nil || id <= b.OutboxID {
		t.Fatalf("EnqueueOutbox: id %d, %v", id, err)
	}
	db.ReleaseOutbox(a.OutboxID)
	if got := fmt.Sprint(values(readAll(t, db))); got != "[A B L]" {
		t.Errorf("order %s, want [A B L]", got)
	}
	if rows, _ := db.ReadOutbox(ctx, 2); len(rows) != 2 {
		t.Errorf("ReadOutbox(2) returned %d", len(rows))
	}
	if db.OutboxLen() != 3 {
		t.Errorf("OutboxLen %d, want 3", db.OutboxLen())
	}
}

// Restore takes back a new instance (row and event) or a replacement (the
// old row comes back, without an event of its own).
func TestOutboxRestore(t *testing.T) {
	db, _ := openOutbox(t)
	out := mustPut(t, db, inst("P", "1.1", "1.1.1", "N", 1))
	if err := db.Restore(ctx, "N", out); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Get(ctx, "N"); ok {
		t.Error("restored new instance still has its row")
	}
	if db.OutboxLen() != 0 || len(readAll(t, db)) != 0 {
		t.Errorf("event of a restored instance left: %d", db.OutboxLen())
	}

	old := inst("P", "1.1", "1.1.1", "R", 1)
	first := mustPut(t, db, old)
	db.ReleaseOutbox(first.OutboxID)
	newer := old
	newer.SizeBytes, newer.ContentHash = 5555, "other"
	second := mustPut(t, db, newer)
	if !second.Replaced || second.OutboxID == 0 {
		t.Fatalf("replacement: %+v", second)
	}
	if err := db.Restore(ctx, "R", second); err != nil {
		t.Fatal(err)
	}
	got, ok, _ := db.Get(ctx, "R")
	if !ok || got.SizeBytes != old.SizeBytes {
		t.Errorf("previous row not back: %+v", got)
	}
	if rows := readAll(t, db); len(rows) != 1 || rows[0].ID != first.OutboxID || db.OutboxLen() != 1 {
		t.Errorf("events after restoring a replacement: %v (len %d), want only the first", values(rows), db.OutboxLen())
	}
}

// Forget removes rows and their events; a plain Delete leaves events alone.
func TestOutboxForget(t *testing.T) {
	db, _ := openOutbox(t)
	for i, sop := range []string{"F1", "F2", "D"} {
		db.ReleaseOutbox(mustPut(t, db, inst("P", "1.1", "1.1.1", sop, i)).OutboxID)
	}
	if err := db.Forget(ctx, "F1", "F2"); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(values(readAll(t, db))); got != "[D]" || db.OutboxLen() != 1 {
		t.Errorf("events %s (len %d), want [D]", got, db.OutboxLen())
	}
	if tot, _ := db.Totals(ctx); tot.Instances != 0 {
		t.Errorf("rows left: %+v", tot)
	}
}

// A Put whose caller gave up (its context ended) while the writer had it
// still commits; its event must not stay (nor block the outbox).
func TestOutboxAbandonedPutDropsEvent(t *testing.T) {
	db, _ := openOutbox(t)
	gate := make(chan struct{})
	entered := make(chan struct{}, 4)
	db.w.hookInTx = func() {
		entered <- struct{}{}
		<-gate
	}
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := db.Put(cctx, inst("P", "1.1", "1.1.1", "X", 1))
		errc <- err
	}()
	<-entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Put: %v", err)
	}
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for db.OutboxLen() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("event of an abandoned Put still there (OutboxLen %d)", db.OutboxLen())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Later events are not blocked by a stale hold (the hold ends just after
	// the delete commits, hence the polling).
	db.ReleaseOutbox(mustPut(t, db, inst("P", "1.1", "1.1.1", "Y", 2)).OutboxID)
	for got := ""; got != "[Y]"; got = fmt.Sprint(values(readAll(t, db))) {
		if time.Now().After(deadline) {
			t.Fatalf("events %s, want [Y]", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An event id is never used twice in a process, even after the last row was
// deleted (SQLite's rowid would reuse it): a late release of the old event
// must not end the hold of a new one.
func TestOutboxIDsNotReused(t *testing.T) {
	db, _ := openOutbox(t)
	x := mustPut(t, db, inst("P", "1.1", "1.1.1", "X", 1)).OutboxID
	db.ReleaseOutbox(x)
	if err := db.DeleteOutbox(ctx, x); err != nil {
		t.Fatal(err)
	}
	y := mustPut(t, db, inst("P", "1.1", "1.1.1", "Y", 2)).OutboxID
	if y <= x {
		t.Fatalf("event id %d after deleted %d: reused", y, x)
	}
	db.ReleaseOutbox(x) // stale: must not make Y readable
	if got := values(readAll(t, db)); len(got) != 0 {
		t.Fatalf("held event readable after a stale release: %v", got)
	}
}

// A transaction that adds one event and removes another (outbox size
// unchanged) still updates what the relay reads.
func TestOutboxBatchAddAndRemove(t *testing.T) {
	db, _ := openOutbox(t)
	x := mustPut(t, db, inst("P", "1.1", "1.1.1", "X", 1)).OutboxID
	db.ReleaseOutbox(x)
	gate := make(chan struct{})
	entered := make(chan struct{}, 8)
	db.w.hookInTx = func() {
		entered <- struct{}{}
		<-gate
	}
	// Hold the writer in a transaction, queue a Put and a delete behind it:
	// the writer takes both into its next batch.
	first := db.PutAsync(ctx, inst("P", "1.1", "1.1.1", "W", 3))
	<-entered
	y := db.PutAsync(ctx, inst("P", "1.1", "1.1.1", "Y", 2))
	delErr := make(chan error, 1)
	go func() { delErr <- db.DeleteOutbox(ctx, x) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.w.reqs) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("requests not queued")
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	w, err := first.Wait()
	if err != nil {
		t.Fatal(err)
	}
	out, err := y.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-delErr; err != nil {
		t.Fatal(err)
	}
	db.ReleaseOutbox(w.OutboxID)
	db.ReleaseOutbox(out.OutboxID)
	if got := fmt.Sprint(values(readAll(t, db))); got != "[W Y]" {
		t.Fatalf("events %s, want [W Y]", got)
	}
}

// OutboxLen survives a reopen (counted at Open); a v1 index gains the outbox.
func TestOutboxMigrationAndCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(migrations[0] + "PRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	quiet := slog.New(slog.DiscardHandler)
	db, err := Open(path, Options{Logger: quiet, Outbox: testEvent})
	if err != nil {
		t.Fatalf("open a v1 index: %v", err)
	}
	for i := range 3 {
		db.ReleaseOutbox(mustPut(t, db, inst("P", "1.1", "1.1.1", fmt.Sprint("S", i), i)).OutboxID)
	}
	db.Close()
	if v := userVersion(t, path); v != 2 {
		t.Errorf("user_version %d, want 2", v)
	}
	db, err = Open(path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.OutboxLen(); n != 3 {
		t.Errorf("OutboxLen after reopen %d, want 3", n)
	}
	if rows := readAll(t, db); len(rows) != 3 {
		t.Errorf("events after reopen: %d (holds must not outlive the process)", len(rows))
	}
}

// The in-memory mirror the relay reads returns what the table holds.
func TestOutboxMirrorMatchesTable(t *testing.T) {
	db, _ := openOutbox(t)
	var ids []int64
	for i := range 20 {
		out := mustPut(t, db, inst("P", "1.1", "1.1.1", fmt.Sprint("M", i), i))
		ids = append(ids, out.OutboxID)
		if i%3 != 0 {
			db.ReleaseOutbox(out.OutboxID)
		}
	}
	if _, err := db.EnqueueOutbox(ctx, OutboxMessage{Stream: StreamLifecycle, Key: "AE", Value: []byte("L")}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteOutbox(ctx, ids[1], ids[2], ids[5]); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if i%3 == 0 && i != 6 {
			db.ReleaseOutbox(id)
		}
	}
	// ids[6] is still held: the mirror and the table stop before it.
	mem := readAll(t, db)
	db.ob.mu.Lock()
	valid := db.ob.memValid
	db.ob.memValid = false // the next read queries the table
	db.ob.mu.Unlock()
	if !valid {
		t.Fatal("the mirror was not in use")
	}
	table := readAll(t, db)
	if fmt.Sprint(values(mem)) != fmt.Sprint(values(table)) || len(mem) != 3 {
		t.Errorf("mirror %v, table %v (want M0 M3 M4)", values(mem), values(table))
	}
	for i := range mem {
		if mem[i].ID != table[i].ID || mem[i].Key != table[i].Key || len(mem[i].Headers) != len(table[i].Headers) {
			t.Errorf("row %d: mirror %+v, table %+v", i, mem[i], table[i])
		}
	}
}
