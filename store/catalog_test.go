package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dicominbox/dicominbox/store/index"
)

func allRows(t testing.TB, s *Store) map[string]index.Instance {
	t.Helper()
	rows := map[string]index.Instance{}
	if err := s.Index().ForEachInstance(context.Background(), func(in index.Instance) error {
		rows[in.SOPInstanceUID] = in
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func orPlaceholder(p *string, placeholder string) string {
	if v := str(p); v != "" {
		return v
	}
	return placeholder
}

// ingestCorpus stores every corpus file and returns the expected values.
func ingestCorpus(t *testing.T, s *Store) []expected {
	t.Helper()
	exp := loadExpected(t)
	for _, e := range exp {
		raw, err := os.ReadFile(filepath.Join(corpusDir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		ds, ts := splitPart10(t, raw)
		in := Instance{SOPClassUID: e.SOPClassUID, SOPInstanceUID: e.SOPInstanceUID, TransferSyntaxUID: ts,
			CallingAE: "STORESCU", CalledAE: "INBOX", RemoteAddr: "192.0.2.7:40123"}
		if _, err := s.Ingest(context.Background(), in, bytes.NewReader(ds)); err != nil {
			t.Fatalf("%s: %v", e.File, err)
		}
	}
	return exp
}

// TestIndexHoldsExpectedValues: every corpus file is indexed with exactly
// the values of expected.jsonl (decoded by pydicom), placeholders where the
// data set has no value.
func TestIndexHoldsExpectedValues(t *testing.T) {
	s := openTest(t, false)
	exp := ingestCorpus(t, s)
	rows := allRows(t, s)
	if len(rows) != len(exp) {
		t.Fatalf("%d rows, want %d", len(rows), len(exp))
	}
	for _, e := range exp {
		r, ok := rows[e.SOPInstanceUID]
		if !ok {
			t.Errorf("%s: no row", e.File)
			continue
		}
		ts := str(e.TransferSyntaxUID)
		if ts == "" {
			ts = implicitVRLittleEndian // 16: bare data set, sent as implicit VR LE
		}
		for _, c := range []struct{ name, got, want string }{
			{"sop_class_uid", r.SOPClassUID, e.SOPClassUID},
			{"study_instance_uid", r.StudyInstanceUID, orPlaceholder(e.StudyInstanceUID, index.NoStudyUID)},
			{"series_instance_uid", r.SeriesInstanceUID, orPlaceholder(e.SeriesInstanceUID, index.NoSeriesUID)},
			{"patient_id", r.PatientID, orPlaceholder(e.PatientID, index.NoPatientID)},
			{"patient_name", r.PatientName, str(e.PatientName)},
			{"study_date", r.StudyDate, str(e.StudyDate)},
			{"modality", r.Modality, str(e.Modality)},
			{"transfer_syntax_uid", r.TransferSyntaxUID, ts},
			{"calling_ae", r.CallingAE, "STORESCU"},
		} {
			if c.got != c.want {
				t.Errorf("%s: %s = %q, want %q", e.File, c.name, c.got, c.want)
			}
		}
		if fi, err := os.Stat(filepath.Join(s.Root(), filepath.FromSlash(r.Path))); err != nil || fi.Size() != r.SizeBytes {
			t.Errorf("%s: path %q size %d: %v", e.File, r.Path, r.SizeBytes, err)
		}
	}
}

// TestReindexEqualsLiveIndex rebuilds the index from the files alone.
func TestReindexEqualsLiveIndex(t *testing.T) {
	s := openTest(t, false)
	ingestCorpus(t, s)
	live := allRows(t, s)
	root := s.Root()
	s.Close()
	opt := DefaultOptions()
	opt.Logger = slog.New(slog.DiscardHandler)
	totals, err := Reindex(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if totals.Instances != len(live) {
		t.Fatalf("reindex found %d instances, want %d", totals.Instances, len(live))
	}
	s2, err := Open(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rebuilt := allRows(t, s2)
	for uid, want := range live {
		got := rebuilt[uid]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs after reindex:\n live    %+v\n rebuilt %+v", uid, want, got)
		}
	}
}

func TestDuplicatePolicy(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, false)
	first := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", "P1", 100)
	ingest(t, s, cmd("1.2.9"), first)

	st := ingest(t, s, cmd("1.2.9"), first)
	if st.Duplicate != DuplicateIdentical {
		t.Errorf("same bytes again: Duplicate = %v, want identical", st.Duplicate)
	}
	changed := basicDataSet(ctClass, "1.2.9", "1.2.4", "1.2.5", "P1", 200)
	if st = ingest(t, s, cmd("1.2.9"), changed); st.Duplicate != DuplicateReplaced {
		t.Errorf("changed content: Duplicate = %v, want replaced", st.Duplicate)
	}
	// The same SOP Instance UID under another patient and study: one file, one row.
	moved := basicDataSet(ctClass, "1.2.9", "1.2.40", "1.2.50", "P2", 300)
	st = ingest(t, s, cmd("1.2.9"), moved)
	if st.Duplicate != DuplicateReplaced {
		t.Errorf("moved: Duplicate = %v, want replaced", st.Duplicate)
	}
	assertNoLeftovers(t, s, 1)
	rows := allRows(t, s)
	if len(rows) != 1 || rows["1.2.9"].PatientID != "P2" || rows["1.2.9"].Path != st.Path {
		t.Fatalf("rows after replace: %+v", rows)
	}
	if tot, _ := s.Index().Totals(ctx); tot.Studies != 1 || tot.Patients != 1 {
		t.Errorf("totals after the move: %+v", tot)
	}

	keep := openTest(t, false)
	if err := keep.SetDuplicatePolicy(DuplicateKeep); err != nil {
		t.Fatal(err)
	}
	if err := keep.SetDuplicatePolicy("bogus"); err == nil || keep.DuplicatePolicy() != DuplicateKeep {
		t.Errorf("unknown policy: %v, policy now %q", err, keep.DuplicatePolicy())
	}
	ingest(t, keep, cmd("1.2.9"), first)
	if st := ingest(t, keep, cmd("1.2.9"), changed); st.Duplicate != DuplicateKept {
		t.Errorf("keep policy: Duplicate = %v", st.Duplicate)
	}
	stored, _ := os.ReadFile(filepath.Join(keep.Root(), filepath.FromSlash(allRows(t, keep)["1.2.9"].Path)))
	if !bytes.HasSuffix(stored, first) {
		t.Error("keep policy: the first copy was not kept")
	}
}

// TestReconcileAtStart: files without rows are indexed, rows without files
// removed, leftovers removed.
func TestReconcileAtStart(t *testing.T) {
	s := openTest(t, false)
	for i := range 3 {
		uid := fmt.Sprintf("1.2.7.%d", i)
		ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", "1.2.5", "P1", 100))
	}
	rows := allRows(t, s)
	root := s.Root()
	s.Close()
	// A file vanishes behind our back, another arrives without a row.
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(rows["1.2.7.0"].Path))); err != nil {
		t.Fatal(err)
	}
	other := openTest(t, false)
	st := ingest(t, other, cmd("1.2.8"), basicDataSet(ctClass, "1.2.8", "1.2.4", "1.2.6", "P1", 100))
	dst := filepath.Join(root, filepath.FromSlash(st.Path))
	os.MkdirAll(filepath.Dir(dst), 0o755)
	raw, _ := os.ReadFile(filepath.Join(other.Root(), filepath.FromSlash(st.Path)))
	if err := os.WriteFile(dst, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, incomingDir, "x.part"), []byte("half"), 0o644)

	opt := DefaultOptions()
	opt.Logger = slog.New(slog.DiscardHandler)
	s2, err := Open(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := allRows(t, s2)
	if _, ok := got["1.2.7.0"]; ok {
		t.Error("row of a vanished file survived")
	}
	if _, ok := got["1.2.8"]; !ok || len(got) != 3 {
		t.Errorf("rows after reconcile: %d, 1.2.8 present %v", len(got), ok)
	}
	assertNoLeftovers(t, s2, 3)
}

func TestDeleteStudyAndSeries(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, false)
	for i, series := range []string{"1.2.5.1", "1.2.5.1", "1.2.5.2"} {
		uid := fmt.Sprintf("1.2.6.%d", i)
		ingest(t, s, cmd(uid), basicDataSet(ctClass, uid, "1.2.4", series, "P1", 100))
	}
	ingest(t, s, cmd("1.2.6.9"), basicDataSet(ctClass, "1.2.6.9", "1.2.44", "1.2.55", "P2", 100))
	// The same study and series UIDs under another patient ID: another
	// study, which the deletes below must leave alone.
	ingest(t, s, cmd("1.2.6.8"), basicDataSet(ctClass, "1.2.6.8", "1.2.4", "1.2.5.1", "P3", 100))
	if n, err := s.DeleteSeries(ctx, index.SeriesKey{PatientID: "P1", StudyInstanceUID: "1.2.4", SeriesInstanceUID: "1.2.5.1"}); err != nil || n != 2 {
		t.Fatalf("delete series: %d %v", n, err)
	}
	assertNoLeftovers(t, s, 3)
	if n, err := s.DeleteStudy(ctx, index.StudyKey{PatientID: "P1", StudyInstanceUID: "1.2.4"}); err != nil || n != 1 {
		t.Fatalf("delete study: %d %v", n, err)
	}
	assertNoLeftovers(t, s, 2)
	rows := allRows(t, s)
	if _, ok := rows["1.2.6.9"]; len(rows) != 2 || !ok {
		t.Fatalf("rows after deletes: %+v", rows)
	}
	if r, ok := rows["1.2.6.8"]; !ok || r.PatientID != "P3" {
		t.Fatalf("P3's copy of study 1.2.4 did not survive: %+v", rows)
	} else if _, err := os.Stat(filepath.Join(s.Root(), filepath.FromSlash(r.Path))); err != nil {
		t.Errorf("P3's file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "P1")); !os.IsNotExist(err) {
		t.Errorf("empty patient folder left behind: %v", err)
	}
	if tot, _ := s.Index().Totals(ctx); tot.Studies != 2 || tot.Instances != 2 || tot.Patients != 2 {
		t.Errorf("totals: %+v", tot)
	}
}
