package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The journal files get inodes that share their inode-table block only with
// empty reserve files, never with inodes that change with every instance.
//
// On ext4 without a file system journal (the test VM's), fdatasync of a
// journal file also writes the inode-table block that holds its inode when
// that block is dirty; a 4 KiB block holds 16 inodes of 256 bytes (the
// test VM's) or 32 of 128 bytes. Files created one after another mostly get
// consecutive inodes, so journal files created right after .incoming and
// before the index's WAL and the first spare temp files shared a block with
// them: .incoming's inode changes with every create and rename, the WAL's
// with every commit. Each journal fdatasync then waited for one more write
// (seen with the block layer's trace points: data, inode block, cache flush
// in turn, about 100 µs each). The journal inode itself must not change
// either: see mtime.go for the other half of the fix (with only this half
// the block trace still showed the extra write on every fdatasync).
//
// So when the journal files are created, reserveGroup-1 empty reserve files
// are created just before them and as many just after; the reserves in the
// journal files' aligned group of reserveGroup inodes stay (so that no
// other file gets an inode there), the others are removed. Where the group
// does not come out whole (inodes handed out with gaps, as right after many
// files were deleted) every reserve is removed: nothing is lost but the
// speed-up. Other file systems do not care either way.
const reserveGroup = 32

// reserveExt ends the names of the reserve files in .incoming.
const reserveExt = ".reserve"

// reserveBefore creates the reserve files that go before the journal
// files (reserveGroup-1 of them, so that whatever precedes is pushed out of
// the journal files' group), reserveAfter those that follow them, once the
// journal files exist. Both are best effort: a failure costs only speed.
func reserveBefore(dir string) error { return createReserves(dir, "a") }
func reserveAfter(dir string) error  { return createReserves(dir, "b") }

func createReserves(dir, side string) error {
	for i := range reserveGroup - 1 {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("journal-%s%02d%s", side, i, reserveExt)),
			os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("journal: reserve file: %w", err)
		}
		f.Close()
	}
	return nil
}

// keepOwnGroup removes the reserve files outside the group of the journal
// files (inodes journal, read when they were created) and reports whether
// the journal files and the reserves own that group.
func keepOwnGroup(dir string, journal []uint64) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	var names []string
	var reserves []uint64
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), reserveExt) {
			fi, err := os.Lstat(filepath.Join(dir, e.Name()))
			if err != nil {
				return false, err
			}
			names, reserves = append(names, e.Name()), append(reserves, inodeOf(fi))
		}
	}
	owned := groupOwned(journal, reserves)
	for k, n := range names {
		if !owned || (reserves[k]-1)/reserveGroup != (journal[0]-1)/reserveGroup {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return owned, err
			}
		}
	}
	return owned, nil
}

// groupOwned reports whether the journal inodes share one aligned group of
// reserveGroup inode numbers and the reserve inodes fill the rest of it.
func groupOwned(journal, reserves []uint64) bool {
	if len(journal) == 0 || journal[0] == 0 {
		return false
	}
	g := (journal[0] - 1) / reserveGroup
	n := 0
	for _, ino := range journal {
		if ino == 0 || (ino-1)/reserveGroup != g {
			return false
		}
		n++
	}
	for _, ino := range reserves {
		if ino != 0 && (ino-1)/reserveGroup == g {
			n++
		}
	}
	return n == reserveGroup
}

// removeReserves removes the reserve files from dir (with the journal).
func removeReserves(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), reserveExt) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// journalMissing reports whether neither journal file exists in dir yet.
func journalMissing(dir string) bool {
	for _, n := range journalNames {
		if _, err := os.Lstat(filepath.Join(dir, n)); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}
