//go:build unix

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock on f without waiting. The kernel drops
// it when the file is closed or the process ends, so no lock outlives a
// crash.
func tryLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case err == unix.EINTR:
			continue
		case err == unix.EWOULDBLOCK:
			return errLockHeld
		case err == unix.ENOLCK || err == unix.EOPNOTSUPP || err == unix.ENOSYS:
			return errLockUnsupported
		}
		return err
	}
}
