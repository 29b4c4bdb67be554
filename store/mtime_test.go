package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStampReceivedReadsBackExactly(t *testing.T) {
	s := openTest(t, true)
	if s.mtimeGrain == 0 {
		t.Skip("this file system's modification times do not read back at any granularity tried; Ingest falls back to fstat")
	}
	name := filepath.Join(t.TempDir(), "x")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := s.stampReceived(f, name)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(got) || time.Since(got) > time.Minute || !got.Equal(got.Truncate(s.mtimeGrain)) {
		t.Errorf("stamped %v (grain %v), file says %v", got, s.mtimeGrain, fi.ModTime())
	}
	// Without a known granularity the file's own time is read back.
	s.mtimeGrain = 0
	if got, err := s.stampReceived(f, name); err != nil || !got.Equal(fi.ModTime()) {
		t.Errorf("fallback: %v, %v; file says %v", got, err, fi.ModTime())
	}
}
