package store

import (
	"fmt"
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
