package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/dicominbox/dicominbox/store/index"
)

func ingest(t testing.TB, s *Store, in Instance, ds []byte) Stored {
	t.Helper()
	st, err := s.Ingest(context.Background(), in, bytes.NewReader(ds))
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return st
}

func cmd(inst string) Instance {
	return Instance{SOPClassUID: ctClass, SOPInstanceUID: inst, TransferSyntaxUID: explicitVRLittleEndian, CallingAE: "MODALITY", CalledAE: "INBOX"}
}

func TestIngestPathTraversal(t *testing.T) {
	parent := t.TempDir()
	opt := DefaultOptions()
	opt.Sync = false
	s, err := Open(filepath.Join(parent, "root"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hostile := []string{"..", ".", "/etc/x", "a/../../b", "../../../../tmp/evil", "a\x00b", `..\..\x`,
		strings.Repeat("1.2.", 75), "患者^名前", "", "   ", "CON", "index.db", ".incoming"}
	uids := map[string]bool{} // one file per SOP Instance UID (duplicates replace)
	for i, p := range hostile {
		for j, u := range hostile {
			inst := u
			if inst == "" || strings.TrimSpace(inst) == "" {
				inst = fmt.Sprintf("1.2.3.%d.%d", i, j) // the command's UID is used then
			}
			ds := buildDataSet(explicitVRLittleEndian,
				el{0x00080016, "UI", ctClass}, el{0x00080018, "UI", u + fmt.Sprint(i, j)},
				el{0x00100020, "LO", p}, el{0x0020000D, "UI", u}, el{0x0020000E, "UI", p + u})
			st, err := s.Ingest(context.Background(), cmd(inst), bytes.NewReader(ds))
			if err != nil {
				t.Fatalf("%q/%q: %v", p, u, err)
			}
			uids[st.Header.SOPInstanceUID] = true
			parts := strings.Split(st.Path, "/")
			if len(parts) != 4 || !filepath.IsLocal(filepath.FromSlash(st.Path)) {
				t.Fatalf("%q/%q: path %q", p, u, st.Path)
			}
			for _, c := range parts {
				if c == "" || c == "." || c == ".." || strings.HasPrefix(c, ".") || len(c) > maxComponent+len(fileExt) ||
					strings.ContainsAny(c, "\\\x00 :") {
					t.Fatalf("%q/%q: unsafe component %q in %q", p, u, c, st.Path)
				}
			}
			if _, err := os.Stat(filepath.Join(s.Root(), filepath.FromSlash(st.Path))); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("something was written beside the root: %v", entries)
	}
	assertNoLeftovers(t, s, len(uids))
	if fi, err := os.Stat(filepath.Join(s.Root(), "index.db")); err != nil || !fi.Mode().IsRegular() {
		t.Error("a patient directory took the name of the index")
	}
}

func TestIngestDuplicateReplaces(t *testing.T) {
	s := openTest(t, true)
	a := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 10)
	b := basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 20)
	st1 := ingest(t, s, cmd("1.2.3"), a)
	st2 := ingest(t, s, cmd("1.2.3"), b)
	if st1.Path != st2.Path || st1.Replaced || !st2.Replaced {
		t.Errorf("paths %q %q, replaced %v %v", st1.Path, st2.Path, st1.Replaced, st2.Replaced)
	}
	_, ds := storedMeta(t, filepath.Join(s.Root(), st2.Path))
	if !bytes.Equal(ds, b) {
		t.Error("the newer copy did not replace the older one")
	}
	assertNoLeftovers(t, s, 1)
}

func TestIngestMismatchKeepsAndWarns(t *testing.T) {
	s := openTest(t, true)
	ds := basicDataSet("1.2.840.10008.5.1.4.1.1.4", "1.2.3.99", "1.2.4", "1.2.5", "P1", 300<<10)
	st := ingest(t, s, cmd("1.2.3.1"), ds)
	if !strings.Contains(st.Warning, "SOP Instance UID") || !strings.Contains(st.Warning, "SOP Class UID") {
		t.Errorf("warning %q", st.Warning)
	}
	if st.Path != "P1/1.2.4/1.2.5/1.2.3.99.dcm" || st.Header.SOPInstanceUID != "1.2.3.99" {
		t.Errorf("path %q, header %+v", st.Path, st.Header)
	}
	meta, got := storedMeta(t, filepath.Join(s.Root(), st.Path))
	if meta[tag.MediaStorageSOPInstanceUID] != "1.2.3.99" || meta[tag.MediaStorageSOPClassUID] != "1.2.840.10008.5.1.4.1.1.4" {
		t.Errorf("meta names %v", meta)
	}
	if !bytes.Equal(got, ds) || st.DataSetSize != int64(len(ds)) {
		t.Error("data set changed")
	}
	if fi, _ := os.Stat(filepath.Join(s.Root(), st.Path)); fi.Size() != st.Size {
		t.Errorf("Size %d, file %d", st.Size, fi.Size())
	}
	assertNoLeftovers(t, s, 1)
}

func TestIngestMissingUIDsUsesCommand(t *testing.T) {
	s := openTest(t, false)
	ds := buildDataSet(implicitVRLittleEndian, el{0x00100020, "LO", "P1"}, el{0x0020000D, "UI", "1.2.4"})
	in := cmd("1.2.3.7")
	in.TransferSyntaxUID = implicitVRLittleEndian
	st := ingest(t, s, in, ds)
	if st.Warning == "" || st.Header.SOPInstanceUID != "1.2.3.7" || st.Header.SOPClassUID != ctClass ||
		st.Path != "P1/1.2.4/_no-series-uid/1.2.3.7.dcm" {
		t.Errorf("%+v", st)
	}
	meta, _ := storedMeta(t, filepath.Join(s.Root(), st.Path))
	if meta[tag.MediaStorageSOPInstanceUID] != "1.2.3.7" {
		t.Errorf("meta %v", meta)
	}
}

func TestIngestMalformedAfterUIDsIsStored(t *testing.T) {
	s := openTest(t, false)
	ds := buildDataSet(explicitVRLittleEndian, el{0x00080016, "UI", ctClass}, el{0x00080018, "UI", "1.2.3"},
		el{0x00100020, "LO", "P1"})
	ds = append(ds, 0x20, 0x00, 0x0d, 0x00, 'U', 'I', 0xff, 0x7f) // Study UID longer than the data set
	st := ingest(t, s, cmd("1.2.3"), ds)
	if !strings.Contains(st.Warning, "malformed") || st.Path != "P1/_no-study-uid/_no-series-uid/1.2.3.dcm" {
		t.Errorf("%+v", st)
	}
}

func TestIngestGarbageIsRefused(t *testing.T) {
	s := openTest(t, true)
	for _, ds := range [][]byte{nil, []byte("this is not a DICOM data set, just some text"), make([]byte, 4096)} {
		for _, ts := range []string{implicitVRLittleEndian, explicitVRLittleEndian, explicitVRBigEndian, deflatedExplicitVRLE} {
			in := cmd("1.2.3")
			in.TransferSyntaxUID = ts
			_, err := s.Ingest(context.Background(), in, bytes.NewReader(ds))
			if !errors.Is(err, ErrCannotUnderstand) || errors.Is(err, ErrOutOfResources) {
				t.Errorf("%s, %d bytes: err %v", ts, len(ds), err)
			}
		}
	}
	assertNoLeftovers(t, s, 0)
}

func TestIngestConcurrent(t *testing.T) {
	s := openTest(t, true)
	const n = 50
	sets := make([][]byte, n)
	for i := range sets {
		sets[i] = basicDataSet(ctClass, fmt.Sprintf("1.2.3.%d", i), fmt.Sprintf("1.2.4.%d", i%3),
			fmt.Sprintf("1.2.5.%d", i%5), fmt.Sprintf("P%d", i%3), 1000*i)
	}
	var wg sync.WaitGroup
	res := make([]Stored, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res[i], errs[i] = s.Ingest(context.Background(), cmd(fmt.Sprintf("1.2.3.%d", i)), bytes.NewReader(sets[i]))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("%d: %v", i, errs[i])
		}
		want := fmt.Sprintf("P%d/1.2.4.%d/1.2.5.%d/1.2.3.%d.dcm", i%3, i%3, i%5, i)
		if res[i].Path != want || res[i].Warning != "" {
			t.Errorf("%d: %+v", i, res[i])
		}
		_, ds := storedMeta(t, filepath.Join(s.Root(), res[i].Path))
		if !bytes.Equal(ds, sets[i]) {
			t.Errorf("%d: data set differs", i)
		}
	}
	assertNoLeftovers(t, s, n)
}

