package app

// The shared corpus through the whole engine: sent by DCMTK storescu and
// compared with what DCMTK's own bit-preserving storescp wrote, sent verbatim
// by our SCU, and hostile identifiers that must never leave the storage root.

import (
	"bytes"
	"context"
	"errors"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store/index"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// checkLayout checks that rel is <patient>/<study>/<series>/<sop>.dcm as
// docs/storage-layout.md describes, for the values the corpus is known to
// hold: UIDs are already safe path components and stay unchanged; a missing
// value goes to its bucket; a patient ID is kept as is when it is made only
// of characters the layout keeps.
func checkLayout(t *testing.T, rel string, f apptest.CorpusFile) {
	t.Helper()
	comps := strings.Split(filepath.ToSlash(rel), "/")
	if len(comps) != 4 {
		t.Errorf("stored at %s: want <patient>/<study>/<series>/<sop>.dcm", rel)
		return
	}
	want := func(level, got, value, bucket string) {
		switch {
		case value == "" && got != bucket:
			t.Errorf("%s component %q, want the bucket %s (the file has none)", level, got, bucket)
		case value != "" && safeComponent(value) && got != value:
			t.Errorf("%s component %q, want %q", level, got, value)
		case value != "" && !safeComponent(value) && got == value:
			t.Errorf("%s component %q kept unsafe characters", level, got)
		}
	}
	want("patient", comps[0], strings.TrimSpace(f.PatientID), "_no-patient-id")
	want("study", comps[1], f.StudyInstanceUID, "_no-study-uid")
	want("series", comps[2], f.SeriesInstanceUID, "_no-series-uid")
	if comps[3] != f.SOPInstanceUID+".dcm" {
		t.Errorf("file name %q, want %s.dcm", comps[3], f.SOPInstanceUID)
	}
}

// safeComponent reports whether the layout keeps v unchanged as a path
// component: at most 64 bytes of [A-Za-z0-9._-], not starting or ending with
// a dot, not a reserved name.
func safeComponent(v string) bool {
	if v == "" || len(v) > 64 || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	u := strings.ToUpper(v)
	return !strings.HasPrefix(u, "INDEX.DB") && u != "CON" && u != "PRN" && u != "AUX" && u != "NUL"
}

// TestCorpusStorescu sends every corpus file DCMTK storescu can send, with
// its own SOP class and transfer syntax, to the engine and to a DCMTK
// storescp in bit-preserving mode (+B), and requires the data set we stored
// to equal, byte for byte, the one storescp wrote: both are the bytes that
// crossed the wire (storescu re-encodes some files, see corpus/README.md, so
// the source file is not the reference).
func TestCorpusStorescu(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	storescp := apptest.Tool(t, "storescp")
	dcmdump := apptest.Tool(t, "dcmdump")
	files := apptest.LoadCorpus(t)

	cfg := testConfig(t)
	engine, addr := startEngine(t, cfg)
	port := portOf(t, addr)
	root := cfg.StorageDir

	// One reference storescp for the whole test: bit-preserving, every
	// transfer syntax it supports (+xa), unknown SOP classes too (-pm).
	refDir := t.TempDir()
	refPort := freePort(t)
	ref := startBackground(t, 5*time.Minute, storescp, "-aet", "REF", "+B", "+xa", "-pm", "-od", refDir, refPort)
	waitListening(t, "127.0.0.1:"+refPort, ref)

	cfgDir := t.TempDir()
	sent := 0
	for _, f := range files {
		if !f.StorescuOK {
			continue
		}
		sent++
		t.Run(strings.TrimSuffix(f.Name, ".dcm"), func(t *testing.T) {
			// 16_rtstruct_no_meta.dcm is a bare data set: storescu reads it
			// with its default +f (file format or data set), detects
			// Implicit VR Little Endian, and needs nothing else.
			pcFile := writeStorescuConfig(t, cfgDir, pcSpec{f.SOPClassUID, f.TransferSyntax})
			before := listStored(t, root)

			out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, "-v", "-xf", pcFile, "P",
				"-aec", "INBOX", "-aet", "STORESCU", "127.0.0.1", port, f.Path)
			apptest.CheckStorescuOutput(t, out, err, 1)

			added := newFiles(before, listStored(t, root))
			if len(added) != 1 {
				t.Fatalf("%d new files in the storage tree, want 1: %v", len(added), added)
			}
			byUID := findStoredByUID(t, root, f.SOPInstanceUID)
			if len(byUID) != 1 || byUID[0] != added[0] {
				t.Fatalf("new file %s; files with SOP Instance UID %s: %v", added[0], f.SOPInstanceUID, byUID)
			}
			rel := added[0]
			checkLayout(t, rel, f)
			path := filepath.Join(root, rel)

			dump, err := apptest.RunCmd(t, dcmtkTimeout, dcmdump, "-M", path)
			if err != nil || strings.Contains(dump, "\nE: ") || strings.HasPrefix(dump, "E: ") {
				t.Fatalf("dcmdump %s: %v\n%s", rel, err, dump)
			}

			got := readPart10(t, path)
			checkMeta(t, got, f, "STORESCU")

			// The same file, same configuration, to the reference storescp.
			out, err = apptest.RunCmd(t, dcmtkTimeout, storescu, "-v", "-xf", pcFile, "P",
				"-aec", "REF", "-aet", "STORESCU", "127.0.0.1", refPort, f.Path)
			apptest.CheckStorescuOutput(t, out, err, 1)
			refFile := findRefFile(t, refDir, f.SOPInstanceUID)
			defer os.Remove(refFile)
			want := readPart10(t, refFile)
			if ts := want.metaString(tagTransferSyntaxUID); ts != f.TransferSyntax {
				t.Fatalf("reference storescp stored TS %s, want %s (the comparison would be meaningless)", ts, f.TransferSyntax)
			}
			if !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("stored data set differs from the bytes that crossed the wire (storescp +B): %s", firstDiff(got.Data, want.Data))
			}
		})
	}
	if sent != 33 {
		t.Errorf("%d files sent with storescu, want the 33 the manifest marks storescu_ok", sent)
	}
	checkIndexRows(t, engine, files)
	checkIncomingEmpty(t, root)
}

