package index

import (
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPut measures group-committed Puts from many goroutines (as from
// several associations at once), each into its own series of 500.
func BenchmarkPut(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run(sync, func(b *testing.B) {
			db, _ := openTest(b, Options{Synchronous: sync})
			var seq atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS concurrent callers
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := int(seq.Add(1))
					in := inst(fmt.Sprintf("P%d", n/2000), fmt.Sprintf("S%d", n/1000), fmt.Sprintf("S%d.%d", n/1000, n/500),
						fmt.Sprintf("1.2.3.%d", n), n)
					if _, err := db.Put(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "puts/s")
			b.ReportMetric(float64(b.N)/float64(max(db.w.txs.Load(), 1)), "puts/tx")
		})
	}
}

// BenchmarkPutSerial is one caller at a time: every Put is its own commit
// (the common case of one association). Besides the time it reports the CPU
// time of the process per Put (where cpuTime knows it) and, from further
// Puts run untimed with automatic checkpoints off, the WAL frames (pages)
// each commit writes.
func BenchmarkPutSerial(b *testing.B) {
	db, path := openTest(b, Options{})
	put := func(i int) {
		if _, err := db.Put(ctx, inst("P", "S", fmt.Sprintf("S.%d", i/500), fmt.Sprintf("1.2.3.%d", i), i)); err != nil {
			b.Fatal(err)
		}
	}
	benchPutSerial(b, db, path, put)
}

// BenchmarkPutSerialTwoSenders is BenchmarkPutSerial with two senders
// taking turns within one study (a series each), so that every Put changes
// the study's source_ae: the general path, not the one-statement insert.
func BenchmarkPutSerialTwoSenders(b *testing.B) {
	db, path := openTest(b, Options{})
	put := func(i int) {
		in := inst("P", "S", fmt.Sprintf("S.%d", i%2), fmt.Sprintf("1.2.3.%d", i), i)
		in.CallingAE = fmt.Sprintf("AE%d", i%2)
		if _, err := db.Put(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	benchPutSerial(b, db, path, put)
}

// benchPutSerial times b.N calls of put and reports the process CPU time
// per call (where cpuTime knows it) and the WAL frames per call.
func benchPutSerial(b *testing.B, db *DB, path string, put func(int)) {
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		put(i)
	}
	b.StopTimer()
	if cpu0 >= 0 {
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}
	b.ReportMetric(walFramesPerPut(b, db, path, b.N, put), "walframes/op")
}

// walFramesPerPut checkpoints the WAL, turns automatic checkpoints off, runs
// put for the next walPuts values after from and returns the WAL frames
// written per call. Each frame is one page.
func walFramesPerPut(b *testing.B, db *DB, path string, from int, put func(int)) float64 {
	const walPuts = 300
	if _, err := db.w.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		b.Fatal(err)
	}
	defer db.w.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutocheckpoint)) //nolint:errcheck
	var pageSize int64
	if err := db.w.conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		b.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			b.Fatal(err)
		}
		return fi.Size()
	}
	s0 := size()
	for i := range walPuts {
		put(from + i)
	}
	return float64(size()-s0) / float64(pageSize+24) / walPuts
}

// BenchmarkStudiesPage: one page of the study list on 1,000,000 instances in
// 20,000 studies. Goal: at most 50 ms per page.
func BenchmarkStudiesPage(b *testing.B) {
	path := fixture(b)
	db, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cases := []struct {
		name string
		q    StudyQuery
	}{
		{"default", StudyQuery{Limit: 50}},
		{"filter-yamada", StudyQuery{Filter: "yamada", Limit: 50}},
		{"filter-rare", StudyQuery{Filter: "acc00012345", Limit: 50}},
		{"filter-cjk", StudyQuery{Filter: "山田", Limit: 50}},
		{"filter-2terms-modality-dates", StudyQuery{Filter: "jerome head", Modality: "CT", DateFrom: "20240201", DateTo: "20240630", Limit: 50}},
		{"filter-common-deep", StudyQuery{Filter: "a", Offset: 15_000, Limit: 50}},
		{"filter-common-sort-size", StudyQuery{Filter: "e", Sort: SortSize, Limit: 50}},
		{"sort-patient-name", StudyQuery{Sort: SortPatientName, Limit: 50}},
		{"deep-offset-19000", StudyQuery{Offset: 19_000, Limit: 50}},
		{"deep-offset-19000-patient-name-desc", StudyQuery{Sort: SortPatientName, Desc: true, Offset: 19_000, Limit: 50}},
		{"deep-offset-19000-instances", StudyQuery{Sort: SortInstances, Offset: 19_000, Limit: 50}},
	}
	for c := SortPatientName; c <= SortLastReceived; c++ {
		cases = append(cases, struct {
			name string
			q    StudyQuery
		}{fmt.Sprintf("sort-%v-desc", c), StudyQuery{Sort: c, Desc: true, Limit: 50}})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var rows []Study
			var total int
			for b.Loop() {
				rows, total, err = db.Studies(ctx, c.q)
				if err != nil {
					b.Fatal(err)
				}
			}
			if total == 0 || len(rows) == 0 {
				b.Errorf("%s: empty page (total %d)", c.name, total)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
			b.ReportMetric(float64(total), "matches")
		})
	}
	b.Run("totals", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Totals(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
