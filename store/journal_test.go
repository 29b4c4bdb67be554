package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/store/index"
)

// powerCut copies the storage tree of an open store as it is on disk now
// (what a power cut would leave if the page cache had reached the disk)
// into a new folder, without letting the store checkpoint first.
func powerCut(t *testing.T, s *Store) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "after")
	if err := os.CopyFS(dst, os.DirFS(s.Root())); err != nil {
		t.Fatal(err)
	}
	return dst
}

// holdCheckpoints makes every checkpoint of s fail, so that the journal
// keeps its records for the test to look at.
func holdCheckpoints(s *Store) {
	s.setFaultHook(func(op string) error {
		if op == "checkpoint" {
			return errors.New("held by the test")
		}
		return nil
	})
}

func liveRecords(t *testing.T, root string) []journalRecord {
	t.Helper()
	var live []journalRecord
	for _, n := range journalNames {
		f, err := os.Open(filepath.Join(root, incomingDir, n))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		recs, err := scanJournal(f, fi.Size(), make([]byte, 64<<10))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.live {
				live = append(live, r)
			}
		}
	}
	return live
}

// Files the page cache had not written when the power failed (missing,
// empty, torn) come back from the journal at Open, byte for byte, with
// their received time as modification time, and get their rows; files that
// were intact are left alone but for a lost modification time (os.CopyFS
// does not keep it, so the intact one has lost it).
func TestJournalRestoresAfterPowerCut(t *testing.T) {
	s := openTest(t, true)
	holdCheckpoints(s)
	want := map[string][]byte{}
	mtimes := map[string]time.Time{}
	uids := map[string]string{}
	for _, inst := range []string{"1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4"} {
		st := ingest(t, s, cmd(inst), basicDataSet(ctClass, inst, "1.2.4", "1.2.5", "P1", 20<<10))
		p := filepath.Join(s.Root(), st.Path)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want[st.Path], mtimes[st.Path], uids[st.Path] = b, fi.ModTime(), inst
	}
	if n := len(liveRecords(t, s.Root())); n != 4 {
		t.Fatalf("%d live journal records before the cut, want 4", n)
	}
	after := powerCut(t, s)
	i := 0
	for rel := range want {
		p := filepath.Join(after, rel)
		switch i {
		case 0:
			os.Remove(p)
		case 1:
			os.Truncate(p, 0)
		case 2:
			b := bytes.Clone(want[rel])
			b[len(b)-1] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}
		i++
	}
	r := openOutboxAt(t, after, outboxOptions(true))
	ctx := context.Background()
	for rel, b := range want {
		p := filepath.Join(after, rel)
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s after the restore: %d bytes, err %v; want the %d bytes stored", rel, len(got), err, len(b))
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.ModTime().Equal(mtimes[rel]) {
			t.Errorf("%s after the restore: modification time %v (%v), want the received time %v", rel, fi.ModTime(), err, mtimes[rel])
		}
		row, ok, err := r.Index().Get(ctx, uids[rel])
		if err != nil || !ok || !row.ReceivedAt.Equal(mtimes[rel]) {
			t.Errorf("%s: row received at %v (found %v, %v), want %v", rel, row.ReceivedAt, ok, err, mtimes[rel])
		}
	}
	tot, err := r.Index().Totals(ctx)
	if err != nil || tot.Instances != 4 {
		t.Errorf("index after the restore: %+v, %v; want 4 instances", tot, err)
	}
	if n := len(liveRecords(t, after)); n != 0 {
		t.Errorf("%d live journal records after the restore, want 0", n)
	}
}