// checkIndexRows: every instance storescu sent has its index row, with the
// values of expected.jsonl (placeholders where the data set has none).
func checkIndexRows(t *testing.T, e *Engine, files []apptest.CorpusFile) {
	t.Helper()
	or := func(p *string, placeholder string) string {
		if v := deref(p); v != "" {
			return v
		}
		return placeholder
	}
	for _, f := range files {
		if !f.StorescuOK {
			continue
		}
		row, ok, err := e.store.Index().Get(context.Background(), f.SOPInstanceUID)
		if err != nil || !ok {
			t.Errorf("%s: no index row (%v)", f.Name, err)
			continue
		}
		x := f.Expected
		for _, c := range []struct{ col, got, want string }{
			{"sop_class_uid", row.SOPClassUID, x.SOPClassUID},
			{"study_instance_uid", row.StudyInstanceUID, or(x.StudyInstanceUID, index.NoStudyUID)},
			{"series_instance_uid", row.SeriesInstanceUID, or(x.SeriesInstanceUID, index.NoSeriesUID)},
			{"patient_id", row.PatientID, or(x.PatientID, index.NoPatientID)},
			{"patient_name", row.PatientName, deref(x.PatientName)},
			{"study_date", row.StudyDate, deref(x.StudyDate)},
			{"modality", row.Modality, deref(x.Modality)},
			{"transfer_syntax_uid", row.TransferSyntaxUID, f.TransferSyntax},
			{"calling_ae", row.CallingAE, "STORESCU"},
		} {
			if c.got != c.want {
				t.Errorf("%s: index %s = %q, want %q", f.Name, c.col, c.got, c.want)
			}
		}
	}
}

// findRefFile returns the file storescp wrote for an instance: storescp names
// it <modality prefix>.<SOP Instance UID>.
func findRefFile(t *testing.T, dir, sopInstanceUID string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if strings.HasSuffix(e.Name(), "."+sopInstanceUID) {
			return filepath.Join(dir, e.Name())
		}
	}
	t.Fatalf("storescp wrote no file for %s; %s holds %v", sopInstanceUID, dir, names)
	return ""
}

