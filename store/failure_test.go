package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// brokenReader yields n bytes of r and then fails, like an association that
// breaks in the middle of a data set.
type brokenReader struct {
	r   io.Reader
	n   int
	err error
}

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, b.err
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= k
	return k, err
}

var errReset = errors.New("connection reset by peer")

func TestIngestReadErrorKeepsNothing(t *testing.T) {
	s := openTest(t, true)
	ds := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 1<<20)
	for _, n := range []int{0, 100, 300 << 10, len(ds) - 1} { // before and after the first 256 KiB write
		_, err := s.Ingest(context.Background(), cmd("1.2.3"), &brokenReader{bytes.NewReader(ds), n, errReset})
		if !errors.Is(err, errReset) || errors.Is(err, ErrOutOfResources) || errors.Is(err, ErrCannotUnderstand) {
			t.Errorf("after %d bytes: err %v", n, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Ingest(ctx, cmd("1.2.3"), bytes.NewReader(ds)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err %v", err)
	}
	assertNoLeftovers(t, s, 0)
}

// TestIngestFaults injects a failure into the k-th call of every file system
// operation, for every k until Ingest no longer reaches it.
func TestIngestFaults(t *testing.T) {
	ds := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 1000)
	mismatch := basicDataSet(ctClass, "1.2.3.9", "1.2.4", "1.2.5", "P1", 1000) // takes the rewrite path
	for _, op := range []string{"create", "write", "sync", "close", "mkdir", "rename", "dirsync"} {
		for _, data := range [][]byte{ds, mismatch} {
			for k := 1; ; k++ {
				s := openTest(t, true)
				calls, renamed, injected := 0, false, false
				s.setFaultHook(func(o string) error {
					if o == op {
						if calls++; calls == k {
							injected = true
							return &os.PathError{Op: op, Path: "injected", Err: syscall.ENOSPC}
						}
					}
					if o == "rename" {
						renamed = true
					}
					return nil
				})
				_, err := s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(data))
				if !injected {
					if err != nil {
						t.Errorf("%s #%d: %v", op, k, err)
					}
					break
				}
				if !errors.Is(err, ErrOutOfResources) || !errors.Is(err, syscall.ENOSPC) {
					t.Errorf("%s #%d: err %v", op, k, err)
				}
				want := 0
				if renamed {
					want = 1 // complete and fsynced; only its directory entry may not be durable
				}
				assertNoLeftovers(t, s, want)
			}
		}
	}
}

// TestIngestStampFaults: setting the received time on the temp file fails
// (utimensat, or fstat where the file system's time granularity is
// unknown): A700 and nothing left, with either way of stamping.
func TestIngestStampFaults(t *testing.T) {
	for _, op := range []string{"utimes", "stat"} {
		s := openTest(t, true)
		if op == "stat" {
			s.mtimeGrain = 0 // as on a file system whose times read back at no known granularity
		} else if s.mtimeGrain == 0 {
			t.Fatal("the test folder's file system has no known time granularity: utimensat is not used")
		}
		injected := false
		s.setFaultHook(func(o string) error {
			if o == op {
				injected = true
				return &os.PathError{Op: op, Path: "injected", Err: syscall.EIO}
			}
			return nil
		})
		_, err := s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 1000)))
		if !injected || !errors.Is(err, ErrOutOfResources) || !errors.Is(err, syscall.EIO) {
			t.Errorf("%s: injected %v, err %v", op, injected, err)
		}
		assertNoLeftovers(t, s, 0)
	}
}

// TestIngestTargetIsAFile exercises a genuine mkdir failure: a regular file
// sits where the patient directory belongs.
func TestIngestTargetIsAFile(t *testing.T) {
	s := openTest(t, true)
	if err := os.WriteFile(filepath.Join(s.Root(), "P1"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 10)))
	if !errors.Is(err, ErrOutOfResources) {
		t.Errorf("err %v", err)
	}
	assertNoLeftovers(t, s, 1) // the obstacle
}

// mountTmpfs mounts a tmpfs of the given size on a new directory, or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root and mount rights): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestIngestDiskFull fills a real 1 MiB file system.
func TestIngestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	opt := DefaultOptions()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	big := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 2<<20)
	_, err = s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(big))
	if !errors.Is(err, ErrOutOfResources) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v", err)
	}
	assertNoLeftovers(t, s, 0)
	// The space is back: a small instance fits.
	ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 10<<10))
	if free, err := s.FreeBytes(); err != nil || free > 1<<20 {
		t.Errorf("FreeBytes = %d, %v", free, err)
	}
	assertNoLeftovers(t, s, 1)
}

// TestIngestReadOnly remounts the file system read-only under a running store.
func TestIngestReadOnly(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	s, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Close() // an open database would keep the file system busy
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	_, err = s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 10)))
	if !errors.Is(err, ErrOutOfResources) || !errors.Is(err, syscall.EROFS) {
		t.Errorf("err %v", err)
	}
	if _, err := Open(dir, DefaultOptions()); err == nil {
		t.Error("Open of a read-only root succeeded")
	} else {
		t.Logf("Open read-only: %v", err)
	}
	assertNoLeftovers(t, s, 0)
}