// appendJournalRecordV1 appends a record of the journal's first version
// (40-byte header, no modification time) to b, as an earlier DICOM Inbox
// wrote it.
func appendJournalRecordV1(b []byte, magic, rel string, data []byte, fill uint64, seq int64) []byte {
	h := make([]byte, journalHeaderLenV1)
	copy(h, magic)
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(rel)))
	binary.LittleEndian.PutUint64(h[8:16], uint64(len(data)))
	binary.LittleEndian.PutUint64(h[16:24], fill)
	binary.LittleEndian.PutUint64(h[24:32], uint64(seq))
	crc := crc32.Update(crc32.Checksum([]byte(rel), castagnoli), castagnoli, data)
	binary.LittleEndian.PutUint32(h[32:36], journalSum(h[4:32], crc))
	b = append(append(append(b, h...), rel...), data...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// A journal left by an earlier version (a power cut, then an upgrade) is
// still restored: its live records come back, its withdrawn ones do not.
func TestJournalRestoresFirstVersionRecords(t *testing.T) {
	s := openTest(t, true)
	root := s.Root()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data := basicDataSet(ctClass, "1.2.3.9", "1.2.4", "1.2.5", "P1", 3000)
	var j []byte
	j = appendJournalRecordV1(j, journalMagicLiveV1, "P1/1.2.4/1.2.5/live.dcm", data, 77, 5)
	j = appendJournalRecordV1(j, journalMagicWithdrawnV1, "P1/1.2.4/1.2.5/withdrawn.dcm", data, 77, 5)
	f, err := os.OpenFile(filepath.Join(root, incomingDir, journalNames[0]), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(j, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	recs := liveRecords(t, root)
	if len(recs) != 1 || recs[0].path != "P1/1.2.4/1.2.5/live.dcm" || recs[0].hdrLen != journalHeaderLenV1 || recs[0].mtime != 0 {
		t.Fatalf("live first-version records: %+v, want the one written", recs)
	}
	openOutboxAt(t, root, outboxOptions(true))
	got, err := os.ReadFile(filepath.Join(root, "P1", "1.2.4", "1.2.5", "live.dcm"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("live record's file after Open: %d bytes, %v; want the %d bytes of the record", len(got), err, len(data))
	}
	if _, err := os.Stat(filepath.Join(root, "P1", "1.2.4", "1.2.5", "withdrawn.dcm")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("withdrawn record's file after Open: %v, want it absent", err)
	}
}

// A checkpoint empties the journal; a file deleted after it, or deleted
// while its record was live (delete checkpoints first), stays deleted.
func TestJournalCheckpointAndDelete(t *testing.T) {
	s := openTest(t, true)
	holdCheckpoints(s)
	ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4.1", "1.2.5.1", "P1", 1000))
	ingest(t, s, cmd("1.2.3.2"), basicDataSet(ctClass, "1.2.3.2", "1.2.4.2", "1.2.5.2", "P1", 1000))
	if n := len(liveRecords(t, s.Root())); n != 2 {
		t.Fatalf("%d live records, want 2", n)
	}
	s.setFaultHook(nil)
	if n, err := s.DeleteStudy(context.Background(), index.StudyKey{PatientID: "P1", StudyInstanceUID: "1.2.4.1"}); err != nil || n != 1 {
		t.Fatalf("DeleteStudy: %d, %v", n, err)
	}
	if n := len(liveRecords(t, s.Root())); n != 0 {
		t.Errorf("%d live records after a delete, want 0 (it checkpoints first)", n)
	}
	r := openOutboxAt(t, powerCut(t, s), outboxOptions(true))
	tot, err := r.Index().Totals(context.Background())
	if err != nil || tot.Studies != 1 || tot.Instances != 1 {
		t.Errorf("after the cut: %+v, %v; want the one study left", tot, err)
	}
}

// A record whose file did not stay in the tree (the index failed) is
// withdrawn: it does not bring the file back.
func TestJournalWithdrawnRecordStaysOut(t *testing.T) {
	s := openTest(t, true)
	s.setFaultHook(func(op string) error {
		if op == "checkpoint" {
			return errors.New("held by the test")
		}
		return nil
	})
	s.idx.Close() // every Put fails from now on
	ds := basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 1000)
	if _, err := s.Ingest(context.Background(), cmd("1.2.3.1"), bytes.NewReader(ds)); err == nil {
		t.Fatal("Ingest with a closed index succeeded")
	}
	if n := len(liveRecords(t, s.Root())); n != 0 {
		t.Fatalf("%d live records after a failed Ingest, want 0", n)
	}
	after := powerCut(t, s)
	r := openOutboxAt(t, after, outboxOptions(true))
	if tot, _ := r.Index().Totals(context.Background()); tot.Instances != 0 {
		t.Errorf("the failed instance came back: %+v", tot)
	}
}

// A newer copy at the same path replaces the file the classic way; the
// journal record of the older copy must not win over it at the next Open.
func TestJournalDoesNotUndoAReplacement(t *testing.T) {
	s := openTest(t, true)
	holdCheckpoints(s)
	st := ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 1000))
	s.setFaultHook(nil) // the replacement checkpoints first
	newer := basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 2000)
	ingest(t, s, cmd("1.2.3.1"), newer)
	want, _ := os.ReadFile(filepath.Join(s.Root(), st.Path))
	after := powerCut(t, s)
	openOutboxAt(t, after, outboxOptions(true))
	got, _ := os.ReadFile(filepath.Join(after, st.Path))
	if !bytes.Equal(got, want) || !bytes.HasSuffix(got, newer) {
		t.Errorf("after the cut the file has %d bytes, want the newer copy's %d", len(got), len(want))
	}
}

