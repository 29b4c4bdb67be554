package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// patchable is a data set whose SOP Instance UID can be changed in place
// (fixed width), so that a benchmark stores distinct instances without
// building a new data set for each.
type patchable struct {
	ds    []byte
	uidAt int
}

const uidTemplate = "1.2.3.4.5.6.0000000000000"

func newPatchable(size int) *patchable {
	ds := basicDataSet(ctClass, uidTemplate, "1.2.4", "1.2.5", "P1", size)
	return &patchable{ds: ds, uidAt: bytes.Index(ds, []byte(uidTemplate))}
}

func (p *patchable) set(i int64) string {
	uid := fmt.Sprintf("1.2.3.4.5.6.%013d", i)
	copy(p.ds[p.uidAt:], uid)
	return uid
}

// BenchmarkIngest stores distinct instances into one series directory (the
// common case: the directory exists after the first instance).
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{10 << 10, 512 << 10} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%dKiB/sync=%v", size>>10, sync), func(b *testing.B) {
				s := openTest(b, sync)
				p := newPatchable(size)
				b.SetBytes(int64(len(p.ds)))
				for i := int64(0); b.Loop(); i++ {
					uid := p.set(i)
					if _, err := s.Ingest(context.Background(), cmd(uid), bytes.NewReader(p.ds)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIngestParallel runs four Ingests at a time into one series
// directory, as four associations sending one study do; with sync on, their
// directory fsyncs coalesce.
func BenchmarkIngestParallel(b *testing.B) {
	for _, size := range []int{10 << 10, 512 << 10} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%dKiB/sync=%v", size>>10, sync), func(b *testing.B) {
				s := openTest(b, sync)
				var n atomic.Int64
				b.SetBytes(int64(len(newPatchable(size).ds)))
				b.SetParallelism(4) // GOMAXPROCS x 4 goroutines
				b.RunParallel(func(pb *testing.PB) {
					p := newPatchable(size)
					for pb.Next() {
						uid := p.set(n.Add(1))
						if _, err := s.Ingest(context.Background(), cmd(uid), bytes.NewReader(p.ds)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// floorStore does the file system work of one Ingest and nothing else: a
// temp file from s.newTemp (a spare when s keeps them) in .incoming, the
// same bytes (meta group + data set) written through the same buffer with
// the same writeback hints, made durable the same way (a journal record and
// its shared fdatasync when the journal takes the file, else fsync), then
// placed by Ingest's own place: close, rename into the same
// patient/study/series folder and, for a file not in the journal, an fsync
// of that folder through the same coalescer (no fsync at all when s does
// not sync), and its pages dropped as Ingest drops them (dropbehind.go).
// What it leaves out is exactly the work the index adds: the CRC of the data set,
// reading the header back, the stat calls and the SQLite transaction (and
// its outbox event, if any).
func floorStore(s *Store, ds []byte, in Instance) error {
	ctx := context.Background()
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	meta := metaInfo{SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID, TransferSyntaxUID: in.TransferSyntaxUID,
		ImplementationClassUID: s.opt.ImplementationClassUID, ImplementationVersionName: s.opt.ImplementationVersionName,
		CallingAE: in.CallingAE, CalledAE: in.CalledAE}
	metaLen := len(appendFileMeta(buf[:0], meta))
	t, err := s.newTemp()
	if err != nil {
		return err
	}
	defer t.discard(s)
	n, rerr, werr := s.copyIn(ctx, t.f, buf, metaLen, bytes.NewReader(ds))
	if rerr != nil || werr != nil {
		return errors.Join(rerr, werr)
	}
	// The folders of newPatchable's data set, as Ingest would name them.
	comps := layout(Header{PatientID: "P1", StudyInstanceUID: "1.2.4", SeriesInstanceUID: "1.2.5", SOPInstanceUID: in.SOPInstanceUID})
	abs, rel, err := resolve(s.root, comps[:])
	if err != nil {
		return err
	}
	// As Ingest: a file still whole in the buffer is journaled from it.
	size := int64(metaLen) + n
	ent, err := s.jr.append(t.f, wholeInBuffer(buf, size), size, rel, abs, time.Now().UnixNano(), buf)
	if errors.Is(err, errJournalSkip) {
		err = nil
		if s.opt.Sync {
			err = t.f.Sync()
			if err == nil {
				s.dropSynced(t.f) // as Ingest
			}
		}
	}
	if err != nil {
		return err
	}
	s.writeBackForDrop(t, size)           // as Ingest
	defer ent.withdraw()                  // unless done below, as in placeFirst
	startJournaledWriteback(t, ent, size) // as placeFirst
	// Ingest's own placement: close, folders, rename, spare refill and,
	// for a file not in the journal, the folder fsync.
	if _, err := s.place(t, abs, comps, ent == nil); err != nil {
		return err
	}
	ent.done()
	s.dropPlaced(ent, abs, size) // as placeFirst
	return nil
}

// BenchmarkFloor is the cost of the bare file system work Ingest cannot avoid
// (floorStore: create, write, journal record or fsync, close, rename, folder
// fsync when not journaled, with the same folder layout and buffers as
// Ingest), to compare BenchmarkIngest
// with on the same machine. Runs of the two are taken at different moments:
// on a shared machine fsync latency drifts between them, so prefer
// BenchmarkFloorVsIngest for the ratio.
func BenchmarkFloor(b *testing.B) {
	for _, size := range []int{10 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB/sync=true", size>>10), func(b *testing.B) {
			s := openTest(b, true)
			p := newPatchable(size)
			b.SetBytes(int64(len(p.ds)))
			for i := int64(0); b.Loop(); i++ {
				if err := floorStore(s, p.ds, cmd(p.set(i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openBenchStore opens a store in a new folder with the application's
// options (fsync on, 4 spare temp files as app/storage.go).
func openBenchStore(b *testing.B) *Store {
	opt := DefaultOptions()
	opt.Logger = slog.New(slog.DiscardHandler)
	opt.SpareTempFiles = 4
	s, err := Open(b.TempDir(), opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkFloorVsIngest measures the ratio the index goal is about
// (Ingest's throughput ÷ the file-only floor's, goal ≥ 0.9) with both
// contenders interleaved instance by instance, each in its own storage root
// opened with the options the application uses (fsync on, 4 spare temp
// files): the drift of fsync latency on a shared disk then hits both
// alike. It reports the mean time per instance of each (floor-ms, ingest-ms)
// and their ratio floor ÷ ingest (= ingest throughput ÷ floor throughput);
// ns/op is the time of one pair.
func BenchmarkFloorVsIngest(b *testing.B) {
	for _, size := range []int{10 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			fs, is := openBenchStore(b), openBenchStore(b)
			pf, pi := newPatchable(size), newPatchable(size)
			var tf, ti time.Duration
			floor := func(i int64) {
				t0 := time.Now()
				if err := floorStore(fs, pf.ds, cmd(pf.set(i))); err != nil {
					b.Fatal(err)
				}
				tf += time.Since(t0)
			}
			ingest := func(i int64) {
				t0 := time.Now()
				if _, err := is.Ingest(context.Background(), cmd(pi.set(i)), bytes.NewReader(pi.ds)); err != nil {
					b.Fatal(err)
				}
				ti += time.Since(t0)
			}
			n := int64(0)
			for ; b.Loop(); n++ {
				if n%2 == 0 {
					floor(n)
					ingest(n)
				} else {
					ingest(n)
					floor(n)
				}
			}
			b.ReportMetric(float64(tf.Microseconds())/1e3/float64(n), "floor-ms")
			b.ReportMetric(float64(ti.Microseconds())/1e3/float64(n), "ingest-ms")
			b.ReportMetric(float64(tf)/float64(ti), "floor/ingest")
		})
	}
}