// checkMeta checks the meta group the store wrote.
func checkMeta(t *testing.T, p *part10, f apptest.CorpusFile, callingAE string) {
	t.Helper()
	for _, c := range []struct {
		tag  uint32
		name string
		want string
	}{
		{tagMediaSOPClassUID, "MediaStorageSOPClassUID", f.SOPClassUID},
		{tagMediaSOPInstUID, "MediaStorageSOPInstanceUID", f.SOPInstanceUID},
		{tagTransferSyntaxUID, "TransferSyntaxUID", f.TransferSyntax},
		{tagImplClassUIDMeta, "ImplementationClassUID", scp.ImplementationClassUID},
		{tagSourceAETitle, "SourceApplicationEntityTitle", callingAE},
	} {
		if got := p.metaString(c.tag); got != c.want {
			t.Errorf("meta %s = %q, want %q", c.name, got, c.want)
		}
	}
	// UIDs are padded with NUL, AE titles with a space, to even length.
	for tag, v := range p.Meta {
		if len(v)%2 != 0 {
			t.Errorf("meta element %08X has odd length %d", tag, len(v))
		}
	}
	if v := p.Meta[tagMediaSOPInstUID]; len(v) > 0 && bytes.ContainsRune(bytes.TrimRight(v, "\x00"), 0) {
		t.Errorf("MediaStorageSOPInstanceUID %q has an inner NUL", v)
	}
}

