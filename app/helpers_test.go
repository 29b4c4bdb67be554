package app

// Helpers for the tests that drive a real Engine from outside: DCMTK
// binaries run with a timeout, a Part-10 reader that splits a file into its
// meta group and its data set bytes, corpus loading, and lookups in the
// storage tree.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireTool returns the path of a DCMTK (or other) binary, failing the test
// when it is missing. It never skips: `make test` installs DCMTK, and a skip
// would hide a broken setup.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH (%v): these tests need DCMTK 3.6.x; `make test` installs it (Debian package dcmtk)", name, err)
	}
	return p
}

// testLogWriter sends log lines to t.Log until the test has ended; after that
// (a goroutine that outlives the test) they are dropped instead of panicking.
type testLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// testLogger returns a logger that writes into the test's log (shown on
// failure or with -v) at the given level.
func testLogger(t testing.TB, level slog.Level) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testConfig is the engine configuration the tests start from: AE INBOX on a
// free loopback port, a fresh storage folder, checks on.
func testConfig(t testing.TB) Config {
	return Config{
		AETitle:                 "INBOX",
		Bind:                    "127.0.0.1",
		Port:                    0,
		StorageDir:              t.TempDir(),
		CheckCalledAE:           true,
		MaxAssociations:         32,
		MaxPDULength:            131072,
		AcceptUnknownSOPClasses: true,
		ARTIMTimeout:            Duration(10 * time.Second),
		IdleTimeout:             Duration(60 * time.Second),
		ShutdownTimeout:         Duration(10 * time.Second),
		MinFreeMB:               0,
		LogLevel:                "info",
		StudyCompleteAfter:      Duration(30 * time.Second),
		AssociationHistory:      Duration(30 * time.Minute),
	}
}

