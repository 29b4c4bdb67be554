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
// journal file also writes the inode-table block that holds its inode
// whenever anything in that block is dirty; a block holds 16 inodes (256
// bytes each, the mke2fs default) or 32 (128 bytes). Files created one
// after another mostly get consecutive inodes, so journal files created
// right after .incoming and before the index's WAL and the first spare temp
// files shared a block with them: .incoming's inode changes with every
// create and rename, the WAL's with every commit. Each journal fdatasync
// then waited for one more write (seen with the block layer's trace points:
// data, inode block, cache flush in turn, about 100 µs each).
//
// So the journal files are made from a batch of empty files: of the batch,
// the files whose inodes fill one aligned group of reserveGroup inodes stay
// (two become the journal files, the rest stay as reserves, so that no
// other file gets an inode there), the others are removed. Where no group
// is complete (inodes handed out out of order, or not numbered this way)
// the first two files of the batch become the journal files: nothing is
// lost but the speed-up. Other file systems do not care either way.
const reserveGroup = 32

// reserveExt ends the names of the reserve files in .incoming.
const reserveExt = ".reserve"

// createJournalFiles creates both (empty) journal files in dir, placed as
// described above, and reports whether they got a group of their own.
func createJournalFiles(dir string) (placed bool, err error) {
	const batch = 2*reserveGroup - 1 // holds a whole aligned group when consecutive
	removeReserves(dir)              // left by a creation that was cut short
	names := make([]string, batch)
	inos := make([]uint64, batch)
	for i := range names {
		names[i] = filepath.Join(dir, fmt.Sprintf("journal-%02d%s", i, reserveExt))
		f, err := os.OpenFile(names[i], os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			removeReserves(dir)
			return false, fmt.Errorf("journal: create: %w", err)
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			removeReserves(dir)
			return false, fmt.Errorf("journal: create: %w", err)
		}
		inos[i] = inodeOf(fi)
	}
	keep := completeGroup(inos)
	placed = keep != nil
	if !placed {
		keep = map[int]bool{}
		for i := range batch {
			keep[i] = i < len(journalNames)
		}
	}
	j := 0
	for i, name := range names {
		switch {
		case !keep[i]:
			err = os.Remove(name)
		case j < len(journalNames):
			err = os.Rename(name, filepath.Join(dir, journalNames[j]))
			j++
		}
		if err != nil {
			removeReserves(dir)
			return false, fmt.Errorf("journal: create: %w", err)
		}
	}
	return placed, nil
}

// completeGroup returns the indexes of inos whose values fill one aligned
// group of reserveGroup inode numbers (inodes are numbered from 1), or nil
// when no group is complete or the numbers are unknown (0).
func completeGroup(inos []uint64) map[int]bool {
	members := map[uint64][]int{}
	for i, ino := range inos {
		if ino == 0 {
			return nil
		}
		g := (ino - 1) / reserveGroup
		members[g] = append(members[g], i)
	}
	for _, idx := range members {
		if len(idx) == reserveGroup {
			keep := make(map[int]bool, len(idx))
			for _, i := range idx {
				keep[i] = true
			}
			return keep
		}
	}
	return nil
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