func TestIngestDirectoryRemovedBehindItsBack(t *testing.T) {
	s := openTest(t, true)
	st := ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 10))
	if err := os.RemoveAll(filepath.Join(s.Root(), "P1")); err != nil {
		t.Fatal(err)
	}
	st2 := ingest(t, s, cmd("1.2.3.2"), basicDataSet(ctClass, "1.2.3.2", "1.2.4", "1.2.5", "P1", 10))
	if filepath.Dir(st.Path) != filepath.Dir(st2.Path) {
		t.Errorf("%q vs %q", st.Path, st2.Path)
	}
	assertNoLeftovers(t, s, 1)
}

func TestOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	if err := os.MkdirAll(filepath.Join(root, incomingDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x.part", "y.part", "keep.txt"} {
		os.WriteFile(filepath.Join(root, incomingDir, name), []byte("x"), 0o644)
	}
	s, err := Open(root, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	entries, _ := os.ReadDir(filepath.Join(root, incomingDir))
	var names []string
	reserves := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), reserveExt) {
			reserves++
			continue
		}
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[journal-0.dij journal-1.dij keep.txt lock]" || reserves != 0 && reserves != reserveGroup-2 {
		t.Errorf(".incoming holds %v and %d reserve files, want the journal files, keep.txt, the lock file and 0 or %d", names, reserves, reserveGroup-2)
	}
	if !filepath.IsAbs(s.Root()) {
		t.Errorf("Root %q is not absolute", s.Root())
	}
	if free, err := s.FreeBytes(); err != nil || free == 0 {
		t.Errorf("FreeBytes = %d, %v", free, err)
	}

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(file, DefaultOptions()); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open(file) = %v", err)
	}
	if _, err := Open(filepath.Join(file, "sub"), DefaultOptions()); err == nil {
		t.Error("Open under a file succeeded")
	}
	bad := DefaultOptions()
	bad.ImplementationClassUID = "1.02.x"
	if _, err := Open(t.TempDir(), bad); err == nil {
		t.Error("Open accepted a bad implementation class UID")
	}
	bad = DefaultOptions()
	bad.ImplementationVersionName = "much too long a version name"
	if _, err := Open(t.TempDir(), bad); err == nil {
		t.Error("Open accepted a bad implementation version name")
	}
}

