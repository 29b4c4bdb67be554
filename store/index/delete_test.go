package index

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"
)

// fillTree puts 2 patients: P1 with studies A (series A.1 ×3, A.2 ×2) and
// B (B.1 ×1); P2 with study C (C.1 ×2). Sizes are 1000+n.
func fillTree(t *testing.T, db *DB) {
	n := 0
	for _, s := range []struct {
		patient, study, series string
		count                  int
	}{{"P1", "A", "A.1", 3}, {"P1", "A", "A.2", 2}, {"P1", "B", "B.1", 1}, {"P2", "C", "C.1", 2}} {
		for i := range s.count {
			n++
			mustPut(t, db, inst(s.patient, s.study, s.series, fmt.Sprintf("%s.%d", s.series, i), n))
		}
	}
	if got := mustTotals(t, db); got != (Totals{2, 3, 4, 8, 8036}) {
		t.Fatalf("tree totals %+v", got)
	}
}

func TestDelete(t *testing.T) {
	db, _ := openTest(t, Options{})
	fillTree(t, db)
	if err := db.Delete(ctx, "A.1.0", "no.such", "A.2.0", "A.2.1"); err != nil {
		t.Fatal(err)
	}
	// A.2 is gone; A.1 keeps 2 instances (sizes 1002, 1003).
	if got := mustTotals(t, db); got != (Totals{2, 3, 3, 5, 8036 - 1001 - 1004 - 1005}) {
		t.Errorf("totals %+v", got)
	}
	if s, _ := db.Series(ctx, StudyKey{"P1", "A"}); len(s) != 1 || s[0].SeriesInstanceUID != "A.1" || s[0].InstanceCount != 2 || s[0].SizeBytes != 2005 {
		t.Errorf("series of A %+v", s)
	}
	checkInvariants(t, db)
	if err := db.Delete(ctx, "C.1.0", "C.1.1"); err != nil {
		t.Fatal(err)
	}
	if got := mustTotals(t, db); got != (Totals{1, 2, 2, 3, 3011}) {
		t.Errorf("totals after emptying P2 %+v", got)
	}
	checkInvariants(t, db)
	if err := db.Delete(ctx); err != nil {
		t.Errorf("Delete(): %v", err)
	}
}

func TestDeleteSeriesAndStudy(t *testing.T) {
	db, _ := openTest(t, Options{})
	fillTree(t, db)
	paths, err := db.DeleteSeries(ctx, SeriesKey{"P1", "A", "A.2"})
	if want := []string{"P1/A/A.2/A.2.0.dcm", "P1/A/A.2/A.2.1.dcm"}; err != nil || !reflect.DeepEqual(paths, want) {
		t.Errorf("DeleteSeries = %q, %v", paths, err)
	}
	if got := mustTotals(t, db); got != (Totals{2, 3, 3, 6, 8036 - 1004 - 1005}) {
		t.Errorf("totals %+v", got)
	}
	checkInvariants(t, db)
	// Removing the only series of B removes study B too.
	if paths, err := db.DeleteSeries(ctx, SeriesKey{"P1", "B", "B.1"}); err != nil || len(paths) != 1 {
		t.Errorf("DeleteSeries(B.1) = %q, %v", paths, err)
	}
	if got := mustTotals(t, db); got != (Totals{2, 2, 2, 5, 8036 - 1004 - 1005 - 1006}) {
		t.Errorf("totals %+v", got)
	}
	paths, err = db.DeleteStudy(ctx, StudyKey{"P1", "A"})
	if err != nil || len(paths) != 3 {
		t.Errorf("DeleteStudy(A) = %q, %v", paths, err)
	}
	if got := mustTotals(t, db); got != (Totals{1, 1, 1, 2, 2015}) {
		t.Errorf("totals after study A %+v", got)
	}
	checkInvariants(t, db)
	if paths, err := db.DeleteStudy(ctx, StudyKey{"P1", "unknown"}); err != nil || paths != nil {
		t.Errorf("DeleteStudy(unknown) = %q, %v", paths, err)
	}
	if _, err := db.DeleteStudy(ctx, StudyKey{"P2", "C"}); err != nil {
		t.Fatal(err)
	}
	if got := mustTotals(t, db); got != (Totals{}) {
		t.Errorf("empty index totals %+v", got)
	}
	checkInvariants(t, db)
}

