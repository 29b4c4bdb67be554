package store

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to disk
// without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). It is only a
// head start for the fsync that follows; errors are left to that fsync.
func startWriteback(f *os.File, off, n int64) {
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, 0x2 /* SYNC_FILE_RANGE_WRITE */)
}

// awaitWriteback writes out what of f is still dirty and waits until f's
// pages are written (sync_file_range WAIT_BEFORE|WRITE|WAIT_AFTER): no
// flush of the disk's cache, no metadata; only so that dropPages finds
// them clean. Errors are left to whoever makes f durable.
func awaitWriteback(f *os.File) {
	_ = syscall.SyncFileRange(int(f.Fd()), 0, 0, 0x1|0x2|0x4)
}

// dropPages asks the kernel to drop the clean cached pages of [off, off+n)
// of f (n == 0: to the end of the file); dirty pages and pages under
// writeback stay. It is only advice: errors are ignored.
func dropPages(f *os.File, off, n int64) {
	_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), uintptr(off), uintptr(n), 4 /* POSIX_FADV_DONTNEED */, 0, 0)
}
