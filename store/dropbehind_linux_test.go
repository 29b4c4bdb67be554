package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// residentFraction returns the share of the file's pages that are in the
// page cache (mincore over a read-only mapping).
func residentFraction(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)),
		uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// A stored file leaves the page cache once it is on disk: at once for a
// file fsynced on its own (above the journal's limit), shortly after for a
// journaled one from 256 KiB up, and without Sync once the writeback the
// store starts is done; with KeepPageCache they stay.
func TestDropBehind(t *testing.T) {
	for _, mode := range []struct{ sync, keep bool }{{true, false}, {false, false}, {true, true}} {
		keep := mode.keep
		opt := DefaultOptions()
		opt.Sync, opt.KeepPageCache = mode.sync, mode.keep
		opt.JournalMaxInstance = 1 << 20 // the 512 KiB file goes through the journal
		s := openTestOpt(t, opt)
		for _, c := range []struct {
			uid  string
			size int
		}{{"1.2.3.1", 3 << 20}, {"1.2.3.2", 512 << 10}} {
			st := ingest(t, s, cmd(c.uid), basicDataSet(ctClass, c.uid, "1.2.4", "1.2.5", "P1", c.size))
			path := filepath.Join(s.Root(), filepath.FromSlash(st.Path))
			got := residentFraction(t, path)
			if !keep {
				for deadline := time.Now().Add(5 * time.Second); got > 0.1 && time.Now().Before(deadline); {
					time.Sleep(50 * time.Millisecond)
					got = residentFraction(t, path)
				}
				if got > 0.1 {
					t.Errorf("sync %v, %d KiB: %.0f %% of its pages still cached", opt.Sync, c.size>>10, 100*got)
				}
				continue
			}
			time.Sleep(2 * dropDelay)
			if got = residentFraction(t, path); got < 0.9 {
				t.Errorf("KeepPageCache, %d KiB: only %.0f %% of its pages cached", c.size>>10, 100*got)
			}
		}
	}
}
