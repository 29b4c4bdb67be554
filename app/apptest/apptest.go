// Package apptest holds what the tests of several DICOM Inbox packages share
// when they run the receiver against real tools and data: DCMTK binaries
// looked up in PATH and run with a timeout, and the shared test corpus
// ($DICOMINBOX_CORPUS, else ../../shared/corpus from a package folder) with
// the values its MANIFEST.tsv and expected.jsonl give for each file.
//
// Like net/http/httptest it is imported by tests only. It depends on the
// standard library alone, so package app's own tests can use it.
//
// A missing tool or corpus fails the test, never skips it: `make test`
// installs DCMTK and points at the corpus, and a skip would hide a broken
// setup.
package apptest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CorpusSize is the number of files in the shared test corpus.
const CorpusSize = 34

// Tool returns the path of a DCMTK (or other) binary found in PATH, failing
// the test when it is missing.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH (%v): these tests need DCMTK 3.6.x; `make test` installs it (Debian package dcmtk)", name, err)
	}
	return p
}

// RunCmd runs a command bounded by timeout and returns its combined output.
// The error is non-nil when it could not run, exited non-zero or timed out.
func RunCmd(t testing.TB, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", name, timeout, err)
	}
	return string(out), err
}

// CheckStorescuOutput fails the test unless storescu (run with -v) exited 0,
// received want Store Responses with status Success and reported no failure.
func CheckStorescuOutput(t testing.TB, out string, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("storescu failed: %v\n%s", err, out)
	}
	got := strings.Count(out, "Received Store Response (Success)")
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		// "E:" and "F:" are DCMTK's error and fatal log prefixes; W: lines
		// (e.g. about the corpus's deliberately odd-length values) are fine.
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "F: ") ||
			strings.Contains(line, "Store Failed") ||
			(strings.Contains(line, "Received Store Response") && !strings.Contains(line, "(Success)")) {
			bad = append(bad, line)
		}
	}
	if got != want || len(bad) > 0 {
		t.Fatalf("storescu: %d successful Store Responses, want %d; problems: %q\n%s", got, want, bad, out)
	}
}

// CorpusDir returns the folder of the shared test corpus (see its
// README.md): $DICOMINBOX_CORPUS, which the Makefile sets, else
// ../../shared/corpus. It fails the test when the folder has no MANIFEST.tsv.
func CorpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DICOMINBOX_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Fatalf("test corpus not found (%v): expected at %s or in $DICOMINBOX_CORPUS", err, dir)
	}
	return dir
}

// CorpusPath returns the path of the corpus file with this base name (e.g.
// "33_ct_gb18030_chinese.dcm"), failing the test when it does not exist.
func CorpusPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(CorpusDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	return p
}

// CorpusFile is one corpus file: its MANIFEST.tsv row and its
// expected.jsonl values.
type CorpusFile struct {
	Name              string // base name, e.g. "01_ct_implicit_le.dcm"
	Path              string
	TransferSyntax    string
	SOPClassUID       string
	StorescuOK        bool
	SOPInstanceUID    string
	StudyInstanceUID  string
	SeriesInstanceUID string
	PatientID         string
	Expected          ExpectedRow // the values pydicom decodes (expected.jsonl)
}

// ExpectedRow is one line of the corpus's expected.jsonl; nil is JSON null
// (the file has no such element).
type ExpectedRow struct {
	File              string  `json:"file"`
	SOPInstanceUID    string  `json:"sop_instance_uid"`
	SOPClassUID       string  `json:"sop_class_uid"`
	StudyInstanceUID  *string `json:"study_instance_uid"`
	SeriesInstanceUID *string `json:"series_instance_uid"`
	PatientID         *string `json:"patient_id"`
	PatientName       *string `json:"patient_name"`
	StudyDate         *string `json:"study_date"`
	Modality          *string `json:"modality"`
	CharSet           *string `json:"specific_character_set"`
	TransferSyntaxUID *string `json:"transfer_syntax_uid"` // null for the file without meta group
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// LoadCorpus reads MANIFEST.tsv and expected.jsonl, checks that they agree
// (and that the corpus has CorpusSize files with distinct SOP Instance
// UIDs), and returns the files in manifest order.
func LoadCorpus(t testing.TB) []CorpusFile {
	t.Helper()
	dir := CorpusDir(t)
	exp := map[string]ExpectedRow{}
	eb, err := os.ReadFile(filepath.Join(dir, "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(eb)), "\n") {
		var r ExpectedRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("expected.jsonl: %v in %q", err, line)
		}
		exp[r.File] = r
	}
	mb, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(mb)), "\n")
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], "\t") {
		col[h] = i
	}
	for _, h := range []string{"file", "transfer_syntax_uid", "sop_class_uid", "storescu_ok"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("MANIFEST.tsv has no column %q", h)
		}
	}
	var files []CorpusFile
	seenUID := map[string]string{}
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) < len(col) {
			t.Fatalf("MANIFEST.tsv: short row %q", line)
		}
		name := filepath.Base(f[col["file"]])
		e, ok := exp[name]
		if !ok || e.SOPInstanceUID == "" {
			t.Fatalf("expected.jsonl has no SOP Instance UID for %s", name)
		}
		if e.TransferSyntaxUID != nil && *e.TransferSyntaxUID != f[col["transfer_syntax_uid"]] || e.SOPClassUID != f[col["sop_class_uid"]] {
			t.Fatalf("%s: MANIFEST.tsv and expected.jsonl disagree on TS or SOP class", name)
		}
		if other, dup := seenUID[e.SOPInstanceUID]; dup {
			t.Fatalf("%s and %s share SOP Instance UID %s", name, other, e.SOPInstanceUID)
		}
		seenUID[e.SOPInstanceUID] = name
		files = append(files, CorpusFile{
			Name:              name,
			Path:              filepath.Join(dir, name),
			TransferSyntax:    f[col["transfer_syntax_uid"]],
			SOPClassUID:       f[col["sop_class_uid"]],
			StorescuOK:        f[col["storescu_ok"]] == "yes",
			SOPInstanceUID:    e.SOPInstanceUID,
			StudyInstanceUID:  deref(e.StudyInstanceUID),
			SeriesInstanceUID: deref(e.SeriesInstanceUID),
			PatientID:         deref(e.PatientID),
			Expected:          e,
		})
	}
	if len(files) != CorpusSize {
		t.Fatalf("corpus has %d files, want %d", len(files), CorpusSize)
	}
	return files
}

// CorpusFiles returns the named corpus files (base names), in the order
// given, failing the test for a name the corpus does not have.
func CorpusFiles(t testing.TB, names ...string) []CorpusFile {
	t.Helper()
	byName := map[string]CorpusFile{}
	for _, f := range LoadCorpus(t) {
		byName[f.Name] = f
	}
	var out []CorpusFile
	for _, n := range names {
		f, ok := byName[n]
		if !ok {
			t.Fatalf("corpus has no %s", n)
		}
		out = append(out, f)
	}
	return out
}

// UnprivilegedCopy copies the running test binary into a fresh folder that
// any user may read and run (t.TempDir's parent is private to its owner), for
// tests that run part of themselves again as an unprivileged user. The copy
// is removed after the test.
func UnprivilegedCopy(t testing.TB, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dicominbox-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, name)
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// FreePort returns a port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