// Instances larger than the journal takes are fsynced on their own.
func TestJournalSkipsLargeInstances(t *testing.T) {
	opt := DefaultOptions()
	opt.JournalBytes = 1 << 20
	opt.JournalMaxInstance = 64 << 10
	s := openTestOpt(t, opt)
	ops := map[string]int{}
	var mu sync.Mutex
	s.setFaultHook(func(op string) error { mu.Lock(); ops[op]++; mu.Unlock(); return nil })
	ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 10<<10))
	ingest(t, s, cmd("1.2.3.2"), basicDataSet(ctClass, "1.2.3.2", "1.2.4", "1.2.5", "P1", 100<<10))
	mu.Lock()
	defer mu.Unlock()
	if ops["journal"] != 1 || ops["sync"] != 1 {
		t.Errorf("journal %d, fsync %d; want one of each", ops["journal"], ops["sync"])
	}
}

// When the journal fills faster than it is checkpointed, instances are
// fsynced on their own; none is refused.
func TestJournalFullFallsBack(t *testing.T) {
	opt := DefaultOptions()
	opt.JournalBytes = 256 << 10
	s := openTestOpt(t, opt)
	holdCheckpoints(s)
	for i := range 12 {
		inst := fmt.Sprintf("1.2.3.%d", i+1)
		ingest(t, s, cmd(inst), basicDataSet(ctClass, inst, "1.2.4", "1.2.5", "P1", 40<<10))
	}
	if n := len(liveRecords(t, s.Root())); n == 0 || n >= 12 {
		t.Errorf("%d live records, want some but not all 12", n)
	}
	assertNoLeftovers(t, s, 12)
}

// A record whose bytes are torn ends the run there; records of an earlier
// run behind the end are not taken as part of it.
func TestScanJournalEndsAtTornRecord(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "j"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j, old := testJournal(f)
	buf := make([]byte, 4096)
	var offs []int64
	off := int64(0)
	for i := range 3 {
		data := bytes.Repeat([]byte{byte(i + 1)}, 1000+i)
		if err := j.writeRecord(old, off, bytes.NewReader(data), nil, int64(len(data)), "p/s/x/"+string(rune('a'+i))+".dcm", 1e18, buf); err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
		off += journalRecordLen(len("p/s/x/a.dcm"), int64(len(data)))
	}
	scan := func() []journalRecord {
		fi, _ := f.Stat()
		recs, err := scanJournal(f, fi.Size(), buf)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	if recs := scan(); len(recs) != 3 || recs[2].path != "p/s/x/c.dcm" || recs[2].dataLen != 1002 {
		t.Fatalf("scan of 3 records: %+v", recs)
	}
	// A new run overwrites the first record: the old second and third
	// belong to another fill and are not part of it.
	j.newFill(old)
	data := bytes.Repeat([]byte{9}, 1000)
	if err := j.writeRecord(old, 0, bytes.NewReader(data), nil, 1000, "p/s/x/a.dcm", 1e18, buf); err != nil {
		t.Fatal(err)
	}
	if recs := scan(); len(recs) != 1 || recs[0].fill != old.fill {
		t.Fatalf("new run over an old one: %d records", len(recs))
	}
	// One flipped data byte: the record fails its checksum.
	f.WriteAt([]byte{8}, offs[0]+journalHeaderLen+int64(len("p/s/x/a.dcm"))+500)
	if recs := scan(); len(recs) != 0 {
		t.Errorf("torn record: %d records, want 0", len(recs))
	}
}

// A clean Close checkpoints: the journal holds no live record afterwards.
func TestJournalEmptyAfterClose(t *testing.T) {
	opt := DefaultOptions()
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	holdCheckpoints(s)
	ingest(t, s, cmd("1.2.3.1"), basicDataSet(ctClass, "1.2.3.1", "1.2.4", "1.2.5", "P1", 1000))
	if n := len(liveRecords(t, s.Root())); n != 1 {
		t.Fatalf("%d live records before Close, want 1", n)
	}
	s.setFaultHook(nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(liveRecords(t, s.Root())); n != 0 {
		t.Errorf("%d live records after Close, want 0", n)
	}
}

// testJournal returns a journal without files or checkpointer and a jfile
// on f with a run started, for writing records by hand.
func testJournal(f *os.File) (*journal, *jfile) {
	j := &journal{fault: func(string) error { return nil }, log: slog.New(slog.DiscardHandler)}
	jf := &jfile{f: f}
	j.newFill(jf)
	return j, jf
}

// countReserves returns how many journal reserve files root's .incoming holds.
func countReserves(t *testing.T, root string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, incomingDir))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if filepath.Ext(e.Name()) == reserveExt {
			n++
		}
	}
	return n
}

