package app

// Helpers for the tests that drive a real Engine from outside: DCMTK
// servers run in the background, a Part-10 reader that splits a file into its
// meta group and its data set bytes, and lookups in the storage tree. The
// DCMTK tool lookup, corpus loading and storescu checks that package ui's
// tests use too are in app/apptest.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
)

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
	return strconv.Itoa(apptest.FreePort(t))
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
// empty spare files the store creates ahead of need (*.spare, size 0) and
// the journal files (*.dij; store tests check their records) with their
// empty reserve files (*.reserve), and the folder's lock file.
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
		if strings.HasSuffix(e.Name(), ".dij") || strings.HasSuffix(e.Name(), ".reserve") || e.Name() == "lock" {
			continue
		}
		t.Errorf("leftover in %s: %s", incomingDir, e.Name())
	}
}

// deref returns *s, or "" for nil (JSON null in expected.jsonl).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// corpusDataSet returns the data set bytes of a corpus file: everything
// after its meta group, or the whole file when it has none (16_rtstruct_no_meta).
func corpusDataSet(t testing.TB, f apptest.CorpusFile) []byte {
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
