package index

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

var ctx = context.Background()

func openTest(t testing.TB, opt Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

var baseTime = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

// inst makes a plausible instance; n orders ReceivedAt.
func inst(patient, study, series, sop string, n int) Instance {
	return Instance{
		SOPInstanceUID: sop, SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
		StudyInstanceUID: study, SeriesInstanceUID: series,
		PatientID: patient, PatientName: "Doe^John", PatientBirthDate: "19700101", PatientSex: "M",
		StudyDate: "20250301", StudyTime: "101010", StudyDescription: "CT HEAD", AccessionNumber: "ACC" + study,
		StudyID: "1", ReferringPhysician: "Ref^Doc",
		SeriesNumber: 1, SeriesDescription: "AX", Modality: "CT", BodyPart: "HEAD",
		InstanceNumber: n, NumberOfFrames: 1, SpecificCharacterSet: "ISO_IR 100",
		TransferSyntaxUID: "1.2.840.10008.1.2.1",
		Path:              fmt.Sprintf("%s/%s/%s/%s.dcm", patient, study, series, sop),
		SizeBytes:         int64(1000 + n), ContentHash: fmt.Sprintf("%064x", n),
		CallingAE: "MODALITY", CalledAE: "INBOX", SourceIP: "192.0.2.7",
		ReceivedAt: baseTime.Add(time.Duration(n) * time.Second),
	}
}

func mustPut(t testing.TB, db *DB, in Instance) Outcome {
	t.Helper()
	out, err := db.Put(ctx, in)
	if err != nil {
		t.Fatalf("Put %s: %v", in.SOPInstanceUID, err)
	}
	return out
}

// checkInvariants recomputes every denormalised value from the instances
// table and compares it with what the triggers maintained.
func checkInvariants(t testing.TB, db *DB) {
	t.Helper()
	checks := []struct{ name, q string }{
		{"series aggregates", `SELECT s.id FROM series s LEFT JOIN (
			SELECT series_id, count(*) c, sum(size_bytes) b, min(received_at) f, max(received_at) l
			FROM instances GROUP BY series_id) a ON a.series_id = s.id
		  WHERE a.c IS NULL OR s.instance_count <> a.c OR s.size_bytes <> a.b OR s.first_received <> a.f OR s.last_received <> a.l`},
		{"study aggregates", `SELECT st.id FROM studies st LEFT JOIN (
			SELECT study_ref, count(*) n, sum(instance_count) c, sum(size_bytes) b, min(first_received) f, max(last_received) l
			FROM series GROUP BY study_ref) a ON a.study_ref = st.id
		  WHERE a.n IS NULL OR st.series_count <> a.n OR st.instance_count <> a.c OR st.size_bytes <> a.b
		     OR st.first_received <> a.f OR st.last_received <> a.l`},
		{"study modalities", `SELECT st.id FROM studies st WHERE st.modalities <> coalesce((SELECT group_concat(m, '\') FROM
			(SELECT DISTINCT modality m FROM series WHERE study_ref = st.id AND modality <> '' ORDER BY modality)), '')`},
		{"patient aggregates", `SELECT p.id FROM patients p LEFT JOIN (
			SELECT patient_ref, count(*) n, sum(instance_count) c, sum(size_bytes) b FROM studies GROUP BY patient_ref) a
			ON a.patient_ref = p.id
		  WHERE a.n IS NULL OR p.study_count <> a.n OR p.instance_count <> a.c OR p.size_bytes <> a.b`},
		{"instance chain", `SELECT i.id FROM instances i JOIN series s ON s.id = i.series_id JOIN studies st ON st.id = s.study_ref
			JOIN patients p ON p.id = st.patient_ref
		  WHERE i.series_instance_uid <> s.series_instance_uid OR i.study_instance_uid <> st.study_instance_uid
		     OR i.patient_id <> p.patient_id OR st.patient_id <> p.patient_id`},
		{"orphans", `SELECT id FROM instances WHERE series_id NOT IN (SELECT id FROM series)`},
	}
	for _, c := range checks {
		rows, err := db.rdb.QueryContext(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var bad []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			bad = append(bad, id)
		}
		rows.Close()
		if len(bad) > 0 {
			t.Errorf("%s wrong for ids %v", c.name, bad)
		}
	}
}

func mustTotals(t testing.TB, db *DB) Totals {
	t.Helper()
	tot, err := db.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tot
}