func TestJournalFilesGetAnInodeGroupOfTheirOwn(t *testing.T) {
	root := t.TempDir()
	open := func(sync bool) {
		t.Helper()
		opt := DefaultOptions()
		opt.Logger = slog.New(slog.DiscardHandler)
		opt.Sync = sync
		s, err := Open(root, opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	open(true)
	// Placement depends on the file system; when it worked, the journal
	// files and the reserves are exactly one aligned group of inodes.
	ents, err := os.ReadDir(filepath.Join(root, incomingDir))
	if err != nil {
		t.Fatal(err)
	}
	var inos []uint64
	for _, e := range ents {
		if filepath.Ext(e.Name()) == reserveExt || filepath.Ext(e.Name()) == ".dij" {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			inos = append(inos, inodeOf(fi))
		}
	}
	switch n := countReserves(t, root); n {
	case 0:
		t.Logf("journal files not placed in a group of their own here (inodes %v)", inos)
	case reserveGroup - 2:
		groups := map[uint64]int{}
		for _, ino := range inos {
			groups[(ino-1)/reserveGroup]++
		}
		if len(groups) != 1 {
			t.Errorf("journal files and reserves have inodes %v, not one aligned group of %d", inos, reserveGroup)
		}
	default:
		t.Fatalf("%d reserve files with a new journal, want 0 or %d", n, reserveGroup-2)
	}
	// Reopened: the journal and its reserves stay as they are.
	before := countReserves(t, root)
	open(true)
	if n := countReserves(t, root); n != before {
		t.Errorf("%d reserve files when reopened, want %d", n, before)
	}
	// Journal off: the journal files and their reserves go.
	open(false)
	if n := countReserves(t, root); n != 0 {
		t.Errorf("%d reserve files with the journal off, want 0", n)
	}
	for _, n := range journalNames {
		if _, err := os.Stat(filepath.Join(root, incomingDir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s with the journal off: %v", n, err)
		}
	}
}

func TestGroupOwned(t *testing.T) {
	const g = reserveGroup
	seq := func(from, n uint64) []uint64 {
		var v []uint64
		for i := range n {
			v = append(v, from+i)
		}
		return v
	}
	// Journal inodes 2g+5 and 2g+6, reserves from g+7 to 3g+5: the
	// group 2g+1 .. 3g is all theirs.
	res := append(seq(g+7, g-2), seq(2*g+7, g-1)...)
	if !groupOwned([]uint64{2*g + 5, 2*g + 6}, res) {
		t.Errorf("group filled by journal and reserves %v not recognised", res)
	}
	// One inode of the group missing (another file has it).
	if groupOwned([]uint64{2*g + 5, 2*g + 6}, append(seq(g+7, g-2), seq(2*g+8, g-2)...)) {
		t.Error("a group with a foreign inode counted as owned")
	}
	// The two journal files in different groups.
	if groupOwned([]uint64{2 * g, 2*g + 1}, seq(g+1, 2*g)) {
		t.Error("journal files split over two groups counted as owned")
	}
	// Unknown inode numbers.
	if groupOwned([]uint64{0, 0}, make([]uint64, 2*g)) {
		t.Error("unknown inodes counted as owned")
	}
}

// A record written from memory (one pwritev) is byte for byte the record
// written by reading the file (path, data, then header).
func TestJournalRecordFromMemoryEqualsFromFile(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes: more than one scratch buffer
	rel := "P1/1.2/1.3/1.4.dcm"
	var recs [2][]byte
	for i := range recs {
		name := filepath.Join(dir, fmt.Sprint(i))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		j, jf := testJournal(f)
		jf.fill, jf.seq = 42, 7 // the same run in both files
		var whole []byte
		if i == 1 {
			whole = data
		}
		if err := j.writeRecord(jf, 8, bytes.NewReader(data), whole, int64(len(data)), rel, 1e18, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if recs[i], err = os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(recs[0], recs[1]) {
		t.Fatalf("records differ: %d bytes from the file, %d from memory", len(recs[0]), len(recs[1]))
	}
	got, err := scanJournal(bytes.NewReader(recs[1][8:]), int64(len(recs[1])-8), make([]byte, 64<<10))
	if err != nil || len(got) != 1 || got[0].path != rel || got[0].dataLen != int64(len(data)) {
		t.Fatalf("scan of the record from memory: %+v, %v", got, err)
	}
}
