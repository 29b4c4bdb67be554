package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
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

// BenchmarkFloor is the cost of the bare file system work Ingest cannot avoid
// (create, write, fsync, close, rename, fsync the directory), to compare
// BenchmarkIngest with on the same machine.
func BenchmarkFloor(b *testing.B) {
	for _, size := range []int{10 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB/sync=true", size>>10), func(b *testing.B) {
			dir := b.TempDir()
			data := make([]byte, size)
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				tmp := filepath.Join(dir, "x.part")
				f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				f.Write(data)
				f.Sync()
				f.Close()
				if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprint(i, ".dcm"))); err != nil {
					b.Fatal(err)
				}
				if err := syncDir(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
