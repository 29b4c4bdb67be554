package index

import (
	"bytes"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const walWarning = "the WAL keeps growing"

// putMany puts n instances of series 1.2.3.<series>, numbered from first.
func putMany(t *testing.T, db *DB, series, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if _, err := db.Put(ctx, inst("P", "1.2.3", fmt.Sprintf("1.2.3.%d", series), fmt.Sprintf("1.2.3.4.%d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
}

// The program's own queries, between Puts, leave no read transaction
// behind: the WAL stays at what the automatic checkpoints leave (32 MiB at
// most, ~1100 instances' worth; 2500 cross that twice) and nothing is
// warned about.
func TestOwnQueriesLeaveTheWALBounded(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "index.db")
	const bound = 40 << 20
	db, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), WALWarnBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 25 {
		putMany(t, db, round, round*100, 100)
		if _, _, err := db.Studies(ctx, StudyQuery{Filter: "doe"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Series(ctx, StudyKey{PatientID: "P", StudyInstanceUID: "1.2.3"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Instances(ctx, SeriesKey{PatientID: "P", StudyInstanceUID: "1.2.3", SeriesInstanceUID: fmt.Sprintf("1.2.3.%d", round)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Get(ctx, "1.2.3.4.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Totals(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ReadOutbox(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // the writer has logged all it will
		t.Fatal(err)
	}
	if fi.Size() > bound || strings.Contains(logs.String(), walWarning) {
		t.Errorf("after 2500 Puts between queries the WAL is %d MiB; log:\n%s", fi.Size()>>20, logs.String())
	}
}

// A read transaction that another program keeps open stops the checkpoints:
// the WAL grows with every Put (2000 of them write ~60 MiB) past what the
// checkpoints would leave, and the writer says why.
func TestReaderHoldingTheWALIsWarnedAbout(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), WALWarnBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	putMany(t, db, 0, 0, 10)
	other, err := sql.Open("sqlite", path) // "another program"
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM instances`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("reader: %d rows, %v", n, err)
	}
	putMany(t, db, 0, 10, 2000)
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 40<<20 || !strings.Contains(logs.String(), walWarning) {
		t.Errorf("with a reader holding the WAL it is %d MiB after 2000 Puts; log:\n%s", fi.Size()>>20, logs.String())
	}
}
