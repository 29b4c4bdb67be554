package store

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data (and only the metadata needed to read it back)
// to disk.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// syncTree returns the checkpoint's sync for the tree at root: one syncfs
// of its file system, which writes every renamed file and changed folder at
// once (and reports write-back errors since Linux 5.8).
func syncTree(root string) func(live []string) error {
	return func([]string) error {
		f, err := os.Open(root)
		if err != nil {
			return fmt.Errorf("syncfs: %w", err)
		}
		defer f.Close()
		if err := unix.Syncfs(int(f.Fd())); err != nil {
			return fmt.Errorf("syncfs %s: %w", root, err)
		}
		return nil
	}
}

// writeAt2 writes a and then b to f at off in one pwritev where it can.
func writeAt2(f *os.File, off int64, a, b []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for len(a)+len(b) > 0 {
		var n int
		var werr error
		if cerr := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Pwritev(int(fd), [][]byte{a, b}, off)
			return werr != unix.EAGAIN
		}); cerr != nil {
			return cerr
		}
		if werr == unix.EINTR {
			continue
		}
		if werr != nil {
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: werr}
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		k := min(n, len(a))
		a, b = a[k:], b[n-k:]
	}
	return nil
}
