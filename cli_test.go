package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A positional argument where a subcommand takes none is refused with its
// name: `reindex /data` must not quietly rebuild the default folder's index.
func TestSubcommandsRefuseStrayArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"reindex", dir},
		{"studies", dir},
		{"studies", "--json", dir},
		{"serve", "--config", "/nonexistent", dir},
		{"echo", "127.0.0.1:1", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		stray := args[len(args)-1]
		if code != 2 || !strings.Contains(stderr.String(), "unexpected argument \""+stray+"\"") {
			t.Errorf("%q: exit %d, stderr:\n%s", args, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote to stdout:\n%s", args, stdout.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.db")); !os.IsNotExist(err) {
		t.Errorf("an index was created in %s (err %v)", dir, err)
	}
}

// -h prints the usage line and the flags and exits 0; a missing argument
// prints the usage and exits 2.
func TestSubcommandUsage(t *testing.T) {
	for _, c := range []struct {
		args  []string
		code  int
		usage string
	}{
		{[]string{"reindex", "-h"}, 0, "Usage: dicominbox reindex --storage DIR"},
		{[]string{"studies", "--help"}, 0, "Usage: dicominbox studies [flags]"},
		{[]string{"echo", "-h"}, 0, "Usage: dicominbox echo [flags] HOST:PORT"},
		{[]string{"echo"}, 2, "Usage: dicominbox echo [flags] HOST:PORT"},
		{[]string{"studies", "--no-such-flag"}, 2, "Usage: dicominbox studies [flags]"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.usage+"\n") || !strings.Contains(stderr.String(), "\nFlags:\n  -") {
			t.Errorf("%q: exit %d (want %d), stderr:\n%s", c.args, code, c.code, stderr.String())
		}
	}
}

// The reindex progress lines: none before the first interval has passed,
// then at most one per interval, each with the count it was given.
func TestProgressPrinter(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	p := progressPrinter(&out, "dicominbox reindex", 2*time.Second, func() time.Time { return clock })
	for _, step := range []struct {
		after time.Duration
		files int
	}{{time.Second, 1000}, {time.Second, 2000}, {500 * time.Millisecond, 3000}, {1500 * time.Millisecond, 4000}, {5 * time.Second, 4200}} {
		clock = clock.Add(step.after)
		p(step.files)
	}
	want := "dicominbox reindex: 2000 files read so far\n" +
		"dicominbox reindex: 4000 files read so far\n" +
		"dicominbox reindex: 4200 files read so far\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}
}
