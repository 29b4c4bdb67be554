package app

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// With a phase log every stored instance gets a line: its association, SOP
// Instance UID, size and times, all whole microseconds; the gap since the
// previous instance is empty for the first instance of an association only.
func TestPhaseLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "phases.tsv")
	pl, err := CreatePhaseLog(path)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(testConfig(t), quietLogger())
	e.SetPhaseLog(pl)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	addr := e.Addr().String()
	sent := append(sendCT(t, addr, "MOD1", "1.2.826.0.1.3680043.9.7.1", 3), sendCT(t, addr, "MOD2", "1.2.826.0.1.3680043.9.7.2", 3)...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 1+len(sent) || lines[0]+"\n" != phaseLogColumns {
		t.Fatalf("phase log:\n%s\nwant the header and %d lines", b, len(sent))
	}
	first := map[string]bool{}
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 10 || f[1] != sent[i] {
			t.Fatalf("line %q: want 10 fields for %s", line, sent[i])
		}
		for j, v := range f {
			if j == 1 || (j == 3 && v == "") {
				continue
			}
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
				t.Errorf("line %q: field %d is %q, want a number ≥ 0", line, j, v)
			}
		}
		if isFirst := !first[f[0]]; isFirst != (f[3] == "") {
			t.Errorf("line %q: gap %q for the association's %s instance", line, f[3], map[bool]string{true: "first", false: "next"}[isFirst])
		}
		first[f[0]] = true
	}
	if len(first) != 2 {
		t.Errorf("%d associations in the log, want 2", len(first))
	}
}
