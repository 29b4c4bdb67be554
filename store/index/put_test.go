package index

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPutGetRoundTrip(t *testing.T) {
	db, _ := openTest(t, Options{})
	want := Instance{
		SOPInstanceUID: "1.2.3.4.5.6.7", SOPClassUID: "1.2.840.10008.5.1.4.1.1.4",
		StudyInstanceUID: "1.2.3.4", SeriesInstanceUID: "1.2.3.4.5",
		PatientID: "ID-42", PatientName: "Yamada^Tarou=山田^太郎=やまだ^たろう", PatientBirthDate: "19800214", PatientSex: "F",
		StudyDate: "20250102", StudyTime: "235959.123", StudyDescription: "MR Knie", AccessionNumber: "ACC-1",
		StudyID: "S7", ReferringPhysician: "Müller^Jürgen",
		SeriesNumber: 12, SeriesDescription: "T2 sag", Modality: "MR", BodyPart: "KNEE",
		InstanceNumber: 34, NumberOfFrames: 56, SpecificCharacterSet: `ISO 2022 IR 6\ISO 2022 IR 87`,
		TransferSyntaxUID: "1.2.840.10008.1.2.4.50",
		Path:              "ID-42/1.2.3.4/1.2.3.4.5/1.2.3.4.5.6.7.dcm", SizeBytes: 1 << 33,
		ContentHash: "ab01", CallingAE: "MRI_1", CalledAE: "INBOX", SourceIP: "2001:db8::7",
		ReceivedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600)),
	}
	out := mustPut(t, db, want)
	if out.Replaced || out.Previous != nil {
		t.Errorf("first Put: %+v", out)
	}
	got, ok, err := db.Get(ctx, want.SOPInstanceUID)
	if err != nil || !ok {
		t.Fatalf("Get: %v %v", ok, err)
	}
	if !got.ReceivedAt.Equal(want.ReceivedAt) || got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt %v, want %v in UTC", got.ReceivedAt, want.ReceivedAt)
	}
	got.ReceivedAt = want.ReceivedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if _, ok, err := db.Get(ctx, "no.such.uid"); ok || err != nil {
		t.Errorf("Get(unknown) = %v, %v", ok, err)
	}

	// The contract columns, read with plain SQL.
	var sop, class, study, series, pid, name, date, mod, ts, path, ae, received string
	var size int64
	err = db.rdb.QueryRowContext(ctx, `SELECT sop_instance_uid, sop_class_uid, study_instance_uid, series_instance_uid,
	  patient_id, patient_name, study_date, modality, transfer_syntax_uid, path, size_bytes, calling_ae, received_at
	  FROM instances`).Scan(&sop, &class, &study, &series, &pid, &name, &date, &mod, &ts, &path, &size, &ae, &received)
	if err != nil {
		t.Fatal(err)
	}
	if received != "2025-01-02T02:04:05.000000006Z" {
		t.Errorf("received_at column = %q", received)
	}
	if r, err := time.Parse(time.RFC3339, received); err != nil || !r.Equal(want.ReceivedAt) {
		t.Errorf("received_at %q is not RFC 3339 of the instant: %v %v", received, r, err)
	}
	if name != want.PatientName || path != want.Path || size != want.SizeBytes || ae != want.CallingAE || mod != "MR" {
		t.Errorf("contract columns: %q %q %d %q %q", name, path, size, ae, mod)
	}
	// Ingest passes a zero ReceivedAt when it has none: Put fills in now.
	before := time.Now().Add(-time.Second)
	in := inst("P", "9", "9.1", "9.1.1", 1)
	in.ReceivedAt = time.Time{}
	mustPut(t, db, in)
	got, _, _ = db.Get(ctx, "9.1.1")
	if got.ReceivedAt.Before(before) || got.ReceivedAt.After(time.Now()) {
		t.Errorf("zero ReceivedAt became %v", got.ReceivedAt)
	}
	checkInvariants(t, db)
}

func TestPutRejects(t *testing.T) {
	db, _ := openTest(t, Options{})
	in := inst("P", "1", "1.1", "", 1)
	if _, err := db.Put(ctx, in); !errors.Is(err, ErrNoSOPInstanceUID) {
		t.Errorf("no SOP UID: %v", err)
	}
	in = inst("P", "1", "1.1", "1.1.1", 1)
	in.Path = ""
	if _, err := db.Put(ctx, in); !errors.Is(err, ErrNoPath) {
		t.Errorf("no path: %v", err)
	}
	if tot := mustTotals(t, db); tot != (Totals{}) {
		t.Errorf("totals after rejects: %+v", tot)
	}
}