// A Study Instance UID that arrived under two patient IDs is two studies:
// each is listed, and deleted, on its own; so are the placeholder studies of
// instances without a Study UID.
func TestStudyKeysSeparatePatients(t *testing.T) {
	db, _ := openTest(t, Options{})
	for i, p := range []string{"P1", "P1", "P2"} {
		mustPut(t, db, inst(p, "S", "S.1", fmt.Sprintf("S.1.%d", i), i))
		mustPut(t, db, inst(p, "", "X.1", fmt.Sprintf("X.1.%d", i), 10+i))
	}
	for _, c := range []struct {
		key  StudyKey
		want int
	}{{StudyKey{"P1", "S"}, 2}, {StudyKey{"P2", "S"}, 1}, {StudyKey{"P1", NoStudyUID}, 2}, {StudyKey{"P2", NoStudyUID}, 1}} {
		se, err := db.Series(ctx, c.key)
		if err != nil || len(se) != 1 || se[0].InstanceCount != c.want || se[0].Key() != (SeriesKey{c.key.PatientID, c.key.StudyInstanceUID, se[0].SeriesInstanceUID}) {
			t.Fatalf("Series(%v) = %+v, %v", c.key, se, err)
		}
		ins, err := db.Instances(ctx, se[0].Key())
		if err != nil || len(ins) != c.want {
			t.Fatalf("Instances(%v) = %d rows, %v", se[0].Key(), len(ins), err)
		}
		for _, in := range ins {
			if in.PatientID != c.key.PatientID {
				t.Errorf("Instances(%v) lists %s of patient %s", se[0].Key(), in.SOPInstanceUID, in.PatientID)
			}
		}
	}
	paths, err := db.DeleteStudy(ctx, StudyKey{"P2", "S"})
	if want := []string{"P2/S/S.1/S.1.2.dcm"}; err != nil || !reflect.DeepEqual(paths, want) {
		t.Errorf("DeleteStudy(P2, S) = %q, %v", paths, err)
	}
	paths, err = db.DeleteSeries(ctx, SeriesKey{"P1", NoStudyUID, "X.1"})
	if err != nil || len(paths) != 2 {
		t.Errorf("DeleteSeries(P1, no study, X.1) = %q, %v", paths, err)
	}
	// P1's study S and P2's UID-less study are still there.
	if got := mustTotals(t, db); got != (Totals{2, 2, 2, 3, 1000 + 1001 + 1012}) {
		t.Errorf("totals %+v", got)
	}
	if se, err := db.Series(ctx, StudyKey{"P1", "S"}); err != nil || len(se) != 1 || se[0].InstanceCount != 2 {
		t.Errorf("P1's study S after deleting P2's: %+v, %v", se, err)
	}
	if se, err := db.Series(ctx, StudyKey{"P2", NoStudyUID}); err != nil || len(se) != 1 || se[0].InstanceCount != 1 {
		t.Errorf("P2's UID-less study after deleting P1's: %+v, %v", se, err)
	}
	checkInvariants(t, db)
}

// The triggers keep the levels right for any writer, e.g. the sqlite3 shell.
func TestOtherWriterKeepsCountsRight(t *testing.T) {
	path := t.TempDir() + "/index.db"
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillTree(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM instances WHERE sop_instance_uid = 'A.1.2'`,
		`UPDATE instances SET size_bytes = 7, received_at = '2030-01-01T00:00:00Z' WHERE sop_instance_uid = 'A.1.0'`,
		`UPDATE instances SET series_id = (SELECT id FROM series WHERE series_instance_uid = 'C.1') WHERE sop_instance_uid = 'B.1.0'`,
		`DELETE FROM studies WHERE study_instance_uid = 'C'`, // cascades; P2 goes
		`DELETE FROM series WHERE series_instance_uid = 'A.2'`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := raw.ExecContext(ctx, `UPDATE series SET study_ref = study_ref + 1`); err == nil {
		t.Error("moving a series to another study was allowed")
	}
	raw.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := mustTotals(t, db); got != (Totals{1, 1, 1, 2, 7 + 1002}) {
		t.Errorf("totals %+v", got)
	}
	checkInvariants(t, db)
}
