package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGroupCommit(t *testing.T) {
	db, _ := openTest(t, Options{})
	const workers, each = 64, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				// 8 patients, 32 studies, 64 series: writers share parents.
				in := inst(fmt.Sprintf("P%d", w%8), fmt.Sprintf("S%d", w%32), fmt.Sprintf("S%d.%d", w%32, w),
					fmt.Sprintf("I.%d.%d", w, i), w*each+i)
				if _, err := db.Put(ctx, in); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	txs, puts := db.w.txs.Load(), int64(workers*each)
	t.Logf("%d Puts in %d transactions (%.1f per transaction) in %v", puts, txs, float64(puts)/float64(txs), time.Since(start))
	if txs >= puts {
		t.Errorf("no batches formed: %d transactions for %d Puts", txs, puts)
	}
	if got := mustTotals(t, db); got.Instances != workers*each || got.Series != workers || got.Studies != 32 || got.Patients != 8 {
		t.Errorf("totals %+v", got)
	}
	checkInvariants(t, db)
}

// hold makes the writer stop inside its next transaction until release is
// called; entered is closed once it is there.
func hold(db *DB) (entered <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.w.hookInTx = func() {
		once.Do(func() {
			close(in)
			<-out
		})
	}
	return in, sync.OnceFunc(func() { close(out) })
}

// waitQueued waits until n requests wait in the writer's queue.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(db.w.reqs) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests queued", len(db.w.reqs), n)
		}
	}
}

func TestFailingRequestDoesNotFailItsBatch(t *testing.T) {
	path := t.TempDir() + "/index.db"
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, _ := sql.Open("sqlite", path)
	if _, err := raw.Exec(`CREATE TRIGGER test_refuse BEFORE INSERT ON instances WHEN NEW.sop_instance_uid LIKE 'bad%'
	  BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	entered, release := hold(db)
	defer release()
	first := make(chan error, 1)
	go func() { _, err := db.Put(ctx, inst("P", "1", "1.1", "first", 0)); first <- err }()
	<-entered
	results := make(chan error, 20)
	for i := range 20 {
		sop := fmt.Sprintf("good.%d", i)
		if i%4 == 0 {
			sop = fmt.Sprintf("bad.%d", i)
		}
		go func() { _, err := db.Put(ctx, inst("P", "1", "1.1", sop, i+1)); results <- err }()
	}
	waitQueued(t, db, 20)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var failed int
	for range 20 {
		if err := <-results; err != nil {
			if !strings.Contains(err.Error(), "refused by test") {
				t.Errorf("unexpected error %v", err)
			}
			failed++
		}
	}
	if failed != 5 {
		t.Errorf("%d Puts failed, want 5", failed)
	}
	if txs := db.w.txs.Load(); txs != 2 {
		t.Errorf("%d transactions, want 2 (one held, one batch)", txs)
	}
	if got := mustTotals(t, db); got.Instances != 16 {
		t.Errorf("totals %+v", got)
	}
	checkInvariants(t, db)
}

func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	db, path := openTest(t, Options{})
	fillTree(t, db)
	entered, release := hold(db)
	defer release()
	done := make(chan error, 1)
	go func() { _, err := db.Put(ctx, inst("P9", "Z", "Z.1", "held", 99)); done <- err }()
	<-entered // the writer is inside BEGIN IMMEDIATE ... with a write lock

	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, n, err := db.Studies(rctx, StudyQuery{Filter: "doe"}); err != nil || n != 3 {
		t.Errorf("Studies during a write: %d, %v", n, err)
	}
	if _, ok, err := db.Get(rctx, "A.1.0"); !ok || err != nil {
		t.Errorf("Get during a write: %v %v", ok, err)
	}
	if tot, err := db.Totals(rctx); err != nil || tot.Instances != 8 {
		t.Errorf("Totals during a write: %+v %v", tot, err)
	}
	if s, err := db.Series(rctx, StudyKey{"P1", "A"}); err != nil || len(s) != 2 {
		t.Errorf("Series during a write: %v %v", s, err)
	}
	if sqlite3, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.CommandContext(rctx, sqlite3, "-readonly", path, "SELECT count(*) FROM instances").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "8" {
			t.Errorf("sqlite3 during a write: %q %v", out, err)
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Get(ctx, "held"); !ok {
		t.Error("held Put not visible after commit")
	}
}

func TestSQLiteShellReadsTheLiveIndex(t *testing.T) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 shell not installed")
	}
	db, path := openTest(t, Options{})
	in := inst("P", "1", "1.1", "1.1.1", 1)
	in.PatientName = "王^小明"
	mustPut(t, db, in)
	out, err := exec.Command(sqlite3, path, "SELECT sop_instance_uid, patient_name, received_at FROM instances").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	if want := "1.1.1|王^小明|2025-03-04T05:06:08.123456789Z"; strings.TrimSpace(string(out)) != want {
		t.Errorf("sqlite3 printed %q, want %q", out, want)
	}
	// The shell (often an older SQLite) accepts the whole schema, triggers included.
	out, err = exec.Command(sqlite3, path, "PRAGMA integrity_check; PRAGMA foreign_key_check; PRAGMA user_version").CombinedOutput()
	if err != nil || strings.Fields(string(out))[0] != "ok" {
		t.Errorf("sqlite3 checks: %q %v", out, err)
	}
}

func TestContextAndClose(t *testing.T) {
	db, err := Open(t.TempDir()+"/index.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Put(cctx, inst("P", "1", "1.1", "x", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
	// Close waits for what is queued.
	entered, release := hold(db)
	var wg sync.WaitGroup
	var ok sync.Map
	put := func(i int) {
		sop := fmt.Sprintf("c.%d", i)
		if _, err := db.Put(ctx, inst("P", "1", "1.1", sop, i)); err == nil {
			ok.Store(sop, true)
		} else if !errors.Is(err, ErrClosed) {
			t.Errorf("Put during Close: %v", err)
		}
	}
	wg.Go(func() { put(0) })
	<-entered
	for i := 1; i < 10; i++ {
		wg.Go(func() { put(i) })
	}
	waitQueued(t, db, 9)
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	time.Sleep(20 * time.Millisecond)
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	n := 0
	ok.Range(func(any, any) bool { n++; return true })
	if n != 10 {
		t.Errorf("%d of 10 queued Puts committed", n)
	}
	if _, err := db.Put(ctx, inst("P", "1", "1.1", "late", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if _, _, err := db.Studies(ctx, StudyQuery{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Studies after Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