func TestPlaceholders(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := inst("", "", "", "1.1", 1)
	a.StudyDate = ""
	b := inst("PB", "", "", "1.2", 2) // another patient without study UID: another study
	c := inst(" ", "", "", "1.3", 3)  // blank is missing too; same placeholder study as a
	for _, in := range []Instance{a, b, c} {
		mustPut(t, db, in)
	}
	got, _, _ := db.Get(ctx, "1.1")
	if got.PatientID != NoPatientID || got.StudyInstanceUID != NoStudyUID || got.SeriesInstanceUID != NoSeriesUID || got.StudyDate != "" {
		t.Errorf("stored %q %q %q %q", got.PatientID, got.StudyInstanceUID, got.SeriesInstanceUID, got.StudyDate)
	}
	rows, total, err := db.Studies(ctx, StudyQuery{Sort: SortPatientID})
	if err != nil || total != 2 {
		t.Fatalf("Studies: %d %v", total, err)
	}
	if rows[0].PatientID != NoPatientID || rows[0].StudyInstanceUID != NoStudyUID || rows[0].InstanceCount != 2 || rows[0].StudyDate != "20250301" {
		t.Errorf("placeholder study %+v", rows[0])
	}
	if rows[1].PatientID != "PB" || rows[1].StudyInstanceUID != NoStudyUID || rows[1].InstanceCount != 1 {
		t.Errorf("second placeholder study %+v", rows[1])
	}
	// The filter finds the placeholder text as well.
	if _, n, _ := db.Studies(ctx, StudyQuery{Filter: "no patient"}); n != 1 {
		t.Errorf("filter on the placeholder found %d", n)
	}
	if tot := mustTotals(t, db); tot != (Totals{Patients: 2, Studies: 2, Series: 2, Instances: 3, Bytes: 3006}) {
		t.Errorf("totals %+v", tot)
	}
	checkInvariants(t, db)
}

func TestReplace(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := inst("P", "1", "1.1", "1.1.1", 1)
	mustPut(t, db, a)
	mustPut(t, db, inst("P", "1", "1.1", "1.1.2", 2))
	b := a
	b.Path, b.SizeBytes, b.TransferSyntaxUID = "elsewhere/a.dcm", 50, "1.2.840.10008.1.2"
	b.ReceivedAt = a.ReceivedAt.Add(time.Hour)
	out := mustPut(t, db, b)
	if !out.Replaced || out.Previous == nil || out.Previous.Path != a.Path || out.Previous.SizeBytes != a.SizeBytes {
		t.Fatalf("replace outcome %+v", out)
	}
	if tot := mustTotals(t, db); tot != (Totals{Patients: 1, Studies: 1, Series: 1, Instances: 2, Bytes: 50 + 1002}) {
		t.Errorf("totals %+v", tot)
	}
	got, _, _ := db.Get(ctx, a.SOPInstanceUID)
	if got.Path != b.Path || got.SizeBytes != 50 {
		t.Errorf("after replace %+v", got)
	}
	st, _, _ := db.Studies(ctx, StudyQuery{})
	if !st[0].LastReceived.Equal(b.ReceivedAt) || !st[0].FirstReceived.Equal(baseTime.Add(2*time.Second)) {
		t.Errorf("received range %v..%v", st[0].FirstReceived, st[0].LastReceived)
	}
	checkInvariants(t, db)
}

func TestReplaceMovesInstance(t *testing.T) {
	db, _ := openTest(t, Options{})
	mustPut(t, db, inst("P1", "X", "X.1", "a1", 1))
	mustPut(t, db, inst("P1", "X", "X.1", "a2", 2))
	mr := inst("P1", "X", "X.2", "b1", 3)
	mr.Modality = "MR"
	mustPut(t, db, mr)
	want := func(step string, tot Totals, modalities string) {
		t.Helper()
		if got := mustTotals(t, db); got != tot {
			t.Errorf("%s: totals %+v, want %+v", step, got, tot)
		}
		rows, _, _ := db.Studies(ctx, StudyQuery{Filter: "accx"})
		got := ""
		if len(rows) == 1 {
			got = rows[0].Modalities
		}
		if got != modalities {
			t.Errorf("%s: study X modalities %q, want %q", step, got, modalities)
		}
		checkInvariants(t, db)
	}
	want("start", Totals{1, 1, 2, 3, 3006}, `CT\MR`)

	// a1 moves to another study of another patient.
	mustPut(t, db, inst("P2", "Y", "Y.1", "a1", 1))
	want("a1 to Y", Totals{2, 2, 3, 3, 3006}, `CT\MR`)
	// a2 moves to series X.2: X.1 is empty and goes, and with it CT.
	a2 := inst("P1", "X", "X.2", "a2", 2)
	a2.Modality = ""
	mustPut(t, db, a2)
	want("a2 to X.2", Totals{2, 2, 2, 3, 3006}, "MR")
	// Everything of X moves to Y: study X and patient P1 go.
	mustPut(t, db, inst("P2", "Y", "Y.1", "a2", 2))
	mustPut(t, db, inst("P2", "Y", "Y.1", "b1", 3))
	want("all to Y", Totals{1, 1, 1, 3, 3006}, "")
	if s, _ := db.Series(ctx, "Y"); len(s) != 1 || s[0].InstanceCount != 3 || s[0].SizeBytes != 3006 {
		t.Errorf("series of Y %+v", s)
	}
}

