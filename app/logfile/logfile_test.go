package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Files stay within the limit, the oldest beyond keep go, and the kept
// files hold the newest lines in order.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "dicominbox.log")
	w, err := Open(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 20 {
		line := fmt.Sprintf("line %02d %s\n", i, strings.Repeat("x", 20)) // 30 bytes
		lines = append(lines, line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var all string
	for _, p := range []string{path + ".2", path + ".1", path} {
		s := readFile(t, p)
		if len(s) > 100 {
			t.Errorf("%s: %d bytes, limit 100", filepath.Base(p), len(s))
		}
		all += s
	}
	if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a third rotated file with keep 2 (%v)", err)
	}
	want := strings.Join(lines[len(lines)-strings.Count(all, "\n"):], "")
	if all != want || strings.Count(all, "\n") < 7 {
		t.Errorf("kept files hold:\n%s\nwant the newest lines in order:\n%s", all, want)
	}
	if _, err := w.Write([]byte("late\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

// A reopened log appends; a write larger than the limit gets a file of its
// own; keep 0 keeps none.
func TestReopenLargeWriteKeepNone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	for _, s := range []string{"first run\n", "second run\n"} {
		w, err := Open(path, 64, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if got := readFile(t, path); got != "first run\nsecond run\n" {
		t.Fatalf("after two runs: %q", got)
	}
	w, err := Open(path, 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := strings.Repeat("y", 100) + "\n"
	if _, err := w.Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != big {
		t.Errorf("after a write past the limit the file holds %d bytes, want only that write", len(got))
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rotated file with keep 0 (%v)", err)
	}
}

// Concurrent writers: every line arrives whole, none is lost.
func TestConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := Open(path, 4096, 1000)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := fmt.Fprintf(w, "writer %d line %03d\n", g, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	w.Close()
	var all bytes.Buffer
	matches, _ := filepath.Glob(path + ".*")
	for i := len(matches); i >= 1; i-- {
		all.WriteString(readFile(t, fmt.Sprintf("%s.%d", path, i)))
	}
	all.WriteString(readFile(t, path))
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n") {
		var g, i int
		if n, err := fmt.Sscanf(l, "writer %d line %03d", &g, &i); n != 2 || err != nil {
			t.Fatalf("torn line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*each)
	}
}
