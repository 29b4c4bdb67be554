// Package logfile is a log file of bounded size: when a write would take
// the file past its limit, the file is renamed to NAME.1 (NAME.1 to NAME.2,
// and so on; the oldest beyond Keep is removed) and a new one is begun. The
// window's log goes there, since a program started from a desktop menu has
// no terminal to write to.
package logfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Defaults for the window's log: at most 6 files of 10 MB.
const (
	DefaultMaxBytes = 10 << 20
	DefaultKeep     = 5
)

// Writer appends to a log file and rotates it. It is safe for concurrent
// use; each Write goes whole into one file.
type Writer struct {
	path     string
	maxBytes int64
	keep     int

	mu     sync.Mutex
	f      *os.File // nil after a failed reopen: the next Write tries again
	size   int64
	closed bool
}

// Open opens (appending) or creates the log file at path, and its folder
// (0o755) when needed. A file reaches at most maxBytes (a single larger
// write gets a file of its own); keep is how many rotated files are kept.
func Open(path string, maxBytes int64, keep int) (*Writer, error) {
	if maxBytes <= 0 || keep < 0 {
		return nil, fmt.Errorf("logfile: bad limits %d bytes, %d kept", maxBytes, keep)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	w := &Writer{path: path, maxBytes: maxBytes, keep: keep}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// Path returns the file's path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("logfile: %w", err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// limit. When a rotation fails, p still goes to the file at the path when
// it can, and the failure is returned.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return 0, err
		}
	}
	var rotErr error
	if w.size > 0 && w.size+int64(len(p)) > w.maxBytes {
		rotErr = w.rotate()
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err == nil {
		err = rotErr
	}
	return n, err
}

// rotate shifts the rotated files up by one, renames the current one to
// NAME.1 and begins a new one. w.mu held.
func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return w.reopen(fmt.Errorf("logfile: close for rotation: %w", err))
	}
	if w.keep == 0 {
		if err := os.Remove(w.path); err != nil {
			return w.reopen(fmt.Errorf("logfile: %w", err))
		}
		return w.reopen(nil)
	}
	if err := os.Remove(w.rotated(w.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return w.reopen(fmt.Errorf("logfile: %w", err))
	}
	for i := w.keep - 1; i >= 1; i-- {
		if err := os.Rename(w.rotated(i), w.rotated(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return w.reopen(fmt.Errorf("logfile: %w", err))
		}
	}
	if err := os.Rename(w.path, w.rotated(1)); err != nil {
		return w.reopen(fmt.Errorf("logfile: %w", err))
	}
	return w.reopen(nil)
}

// reopen opens the file at w.path again after a rotation (or a failed
// one) and returns cause, or the open's failure.
func (w *Writer) reopen(cause error) error {
	if err := w.open(); err != nil {
		w.f = nil
		return errors.Join(cause, err)
	}
	return cause
}

func (w *Writer) rotated(i int) string { return fmt.Sprintf("%s.%d", w.path, i) }

// Close closes the file; later writes fail with os.ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
