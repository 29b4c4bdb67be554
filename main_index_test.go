package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/apptest/fill"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// A damaged index (here pages of its studies table overwritten, then the
// whole file replaced by garbage) is met with one line that says so and how
// to rebuild it, by `serve` (which does not start) and by `studies`;
// `reindex` rebuilds it from the files, after which both work again.
func TestDamagedIndexSaysHowToRebuild(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "inbox")
	fill.CTs(t, storage, 3)
	indexPath := filepath.Join(storage, "index.db")
	hint := fmt.Sprintf("dicominbox reindex --storage %q", storage)
	damaged := fmt.Sprintf("the index of storage folder %s is damaged (", storage)
	expect := func(what string, code int, stderr string, wantCode int) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != wantCode || len(lines) != 1 || !strings.Contains(lines[0], damaged) || !strings.HasSuffix(lines[0], hint) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and one line saying %q ... %q", what, code, stderr, wantCode, damaged, hint)
		}
	}

	// Pages that do not fit: the index opens, the study list fails.
	apptest.BreakStudiesTable(t, indexPath)
	code, _, stderr := runCLI("studies", "--storage", storage)
	expect("studies, broken pages", code, stderr, 1)

	// Not a database at all: serve does not start.
	garbage := make([]byte, 64<<10)
	rand.Read(garbage)
	if err := os.WriteFile(indexPath, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI("serve", "--config", "/nonexistent", "--bind", "127.0.0.1", "--port", fmt.Sprint(apptest.FreePort(t)),
		"--storage", storage, "--log-level", "error")
	expect("serve, garbage", code, stderr, 1)
	code, _, stderr = runCLI("studies", "--storage", storage)
	expect("studies, garbage", code, stderr, 1)

	code, stdout, stderr := runCLI("reindex", "--storage", storage)
	if code != 0 || !strings.Contains(stdout, "1 studies, 1 series, 3 instances") {
		t.Fatalf("reindex: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("studies", "--storage", storage, "--json")
	var studies []struct{ InstanceCount int }
	if err := json.Unmarshal([]byte(stdout), &studies); code != 0 || err != nil || len(studies) != 1 || studies[0].InstanceCount != 3 {
		t.Errorf("studies after reindex: exit %d, %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
}
