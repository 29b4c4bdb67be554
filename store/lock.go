package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrInUse matches (errors.Is) the error of Open and Reindex when another
// Store, usually in another process, has the storage folder open: an
// *InUseError. Two receivers in one folder would remove each other's
// unfinished files from .incoming and write into each other's journal; so a
// Store holds an exclusive lock on root/.incoming/lock for as long as it is
// open.
var ErrInUse = errors.New("in use by another DICOM Inbox")

// InUseError says that another Store has the folder open, and which process
// (as its lock file says).
type InUseError struct {
	PID int // of the holder; 0: unknown
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%v (process %d)", ErrInUse, e.PID)
	}
	return ErrInUse.Error()
}

// Is makes errors.Is(err, ErrInUse) hold.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// tryLock's failures that lockStorage tells apart.
var (
	errLockHeld        = errors.New("lock held")
	errLockUnsupported = errors.New("no file locks on this file system")
)

// lockFileName is the lock file in .incoming. It holds the process ID of
// the holder, for the message of whoever finds it locked.
const lockFileName = "lock"

// storageLock is a Store's hold on its folder (nil: none, where the
// platform has no file locks).
type storageLock struct{ f *os.File }

// lockStorage creates root/.incoming (0o755) when needed and takes the
// folder's lock, or fails with an *InUseError. On a file system without
// locks (errLockUnsupported) it returns a nil lock: the folder is used
// without one.
func lockStorage(root string) (*storageLock, error) {
	incoming := filepath.Join(root, incomingDir)
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", incomingDir, err)
	}
	f, err := os.OpenFile(filepath.Join(incoming, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	switch err := tryLock(f); {
	case err == nil:
	case errors.Is(err, errLockHeld):
		pid := lockHolder(f)
		f.Close()
		return nil, &InUseError{PID: pid}
	case errors.Is(err, errLockUnsupported):
		f.Close()
		return nil, nil
	default:
		f.Close()
		return nil, fmt.Errorf("lock file: %w", err)
	}
	// Best effort: the ID only makes the message of a second opener better.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &storageLock{f: f}, nil
}

// lockHolder is the process ID recorded in f, or 0.
func lockHolder(f *os.File) int {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// release gives the lock up. A nil lock is a no-op.
func (l *storageLock) release() {
	if l != nil {
		l.f.Close() // closing the file drops the lock
	}
}
