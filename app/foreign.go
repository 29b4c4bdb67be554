package app

import (
	"os"
	"strings"

	"github.com/dicominbox/dicominbox/store"
)

// ForeignEntries is the number of entries in dir when it exists, is not a
// storage folder (store.IsStorageFolder) and holds something besides what
// a file system or desktop puts there by itself (hidden names, lost+found,
// System Volume Information, $RECYCLE.BIN); 0 otherwise. Such a folder is
// someone's files: as a storage folder, every DICOM file in it would be
// indexed as received, and deleting a study would delete its files. The
// settings dialog asks before it takes one; the engine logs a warning.
func ForeignEntries(dir string) int {
	if dir == "" || store.IsStorageFolder(dir) {
		return 0
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0 // missing (created empty) or unreadable (Open says why)
	}
	n := 0
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasPrefix(name, "."), strings.HasPrefix(name, "$"), name == "lost+found", name == "System Volume Information":
		default:
			n++
		}
	}
	return n
}
