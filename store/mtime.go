package store

import (
	"os"
	"time"
)

// The received time of an instance is its file's modification time, so
// that a reindex finds the same value as the live index. Ingest sets that
// time itself (utimensat) instead of reading it back with fstat: on Linux
// 6.13 and later, reading a file's times and then changing the file (the
// rename into the tree) hands out a fine-grained timestamp, which moves the
// kernel's shared time floor, so that the next write to the journal file
// changed its modification time too and each journal fdatasync wrote its
// inode as well (one more disk write per instance in the block trace; with
// utimensat, one in ~5, at the coarse clock's ticks).

// mtimeGrains are the timestamp granularities tried, finest first.
var mtimeGrains = []time.Duration{time.Nanosecond, 100 * time.Nanosecond /* NTFS */, time.Microsecond, time.Millisecond,
	10 * time.Millisecond, 100 * time.Millisecond, time.Second, 2 * time.Second}

// probeMtimeGrain returns the granularity with which the file system
// holding name (an existing file the caller owns) keeps modification
// times, or 0 when setting one does not read back as any of mtimeGrains
// (Ingest then reads each file's time back instead).
func probeMtimeGrain(name string) time.Duration {
	want := time.Unix(1_700_000_001, 987_654_321)
	if err := os.Chtimes(name, want, want); err != nil {
		return 0
	}
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	for _, g := range mtimeGrains {
		if fi.ModTime().Equal(want.Truncate(g)) {
			return g
		}
	}
	return 0
}

// stampReceived sets the time of the temp file at name to now, to the
// file system's granularity, and returns it; with an unknown granularity
// it reads the file's own time back from f.
func (s *Store) stampReceived(f *os.File, name string) (time.Time, error) {
	if s.mtimeGrain == 0 {
		var fi os.FileInfo
		err := s.do("stat", func() (err error) { fi, err = f.Stat(); return err })
		if err != nil {
			return time.Time{}, err
		}
		return fi.ModTime(), nil
	}
	t := time.Now().Truncate(s.mtimeGrain)
	if err := s.do("utimes", func() error { return os.Chtimes(name, t, t) }); err != nil {
		return time.Time{}, err
	}
	return t, nil
}
