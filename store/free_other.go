//go:build !(linux || darwin)

package store

import (
	"errors"
	"fmt"
)

// FreeBytes returns the bytes available on the file system holding the root.
// It is not implemented on this platform and returns errors.ErrUnsupported.
func (s *Store) FreeBytes() (uint64, error) {
	return 0, fmt.Errorf("store: free space of %s: %w", s.root, errors.ErrUnsupported)
}
