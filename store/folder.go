package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrFolderGone matches (errors.Is) the error of CheckFolder when the
// storage folder the Store opened is no longer at its path: removed,
// renamed, replaced by another folder, or on a disk that was unplugged or
// unmounted (the path is then the empty mount point). The Store cannot
// write into it any more; it must be closed, and the folder opened again
// once it is back.
var ErrFolderGone = errors.New("the storage folder was removed, replaced or unmounted while in use")

// folderIdentity is what CheckFolder compares: the root and its .incoming
// folder as they were when the Store opened them.
type folderIdentity struct {
	root, incoming os.FileInfo
}

// identifyFolder records the identity of the root and .incoming of s.
func (s *Store) identifyFolder() error {
	root, err := os.Stat(s.root)
	if err != nil {
		return err
	}
	incoming, err := os.Stat(s.incoming)
	if err != nil {
		return err
	}
	s.ident = folderIdentity{root: root, incoming: incoming}
	return nil
}

// CheckFolder reports whether the storage folder is still the one Open
// opened: nil, or an error matching ErrFolderGone that says what changed.
// It costs two stat calls, cheap enough for every new association.
func (s *Store) CheckFolder() error {
	for _, f := range []struct {
		path string
		was  os.FileInfo
	}{{s.root, s.ident.root}, {s.incoming, s.ident.incoming}} {
		now, err := os.Stat(f.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("store: %s no longer exists: %w", f.path, ErrFolderGone)
		case err != nil: // e.g. EIO from a disk that went away
			return fmt.Errorf("store: %s cannot be read (%v): %w", f.path, err, ErrFolderGone)
		case !os.SameFile(now, f.was):
			return fmt.Errorf("store: %s is no longer the folder that was opened: %w", f.path, ErrFolderGone)
		}
	}
	return nil
}

// IsStorageFolder reports whether dir is a storage folder that a Store
// has opened before (it holds .incoming/lock or the index), as a folder
// that comes back is when its disk is mounted again; an empty folder, such
// as the mount point of a disk that is not mounted, is not.
func IsStorageFolder(dir string) bool {
	for _, p := range []string{filepath.Join(dir, incomingDir, lockFileName), filepath.Join(dir, IndexFile)} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