// TestIngestSyscallBudget checks that directories are created and their
// parents fsynced once, and that an instance into a known series directory
// costs one write, one journal record and its fdatasync and one rename (no
// fsync of the file or its folder); with the journal off, one write, one
// file fsync, one rename and one directory fsync.
func TestIngestSyscallBudget(t *testing.T) {
	for _, c := range []struct {
		journal int64
		want    [3]map[string]int
	}{
		{0, [3]map[string]int{
			{"create": 1, "write": 1, "utimes": 1, "journal": 1, "journalsync": 1, "close": 1, "mkdir": 3, "rename": 1, "dirsync": 3},
			{"create": 1, "write": 1, "utimes": 1, "journal": 1, "journalsync": 1, "close": 1, "rename": 1},
			{"create": 1, "write": 1, "utimes": 1, "journal": 1, "journalsync": 1, "close": 1, "mkdir": 1, "rename": 1, "dirsync": 1},
		}},
		{-1, [3]map[string]int{
			{"create": 1, "write": 1, "utimes": 1, "sync": 1, "close": 1, "mkdir": 3, "rename": 1, "dirsync": 4},
			{"create": 1, "write": 1, "utimes": 1, "sync": 1, "close": 1, "rename": 1, "dirsync": 1},
			{"create": 1, "write": 1, "utimes": 1, "sync": 1, "close": 1, "mkdir": 1, "rename": 1, "dirsync": 2},
		}},
	} {
		opt := DefaultOptions()
		opt.JournalBytes = c.journal
		s := openTestOpt(t, opt)
		var mu sync.Mutex
		ops := map[string]int{}
		s.setFaultHook(func(op string) error { mu.Lock(); ops[op]++; mu.Unlock(); return nil })
		for i, in := range []struct{ inst, series string }{{"1.2.3.1", "1.2.5.1"}, {"1.2.3.2", "1.2.5.1"}, {"1.2.3.3", "1.2.5.2"}} {
			mu.Lock()
			clear(ops)
			mu.Unlock()
			ingest(t, s, cmd(in.inst), basicDataSet(ctClass, in.inst, "1.2.4", in.series, "P1", 64<<10))
			mu.Lock()
			delete(ops, "checkpoint") // the checkpointer runs on its own time
			if fmt.Sprint(ops) != fmt.Sprint(c.want[i]) {
				t.Errorf("journal %d, %s: operations %v, want %v", c.journal, in.inst, ops, c.want[i])
			}
			mu.Unlock()
		}
	}
}

func TestSpareTempFiles(t *testing.T) {
	opt := DefaultOptions()
	opt.Sync, opt.SpareTempFiles = false, 3
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		uid := fmt.Sprintf("1.2.3.%d", i)
		ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", 100))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoLeftovers(t, s, 20) // Close removed the spares
}

