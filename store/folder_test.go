package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CheckFolder holds while the folder is the one opened, and fails with
// ErrFolderGone once it was removed, moved away, or replaced by another
// folder at the same path (as a mount point is when its disk goes).
func TestCheckFolder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, root string)
	}{
		{"removed", func(t *testing.T, root string) { removeWhileOpen(t, root) }},
		{"moved away", func(t *testing.T, root string) { mustDo(t, os.Rename(root, root+".moved")) }},
		{"replaced by an empty folder", func(t *testing.T, root string) {
			mustDo(t, os.Rename(root, root+".moved"))
			mustDo(t, os.Mkdir(root, 0o755))
		}},
		{"its .incoming replaced", func(t *testing.T, root string) {
			in := filepath.Join(root, incomingDir)
			mustDo(t, os.Rename(in, in+".moved"))
			mustDo(t, os.Mkdir(in, 0o755))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "inbox")
			s, err := Open(root, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.CheckFolder(); err != nil {
				t.Fatalf("CheckFolder on the folder just opened: %v", err)
			}
			tc.change(t, root)
			err = s.CheckFolder()
			if !errors.Is(err, ErrFolderGone) {
				t.Fatalf("CheckFolder after the folder was %s: %v, want ErrFolderGone", tc.name, err)
			}
			t.Log(err)
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// removeWhileOpen removes root, whose store is open: the store's spare-file
// goroutine may create a file in .incoming meanwhile ("directory not
// empty"), so it tries again until that goroutine finds the folder gone.
func removeWhileOpen(t *testing.T, root string) {
	t.Helper()
	var err error
	for range 100 {
		if err = os.RemoveAll(root); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal(err)
}
