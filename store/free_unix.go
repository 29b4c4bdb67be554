//go:build linux || darwin

package store

import (
	"fmt"
	"syscall"
)

// FreeBytes returns the bytes available to an unprivileged user on the file
// system holding the root, for the disk guard.
func (s *Store) FreeBytes() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.root, &st); err != nil {
		return 0, fmt.Errorf("store: statfs %s: %w", s.root, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