func TestLevelAttributesMerge(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := inst("P", "1", "1.1", "1.1.1", 1)
	a.AccessionNumber = ""
	mustPut(t, db, a)
	b := inst("P", "1", "1.1", "1.1.2", 2)
	b.StudyDescription, b.PatientName, b.AccessionNumber = "", "", "NEW-ACC"
	b.SeriesDescription, b.SeriesNumber = "", 0
	mustPut(t, db, b)
	rows, _, _ := db.Studies(ctx, StudyQuery{Filter: "new-acc"})
	if len(rows) != 1 || rows[0].Description != "CT HEAD" || rows[0].PatientName != "Doe^John" || rows[0].AccessionNumber != "NEW-ACC" {
		t.Fatalf("merged study %+v", rows)
	}
	s, _ := db.Series(ctx, "1")
	if len(s) != 1 || s[0].Description != "AX" || s[0].SeriesNumber != 1 {
		t.Errorf("merged series %+v", s)
	}
	// The instance rows keep what each instance had.
	got, _, _ := db.Get(ctx, "1.1.2")
	if got.StudyDescription != "" || got.AccessionNumber != "NEW-ACC" {
		t.Errorf("instance row %+v", got)
	}
	ins, _ := db.Instances(ctx, "1.1")
	if len(ins) != 2 || ins[0].SOPInstanceUID != "1.1.1" || ins[1].SOPInstanceUID != "1.1.2" {
		t.Errorf("Instances %+v", ins)
	}
	var n int
	db.ForEachInstance(ctx, func(in Instance) error {
		n++
		if !strings.HasPrefix(in.SOPInstanceUID, "1.1.") {
			t.Errorf("ForEachInstance %q", in.SOPInstanceUID)
		}
		return nil
	})
	if n != 2 {
		t.Errorf("ForEachInstance saw %d", n)
	}
	stop := errors.New("stop")
	if err := db.ForEachInstance(ctx, func(Instance) error { return stop }); err != stop {
		t.Errorf("ForEachInstance error %v", err)
	}
}

// PutAsync queues a Put and Wait returns what Put would: the commit has
// happened by then, and errors (invalid instance, ended context, closed
// index) come out of Wait.
func TestPutAsync(t *testing.T) {
	db, _ := openTest(t, Options{})
	in := inst("P", "S", "S.1", "1.2.3.1", 1)
	p := db.PutAsync(ctx, in)
	out, err := p.Wait()
	if err != nil || out.Replaced {
		t.Fatalf("first PutAsync: %+v, %v", out, err)
	}
	if _, ok, err := db.Get(ctx, in.SOPInstanceUID); !ok || err != nil {
		t.Fatalf("after Wait the row is not readable: %v, %v", ok, err)
	}
	in.SizeBytes++
	if out, err := db.PutAsync(ctx, in).Wait(); err != nil || !out.Replaced || out.Previous == nil || out.Previous.SizeBytes != in.SizeBytes-1 {
		t.Errorf("second PutAsync: %+v, %v", out, err)
	}

	noSOP := inst("P", "S", "S.1", "", 2)
	if _, err := db.PutAsync(ctx, noSOP).Wait(); !errors.Is(err, ErrNoSOPInstanceUID) {
		t.Errorf("no SOP Instance UID: err %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.PutAsync(canceled, inst("P", "S", "S.1", "1.2.3.3", 3)).Wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: err %v", err)
	}
	if _, ok, _ := db.Get(ctx, "1.2.3.3"); ok {
		t.Error("a Put whose context had ended before it was queued was stored")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutAsync(ctx, inst("P", "S", "S.1", "1.2.3.4", 4)).Wait(); !errors.Is(err, ErrClosed) {
		t.Errorf("closed index: err %v", err)
	}
}

// Many PutAsync calls queued before any Wait share transactions and all
// commit.
func TestPutAsyncGroupCommit(t *testing.T) {
	db, _ := openTest(t, Options{})
	var ps []*PendingPut
	for i := range 50 {
		ps = append(ps, db.PutAsync(ctx, inst("P", "S", "S.1", fmt.Sprintf("1.2.3.%d", i), i)))
	}
	for i, p := range ps {
		if _, err := p.Wait(); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	if tot, err := db.Totals(ctx); err != nil || tot.Instances != 50 {
		t.Errorf("totals %+v, %v", tot, err)
	}
	if txs := db.w.txs.Load(); txs >= 50 {
		t.Errorf("%d transactions for 50 queued Puts: no group commit", txs)
	}
}
