package index

import (
	"fmt"
	"log/slog"
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

// BenchmarkPutSerial is one caller at a time: every Put is its own commit.
func BenchmarkPutSerial(b *testing.B) {
	db, _ := openTest(b, Options{})
	for i := range b.N {
		if _, err := db.Put(ctx, inst("P", "S", fmt.Sprintf("S.%d", i/500), fmt.Sprintf("1.2.3.%d", i), i)); err != nil {
			b.Fatal(err)
		}
	}
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
