package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store/index"
)

// readOnlyStorage makes a storage folder holding an index with one study,
// made read-only (folder 0555, index.db 0444), and returns it.
func readOnlyStorage(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	// Let an unprivileged user reach it (t.TempDir and its parent are 0700).
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(tmp, "inbox")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := index.Open(filepath.Join(dir, "index.db"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Put(context.Background(), index.Instance{
		SOPInstanceUID: "1.2.3.1.1.1", SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
		StudyInstanceUID: "1.2.3", SeriesInstanceUID: "1.2.3.1", PatientID: "RO-1", PatientName: "Readonly^Rita",
		StudyDate: "20250301", StudyDescription: "CT HEAD", Modality: "CT", InstanceNumber: 1,
		TransferSyntaxUID: "1.2.840.10008.1.2.1", Path: "RO-1/1.2.3/1.2.3.1/1.2.3.1.1.1.dcm",
		SizeBytes: 1000, ContentHash: strings.Repeat("0", 64), CallingAE: "MODALITY", CalledAE: "INBOX",
		ReceivedAt: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "index.db"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) }) // so that t.TempDir can be removed
	return dir
}

// indexState returns the bytes and modification time of dir/index.db.
func indexState(t *testing.T, dir string) ([]byte, time.Time) {
	t.Helper()
	p := filepath.Join(dir, "index.db")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return data, fi.ModTime()
}

// `studies` lists a read-only storage folder and leaves index.db as it was
// (same bytes, same modification time). Tests usually run as root, whom the
// file modes do not stop; so the read-only folder is also listed by a child
// process running as an unprivileged user (nobody), which the modes do stop.
func TestStudiesReadOnlyFolder(t *testing.T) {
	dir := readOnlyStorage(t)
	data, mtime := indexState(t, dir)
	time.Sleep(20 * time.Millisecond) // a write now would get a later mtime

	var stdout, stderr bytes.Buffer
	if code := run([]string{"studies", "--storage", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Readonly^Rita") || !strings.Contains(stdout.String(), "(1 of 1 studies)") {
		t.Errorf("studies output:\n%s", stdout.String())
	}
	if d, m := indexState(t, dir); !bytes.Equal(d, data) || !m.Equal(mtime) {
		t.Errorf("studies changed index.db (mtime %v -> %v)", mtime, m)
	}
	// As root, SQLite could create an empty -wal and the -shm beside the index
	// (see index.OpenReadOnly); nothing may be written into the -wal.
	if fi, err := os.Stat(filepath.Join(dir, "index.db-wal")); err == nil && fi.Size() != 0 {
		t.Errorf("index.db-wal has %d bytes", fi.Size())
	}

	if os.Getuid() != 0 {
		return // the modes applied to this process already
	}
	// Another folder, without the -wal/-shm root may have left, read by nobody.
	dir = readOnlyStorage(t)
	data, mtime = indexState(t, dir)
	bin := apptest.UnprivilegedCopy(t, "dicominbox")
	cmd := exec.Command(bin, "studies", "--storage", dir)
	cmd.Env = append(os.Environ(), "DICOMINBOX_RUN_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("studies as nobody: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Readonly^Rita") {
		t.Errorf("studies as nobody:\n%s", out.String())
	}
	if d, m := indexState(t, dir); !bytes.Equal(d, data) || !m.Equal(mtime) {
		t.Errorf("studies as nobody changed index.db (mtime %v -> %v)", mtime, m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("studies as nobody left files beside index.db: %v", entries)
	}
}

// A missing index and one of an older schema version are one-line errors;
// neither is created nor migrated.
func TestStudiesMissingOrOldIndex(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"studies", "--storage", dir}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "no index in") {
		t.Errorf("missing index: exit %d, stderr:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "index.db")); err == nil {
		t.Error("studies created index.db")
	}
	stderr.Reset()
	gone := filepath.Join(dir, "unplugged")
	if code := run([]string{"studies", "--storage", gone}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "storage folder "+gone+" does not exist") {
		t.Errorf("missing folder: exit %d, stderr:\n%s", code, stderr.String())
	}

	path := filepath.Join(dir, "index.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE studies (id INTEGER); PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, _ := os.ReadFile(path)
	stderr.Reset()
	code = run([]string{"studies", "--storage", dir}, &stdout, &stderr)
	lines = strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "older than this program") {
		t.Errorf("old index: exit %d, stderr:\n%s", code, stderr.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("studies changed the old index")
	}
}