// When nothing is stored at the target path, Ingest renames the file into
// the tree while the index row commits. If the commit fails, the file is
// taken out again: nothing is left, in the tree or in .incoming.
func TestIngestIndexFailureTakesTheFileBack(t *testing.T) {
	s := openTest(t, true)
	if err := s.Index().Close(); err != nil { // every Put now fails
		t.Fatal(err)
	}
	_, err := s.Ingest(context.Background(), cmd("1.2.3"), bytes.NewReader(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 1000)))
	if !errors.Is(err, ErrOutOfResources) || !errors.Is(err, index.ErrClosed) {
		t.Errorf("err %v", err)
	}
	assertNoLeftovers(t, s, 0)
}

// Keep policy, second copy under another patient (so another, free path,
// where the file is placed before the row's outcome is known): the second
// copy is taken out of the tree again, the first stays, file and row.
func TestIngestKeepPolicyMovedCopy(t *testing.T) {
	s := openTest(t, true)
	if err := s.SetDuplicatePolicy(DuplicateKeep); err != nil {
		t.Fatal(err)
	}
	first := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", "P1", 100)
	st1 := ingest(t, s, cmd("1.2.9"), first)
	moved := basicDataSet(ctClass, "1.2.9", "1.2.40", "1.2.50", "P2", 300)
	st := ingest(t, s, cmd("1.2.9"), moved)
	if st.Duplicate != DuplicateKept || st.Path != st1.Path {
		t.Errorf("second copy: %+v, want kept at %s", st, st1.Path)
	}
	assertNoLeftovers(t, s, 1)
	row := allRows(t, s)["1.2.9"]
	if row.Path != st1.Path || row.PatientID != "P1" {
		t.Errorf("row %+v", row)
	}
	if _, ds := storedMeta(t, filepath.Join(s.Root(), st1.Path)); !bytes.Equal(ds, first) {
		t.Error("the first copy was not kept")
	}
	if tot, err := s.Index().Totals(context.Background()); err != nil || tot.Patients != 1 || tot.Studies != 1 || tot.Instances != 1 {
		t.Errorf("totals %+v, %v", tot, err)
	}
}

// Copies of one SOP Instance UID arriving at the same time (one sender
// retrying on several associations), with different content and under two
// patients: Ingests of one UID take turns, so in the end there is one file
// and one row, and the row describes that file.
func TestIngestSameInstanceConcurrently(t *testing.T) {
	s := openTest(t, true)
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ds := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", fmt.Sprintf("P%d", i%2), 100+10*i)
			_, errs[i] = s.Ingest(context.Background(), cmd("1.2.9"), bytes.NewReader(ds))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	assertNoLeftovers(t, s, 1)
	row := allRows(t, s)["1.2.9"]
	b, err := os.ReadFile(filepath.Join(s.Root(), filepath.FromSlash(row.Path)))
	if err != nil {
		t.Fatal(err)
	}
	_, ds := storedMeta(t, filepath.Join(s.Root(), filepath.FromSlash(row.Path)))
	if row.SizeBytes != int64(len(b)) || row.ContentHash != contentHash(crc32.Checksum(ds, castagnoli), int64(len(ds))) {
		t.Errorf("row (size %d, hash %s) does not describe the stored file (size %d)", row.SizeBytes, row.ContentHash, len(b))
	}
}

func TestKeyLocks(t *testing.T) {
	var k keyLocks
	var wg sync.WaitGroup
	inside := map[string]int{}
	var mu sync.Mutex
	for i := range 40 {
		wg.Go(func() {
			key := fmt.Sprint(i % 4)
			unlock := k.lock(key)
			mu.Lock()
			inside[key]++
			if inside[key] != 1 {
				t.Errorf("key %s held twice", key)
			}
			mu.Unlock()
			mu.Lock()
			inside[key]--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if len(k.m) != 0 {
		t.Errorf("%d locks left in the map", len(k.m))
	}
}

// Stored.Phases accounts for the Ingest: every step is measured, none is
// negative, and together they take no longer than the call. Tried on a
// journaled file and on one fsynced on its own.
func TestIngestPhases(t *testing.T) {
	s := openTest(t, true)
	for _, size := range []int{10 << 10, 2 << 20} {
		uid := fmt.Sprintf("1.2.3.%d", size)
		begin := time.Now()
		st := ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", size))
		took := time.Since(begin)
		p := st.Phases
		sum := p.Receive + p.Header + p.Durable + p.Place + p.Index
		if p.Receive <= 0 || p.Header <= 0 || p.Durable <= 0 || p.Place <= 0 || p.Index < 0 || sum > took {
			t.Errorf("%d bytes: phases %+v (sum %v) for an Ingest of %v", size, p, sum, took)
		}
	}
}
