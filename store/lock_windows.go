//go:build windows

package store

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the locked byte lies: past the process ID that the
// file holds, because Windows locks keep others from reading the range.
const lockOffset = 1 << 20

// tryLock takes an exclusive lock of one byte of f without waiting; Windows
// drops it when the handle is closed or the process ends.
func tryLock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return errLockHeld
	case errors.Is(err, windows.ERROR_NOT_SUPPORTED):
		return errLockUnsupported
	}
	return err
}
