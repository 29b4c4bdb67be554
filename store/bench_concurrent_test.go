package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkFloorVsIngestConcurrent is BenchmarkFloorVsIngest with four
// senders at once, as four associations (case b of tools/bench.sh): there
// concurrent instances share the journal's fdatasyncs and the index's
// transactions. Blocks of 4 × 8 instances alternate between the floor and
// Ingest (which goes first alternates too), each in its own storage root,
// and the wall time of each block counts. It reports the mean time per
// instance of each (floor-ms, ingest-ms) and floor ÷ ingest (= Ingest's
// throughput ÷ the floor's).
func BenchmarkFloorVsIngestConcurrent(b *testing.B) {
	const senders, perSender = 4, 8
	for _, size := range []int{10 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			fs, is := openBenchStore(b), openBenchStore(b)
			var pf, pi [senders]*patchable
			for w := range senders {
				pf[w], pi[w] = newPatchable(size), newPatchable(size)
			}
			// block stores senders × perSender instances, numbered from
			// first, with store, and returns its wall time.
			block := func(first int64, store func(w int, i int64) error) time.Duration {
				t0 := time.Now()
				var wg sync.WaitGroup
				for w := range senders {
					wg.Go(func() {
						for k := range perSender {
							if err := store(w, first+int64(w*perSender+k)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				return time.Since(t0)
			}
			floor := func(w int, i int64) error { return floorStore(fs, pf[w].ds, cmd(pf[w].set(i))) }
			ingest := func(w int, i int64) error {
				_, err := is.Ingest(context.Background(), cmd(pi[w].set(i)), bytes.NewReader(pi[w].ds))
				return err
			}
			var tf, ti time.Duration
			n := int64(0)
			for ; b.Loop(); n++ {
				first := n * senders * perSender
				if n%2 == 0 {
					tf += block(first, floor)
					ti += block(first, ingest)
				} else {
					ti += block(first, ingest)
					tf += block(first, floor)
				}
			}
			count := float64(n * senders * perSender)
			b.ReportMetric(float64(tf.Microseconds())/1e3/count, "floor-ms")
			b.ReportMetric(float64(ti.Microseconds())/1e3/count, "ingest-ms")
			b.ReportMetric(float64(tf)/float64(ti), "floor/ingest")
		})
	}
}
