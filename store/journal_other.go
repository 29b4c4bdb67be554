//go:build !linux

package store

import (
	"os"
	"path/filepath"
)

func fdatasync(f *os.File) error { return f.Sync() }

// writeAt2 writes a and then b to f at off.
func writeAt2(f *os.File, off int64, a, b []byte) error {
	if _, err := f.WriteAt(a, off); err != nil {
		return err
	}
	_, err := f.WriteAt(b, off+int64(len(a)))
	return err
}

// syncTree returns the checkpoint's sync for the tree at root: without
// syncfs, every file of a live record and its folder are fsynced.
func syncTree(string) func(live []string) error {
	return func(live []string) error {
		dirs := map[string]bool{}
		for _, p := range live {
			if err := fsyncPath(p, os.O_RDWR); err != nil && !os.IsNotExist(err) {
				return err
			}
			dirs[filepath.Dir(p)] = true
		}
		for d := range dirs {
			if err := syncDir(d); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
}