// startEngine starts an Engine with cfg and stops it when the test ends. It
// returns the engine and its "127.0.0.1:port" address.
func startEngine(t testing.TB, cfg Config) (*Engine, string) {
	t.Helper()
	e := NewEngine(cfg, testLogger(t, slog.LevelInfo))
	if err := e.Start(); err != nil {
		t.Fatalf("engine start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	a := e.Addr()
	if a == nil {
		t.Fatal("engine started but Addr() is nil")
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.Port == 0 {
		t.Fatalf("engine address %v has no port", a)
	}
	return e, a.String()
}

// portOf returns the port of a "host:port" address as a string.
func portOf(t testing.TB, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// freePort returns a loopback port that was free a moment ago, for a DCMTK
// server that needs a port on its command line.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return portOf(t, l.Addr().String())
}

// runCmd runs a command bounded by timeout and returns its combined output.
// The error is non-nil when it could not run, exited non-zero or timed out.
func runCmd(t testing.TB, timeout time.Duration, name string, args ...string) (string, error) {
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

// lockedBuffer is a bytes.Buffer safe for a process writer and a test reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// bgProcess is a command running in the background for the length of a test.
type bgProcess struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // valid after done is closed
}

// startBackground starts a long-running command (a DCMTK server) bounded by
// timeout. When the test ends it is killed by its PID and reaped.
func startBackground(t testing.TB, timeout time.Duration, name string, args ...string) *bgProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 2 * time.Second
	p := &bgProcess{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill() // this process only, by its PID
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// waitListening waits until something accepts TCP connections on addr, or
// fails the test (the background process's output is shown).
func waitListening(t testing.TB, addr string, p *bgProcess) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.cmd.Path, addr, p.err, p.out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %s after 10s:\n%s", p.cmd.Path, addr, p.out.String())
}

// pcSpec is one presentation context for a storescu configuration file.
type pcSpec struct{ SOPClass, TransferSyntax string }

// writeStorescuConfig writes a DCMTK association configuration file with one
// profile "P" that proposes exactly the given (SOP class, transfer syntax)
// pairs, one presentation context each, and returns its path. The format is
// the one of DCMTK's storescu.cfg (see corpus/README.md).
func writeStorescuConfig(t testing.TB, dir string, pcs ...pcSpec) string {
	t.Helper()
	var b strings.Builder
	seen := map[pcSpec]bool{}
	var uniq []pcSpec
	for _, pc := range pcs {
		if !seen[pc] {
			seen[pc] = true
			uniq = append(uniq, pc)
		}
	}
	if len(uniq) == 0 || len(uniq) > 128 {
		t.Fatalf("storescu config: %d presentation contexts (1..128 allowed)", len(uniq))
	}
	b.WriteString("[[TransferSyntaxes]]\n")
	for i, pc := range uniq {
		fmt.Fprintf(&b, "[TS%d]\nTransferSyntax1 = %s\n", i+1, pc.TransferSyntax)
	}
	b.WriteString("[[PresentationContexts]]\n[PC]\n")
	for i, pc := range uniq {
		fmt.Fprintf(&b, "PresentationContext%d = %s\\TS%d\n", i+1, pc.SOPClass, i+1)
	}
	b.WriteString("[[Profiles]]\n[P]\nPresentationContexts = PC\n")
	f, err := os.CreateTemp(dir, "storescu-*.cfg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// checkStorescuOutput fails the test unless storescu (run with -v) exited 0,
// received want Store Responses with status Success and reported no failure.
func checkStorescuOutput(t testing.TB, out string, err error, want int) {
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

// part10 is a Part-10 file split into its meta group and data set.
type part10 struct {
	Meta       map[uint32][]byte // group 0002 element values, as stored (padding included)
	DataOffset int               // where the data set starts
	Data       []byte            // the data set bytes
}

// metaString returns a meta element as a string without its padding.
func (p *part10) metaString(tag uint32) string {
	return strings.TrimRight(string(p.Meta[tag]), "\x00 ")
}

// Meta group tags the tests check.
const (
	tagMetaGroupLen       = 0x00020000
	tagMediaSOPClassUID   = 0x00020002
	tagMediaSOPInstUID    = 0x00020003
	tagTransferSyntaxUID  = 0x00020010
	tagImplClassUIDMeta   = 0x00020012
	tagSourceAETitle      = 0x00020016
	partPreambleAndPrefix = 132
)

// parsePart10 checks the preamble and "DICM", reads the meta group
// (Explicit VR Little Endian) element by element and checks that its
// (0002,0000) group length ends exactly where the elements end.
func parsePart10(b []byte) (*part10, error) {
	if len(b) < partPreambleAndPrefix+12 || string(b[128:132]) != "DICM" {
		return nil, errors.New("no 128-byte preamble followed by DICM")
	}
	p := &part10{Meta: map[uint32][]byte{}}
	off := partPreambleAndPrefix
	groupEnd := -1
	for off+8 <= len(b) {
		group := binary.LittleEndian.Uint16(b[off:])
		if group != 0x0002 {
			break
		}
		tag := uint32(group)<<16 | uint32(binary.LittleEndian.Uint16(b[off+2:]))
		vr := string(b[off+4 : off+6])
		var n, hdr int
		switch vr {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
			if off+12 > len(b) {
				return nil, fmt.Errorf("meta element %08X truncated", tag)
			}
			n, hdr = int(binary.LittleEndian.Uint32(b[off+8:])), 12
		default:
			n, hdr = int(binary.LittleEndian.Uint16(b[off+6:])), 8
		}
		if n < 0 || off+hdr+n > len(b) {
			return nil, fmt.Errorf("meta element %08X (VR %q) length %d runs past the end", tag, vr, n)
		}
		p.Meta[tag] = b[off+hdr : off+hdr+n]
		if tag == tagMetaGroupLen {
			if vr != "UL" || n != 4 {
				return nil, fmt.Errorf("(0002,0000) has VR %q length %d, want UL 4", vr, n)
			}
			groupEnd = off + hdr + n + int(binary.LittleEndian.Uint32(b[off+hdr:]))
		}
		off += hdr + n
	}
	if groupEnd < 0 {
		return nil, errors.New("meta group has no (0002,0000) group length")
	}
	if groupEnd != off {
		return nil, fmt.Errorf("(0002,0000) says the meta group ends at %d, its elements end at %d", groupEnd, off)
	}
	p.DataOffset, p.Data = off, b[off:]
	return p, nil
}

// readPart10 reads and parses a Part-10 file.
func readPart10(t testing.TB, path string) *part10 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePart10(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// readMetaOnly parses just enough of a file to return its meta group (a
// stored file can be 25 MB; its meta group is a few hundred bytes).
func readMetaOnly(path string) (*part10, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 64*1024)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return parsePart10(head[:n])
}

// incomingDir is where the store keeps files being received.
const incomingDir = ".incoming"

// listStored returns the .dcm files of the storage tree (relative paths),
// leaving out the .incoming folder.
func listStored(t testing.TB, root string) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == incomingDir && filepath.Dir(p) == root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".dcm") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return files
}

// newFiles returns the relative paths in after that are not in before.
func newFiles(before, after map[string]bool) []string {
	var out []string
	for p := range after {
		if !before[p] {
			out = append(out, p)
		}
	}
	return out
}

// findStoredByUID returns the stored files (relative paths) whose meta group
// names sopInstanceUID as Media Storage SOP Instance UID. It does not depend
// on the layout: it reads the meta group of every .dcm file.
func findStoredByUID(t testing.TB, root, sopInstanceUID string) []string {
	t.Helper()
	var out []string
	for rel := range listStored(t, root) {
		p, err := readMetaOnly(filepath.Join(root, rel))
		if err != nil {
			t.Fatalf("stored file %s: %v", rel, err)
		}
		if p.metaString(tagMediaSOPInstUID) == sopInstanceUID {
			out = append(out, rel)
		}
	}
	return out
}

// checkIncomingEmpty fails when <root>/.incoming holds anything but the
// empty spare files the store creates ahead of need (*.spare, size 0).
func checkIncomingEmpty(t testing.TB, root string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, incomingDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".spare") && fi.Size() == 0 {
			continue
		}
		t.Errorf("leftover in %s: %s", incomingDir, e.Name())
	}
}

// corpusDir is the shared test corpus (see /work/shared/corpus/README.md);
// DICOMINBOX_CORPUS overrides it.
func corpusDir(t testing.TB) string {
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

// corpusFile is one corpus file: its MANIFEST.tsv row and its
// expected.jsonl values.
type corpusFile struct {
	Name              string // base name, e.g. "01_ct_implicit_le.dcm"
	Path              string
	TransferSyntax    string
	SOPClassUID       string
	StorescuOK        bool
	SOPInstanceUID    string
	StudyInstanceUID  string
	SeriesInstanceUID string
	PatientID         string
	Expected          expectedRow // the values pydicom decodes (expected.jsonl)
}

type expectedRow struct {
	File              string  `json:"file"`
	SOPInstanceUID    string  `json:"sop_instance_uid"`
	SOPClassUID       string  `json:"sop_class_uid"`
	StudyInstanceUID  *string `json:"study_instance_uid"`
	SeriesInstanceUID *string `json:"series_instance_uid"`
	PatientID         *string `json:"patient_id"`
	PatientName       *string `json:"patient_name"`
	StudyDate         *string `json:"study_date"`
	Modality          *string `json:"modality"`
	TransferSyntaxUID *string `json:"transfer_syntax_uid"` // null for the file without meta group
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// loadCorpus reads MANIFEST.tsv and expected.jsonl and checks that they agree.
func loadCorpus(t testing.TB) []corpusFile {
	t.Helper()
	dir := corpusDir(t)
	exp := map[string]expectedRow{}
	eb, err := os.ReadFile(filepath.Join(dir, "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(eb)), "\n") {
		var r expectedRow
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
	var files []corpusFile
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
		files = append(files, corpusFile{
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
	if len(files) != 34 {
		t.Fatalf("corpus has %d files, want 34", len(files))
	}
	return files
}

// corpusDataSet returns the data set bytes of a corpus file: everything
// after its meta group, or the whole file when it has none (16_rtstruct_no_meta).
func corpusDataSet(t testing.TB, f corpusFile) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		p, err := parsePart10(b)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if ts := p.metaString(tagTransferSyntaxUID); ts != f.TransferSyntax {
			t.Fatalf("%s: meta says TS %s, manifest %s", f.Name, ts, f.TransferSyntax)
		}
		return p.Data
	}
	return b
}

// firstDiff describes where two byte slices first differ.
func firstDiff(a, b []byte) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo, hi := max(0, i-8), min(n, i+8)
			return fmt.Sprintf("lengths %d and %d, first difference at offset %d: % x vs % x", len(a), len(b), i, a[lo:hi], b[lo:hi])
		}
	}
	return fmt.Sprintf("lengths %d and %d, equal up to %d", len(a), len(b), n)
}