// TestCorpusVerbatim sends the data set bytes of every corpus file, exactly
// as they are in the file, with our own SCU and the file's own transfer
// syntax (HTJ2K included, which DCMTK 3.6.7 cannot send), and requires the
// stored data set to be those bytes.
func TestCorpusVerbatim(t *testing.T) {
	files := apptest.LoadCorpus(t)
	cfg := testConfig(t)
	_, addr := startEngine(t, cfg)
	root := cfg.StorageDir

	for _, f := range files {
		t.Run(strings.TrimSuffix(f.Name, ".dcm"), func(t *testing.T) {
			ds := corpusDataSet(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := scp.Dial(ctx, addr, scp.DialConfig{
				CallingAE: "GOSCU",
				CalledAE:  "INBOX",
				Contexts:  []scp.ProposedContext{{AbstractSyntax: f.SOPClassUID, TransferSyntaxes: []string{f.TransferSyntax}}},
			})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if _, ok := c.ContextFor(f.SOPClassUID, f.TransferSyntax); !ok {
				c.Abort()
				t.Fatalf("the engine did not accept %s with %s", f.SOPClassUID, f.TransferSyntax)
			}
			st, err := c.Store(ctx, f.SOPClassUID, f.SOPInstanceUID, f.TransferSyntax, bytes.NewReader(ds))
			if err != nil {
				c.Abort()
				t.Fatalf("C-STORE: %v", err)
			}
			if err := c.Release(ctx); err != nil {
				t.Errorf("release: %v", err)
			}
			if st.Code != 0x0000 {
				t.Fatalf("C-STORE status %04X (%q), want 0000", st.Code, st.Comment)
			}

			got := findStoredByUID(t, root, f.SOPInstanceUID)
			if len(got) != 1 {
				t.Fatalf("%d stored files with SOP Instance UID %s, want 1", len(got), f.SOPInstanceUID)
			}
			checkLayout(t, got[0], f)
			p := readPart10(t, filepath.Join(root, got[0]))
			checkMeta(t, p, f, "GOSCU")
			if !bytes.Equal(p.Data, ds) {
				t.Fatalf("stored data set differs from the bytes sent: %s", firstDiff(p.Data, ds))
			}
			if f.Name == "12_sc_htj2k_lossless.dcm" {
				// No Patient ID, no Study Instance UID: the clearly named buckets.
				if !strings.HasPrefix(filepath.ToSlash(got[0]), "_no-patient-id/_no-study-uid/") {
					t.Errorf("HTJ2K file stored at %s, want under _no-patient-id/_no-study-uid/", got[0])
				}
			}
		})
	}
	if n := len(listStored(t, root)); n != len(files) {
		t.Errorf("%d files stored, want %d", n, len(files))
	}
	checkIncomingEmpty(t, root)
}

// TestPathTraversalOverNetwork: SOP Instance UID, Patient ID, Study and
// Series Instance UID that try to climb out of the storage root, or are
// absurdly long, or hold a NUL: each instance is still stored (status 0000),
// sanitised, under the root, and nothing appears anywhere else.
func TestPathTraversalOverNetwork(t *testing.T) {
	dcmdump := apptest.Tool(t, "dcmdump")
	base := t.TempDir()
	cfg := testConfig(t)
	cfg.StorageDir = filepath.Join(base, "inbox", "storage")
	_, addr := startEngine(t, cfg)
	root := cfg.StorageDir

	const sopClass = "1.2.840.10008.5.1.4.1.1.7" // Secondary Capture Image Storage
	ts := uid.ImplicitVRLittleEndian
	cases := []struct{ name, value string }{
		{"dotdot", ".."},
		{"absolute", "/etc/x"},
		{"climb", "a/../../b"},
		{"backslash", `..\..\x`},
		{"long", strings.Repeat("1.23", 75)}, // 300 characters
		{"nul", "a\x00/../b"},
	}
	if len(cases[4].value) != 300 {
		t.Fatal("the long case must be 300 characters")
	}
	_, etcXBefore := os.Stat("/etc/x")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := scp.Dial(ctx, addr, scp.DialConfig{
		CallingAE: "HOSTILE",
		CalledAE:  "INBOX",
		Contexts:  []scp.ProposedContext{{AbstractSyntax: sopClass, TransferSyntaxes: []string{ts}}},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Abort()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ds []byte
			ds = apptest.ImplicitElement(ds, 0x00080016, sopClass, 0)
			ds = apptest.ImplicitElement(ds, 0x00080018, tc.value, 0)
			ds = apptest.ImplicitElement(ds, 0x00100020, tc.value, ' ')
			ds = apptest.ImplicitElement(ds, 0x0020000D, tc.value, 0)
			ds = apptest.ImplicitElement(ds, 0x0020000E, tc.value, 0)
			before := listStored(t, root)
			st, err := c.Store(ctx, sopClass, tc.value, ts, bytes.NewReader(ds))
			if err != nil {
				t.Fatalf("C-STORE: %v", err)
			}
			if st.Code != 0x0000 {
				t.Fatalf("status %04X (%q), want 0000: the instance must be stored under a sanitised name", st.Code, st.Comment)
			}
			added := newFiles(before, listStored(t, root))
			if len(added) != 1 {
				t.Fatalf("%d new files, want 1: %v", len(added), added)
			}
			rel := added[0]
			t.Logf("%q stored at %s", tc.value, rel)
			comps := strings.Split(filepath.ToSlash(rel), "/")
			if len(comps) != 4 {
				t.Errorf("stored at %q: want 4 path components", rel)
			}
			for _, comp := range comps {
				if comp == "" || comp == "." || comp == ".." || strings.HasPrefix(comp, ".") ||
					strings.ContainsAny(comp, "\\\x00:") || len(comp) > 64+len(".dcm") {
					t.Errorf("unsafe path component %q in %q", comp, rel)
				}
			}
			p := readPart10(t, filepath.Join(root, rel))
			if !bytes.Equal(p.Data, ds) {
				t.Errorf("stored data set differs from the bytes sent: %s", firstDiff(p.Data, ds))
			}
			// The file stays readable by standard tools.
			if dump, err := apptest.RunCmd(t, dcmtkTimeout, dcmdump, filepath.Join(root, rel)); err != nil || strings.Contains(dump, "E: ") {
				t.Errorf("dcmdump %s: %v\n%s", rel, err, dump)
			}
		})
	}
	if err := c.Release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}

	// Walk everything under base: every file must be under the root, and the
	// only directories outside it are the root's parents.
	rootReal, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	allowedDirs := map[string]bool{base: true, filepath.Join(base, "inbox"): true}
	n := 0
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("symlink in the tree: %s", p)
		}
		under := p == root || strings.HasPrefix(p, root+string(filepath.Separator))
		if d.IsDir() && !under && !allowedDirs[p] {
			t.Errorf("directory outside the storage root: %s", p)
		}
		if !d.IsDir() {
			if !under {
				t.Errorf("file outside the storage root: %s", p)
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(real, rootReal+string(filepath.Separator)) {
				t.Errorf("%s resolves to %s, outside the root", p, real)
			}
			if strings.HasSuffix(p, ".dcm") {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(cases) {
		t.Errorf("%d .dcm files under the root, want %d", n, len(cases))
	}
	if _, err := os.Stat("/etc/x"); errors.Is(etcXBefore, os.ErrNotExist) && !errors.Is(err, os.ErrNotExist) {
		t.Error("/etc/x appeared")
	}
	checkIncomingEmpty(t, root)
}
