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
	if s, _ := db.Series(ctx, StudyKey{"P2", "Y"}); len(s) != 1 || s[0].InstanceCount != 3 || s[0].SizeBytes != 3006 {
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
	s, _ := db.Series(ctx, StudyKey{"P", "1"})
	if len(s) != 1 || s[0].Description != "AX" || s[0].SeriesNumber != 1 {
		t.Errorf("merged series %+v", s)
	}
	// The instance rows keep what each instance had.
	got, _, _ := db.Get(ctx, "1.1.2")
	if got.StudyDescription != "" || got.AccessionNumber != "NEW-ACC" {
		t.Errorf("instance row %+v", got)
	}
	ins, _ := db.Instances(ctx, SeriesKey{"P", "1", "1.1"})
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

// TestLevelAttributesMergeEachValue changes, then blanks, each value an
// instance brings to its patient, study and series rows, one at a time:
// every change must reach the row (the one-statement insert of a known
// series must not take it), every blank must leave the row as it was.
func TestLevelAttributesMergeEachValue(t *testing.T) {
	type field struct {
		name string
		set  func(*Instance, string)
		get  func(patient [3]string, study [12]string, series [4]string) string
	}
	fields := []field{
		{"PatientName", func(in *Instance, v string) { in.PatientName = v }, func(p [3]string, st [12]string, _ [4]string) string { return p[0] + "|" + st[1] }},
		{"PatientBirthDate", func(in *Instance, v string) { in.PatientBirthDate = v }, func(p [3]string, st [12]string, _ [4]string) string { return p[1] + "|" + st[2] }},
		{"PatientSex", func(in *Instance, v string) { in.PatientSex = v }, func(p [3]string, st [12]string, _ [4]string) string { return p[2] + "|" + st[3] }},
		{"StudyDate", func(in *Instance, v string) { in.StudyDate = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[4] }},
		{"StudyTime", func(in *Instance, v string) { in.StudyTime = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[5] }},
		{"StudyDescription", func(in *Instance, v string) { in.StudyDescription = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[6] }},
		{"AccessionNumber", func(in *Instance, v string) { in.AccessionNumber = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[7] }},
		{"StudyID", func(in *Instance, v string) { in.StudyID = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[8] }},
		{"ReferringPhysician", func(in *Instance, v string) { in.ReferringPhysician = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[9] }},
		{"CallingAE", func(in *Instance, v string) { in.CallingAE = v }, func(_ [3]string, st [12]string, _ [4]string) string { return st[10] }},
		{"SeriesNumber", func(in *Instance, v string) {
			in.SeriesNumber = 0
			if !blank(v) {
				in.SeriesNumber = len(v)
			}
		}, func(_ [3]string, _ [12]string, se [4]string) string { return se[0] }},
		{"SeriesDescription", func(in *Instance, v string) { in.SeriesDescription = v }, func(_ [3]string, _ [12]string, se [4]string) string { return se[1] }},
		{"Modality", func(in *Instance, v string) { in.Modality = v }, func(_ [3]string, _ [12]string, se [4]string) string { return se[2] }},
		{"BodyPart", func(in *Instance, v string) { in.BodyPart = v }, func(_ [3]string, _ [12]string, se [4]string) string { return se[3] }},
	}
	db, _ := openTest(t, Options{})
	read := func() (p [3]string, st [12]string, se [4]string) {
		t.Helper()
		if err := db.rdb.QueryRowContext(ctx, `SELECT patient_name, patient_birth_date, patient_sex FROM patients`).Scan(&p[0], &p[1], &p[2]); err != nil {
			t.Fatal(err)
		}
		if err := db.rdb.QueryRowContext(ctx, `SELECT `+studyAttrCols+`, search_text FROM studies`).Scan(
			&st[0], &st[1], &st[2], &st[3], &st[4], &st[5], &st[6], &st[7], &st[8], &st[9], &st[10], &st[11]); err != nil {
			t.Fatal(err)
		}
		if err := db.rdb.QueryRowContext(ctx, `SELECT series_number, series_description, modality, body_part FROM series`).Scan(
			&se[0], &se[1], &se[2], &se[3]); err != nil {
			t.Fatal(err)
		}
		return
	}
	n := 0
	put := func(f func(*Instance)) {
		t.Helper()
		n++
		in := inst("P", "1", "1.1", fmt.Sprintf("1.1.%d", n), n)
		if f != nil {
			f(&in)
		}
		mustPut(t, db, in)
	}
	put(nil)
	put(nil)
	if s := db.w.slowPuts.Load(); s != 1 {
		t.Errorf("%d of 2 Puts took the slow path, want only the first", s)
	}
	// like sets every value of in as the rows have it, so that only the one
	// set afterwards differs.
	like := func(in *Instance, p [3]string, st [12]string, se [4]string) {
		in.PatientName, in.PatientBirthDate, in.PatientSex = p[0], p[1], p[2]
		in.StudyDate, in.StudyTime, in.StudyDescription, in.AccessionNumber = st[4], st[5], st[6], st[7]
		in.StudyID, in.ReferringPhysician, in.CallingAE = st[8], st[9], st[10]
		fmt.Sscan(se[0], &in.SeriesNumber)
		in.SeriesDescription, in.Modality, in.BodyPart = se[1], se[2], se[3]
	}
	for i, f := range fields {
		p0, st0, se0 := read()
		before := f.get(p0, st0, se0)
		put(func(in *Instance) {
			like(in, p0, st0, se0)
			f.set(in, fmt.Sprintf("v%02d-%s", i, f.name))
		})
		p1, st1, se1 := read()
		after := f.get(p1, st1, se1)
		if after == before {
			t.Errorf("%s: a new value did not reach its row (%q)", f.name, after)
		}
		if a := studyAttrs(st1[:11]); st1[11] != a.searchText() {
			t.Errorf("%s: search_text %q, want %q", f.name, st1[11], a.searchText())
		}
		for _, b := range []string{"", " ", "\u3000"} {
			put(func(in *Instance) {
				like(in, p1, st1, se1)
				f.set(in, b)
			})
			p2, st2, se2 := read()
			if p2 != p1 || st2 != st1 || se2 != se1 {
				t.Errorf("%s: blank %q changed the rows:\n%v %v %v\n%v %v %v", f.name, b, p1, st1, se1, p2, st2, se2)
			}
		}
	}
	// The first Put and each change take the slow path; the blanks do not.
	if s := db.w.slowPuts.Load(); s != int64(1+len(fields)) {
		t.Errorf("%d slow Puts, want %d", s, 1+len(fields))
	}
	// Every value changed at once, back to the first instance's.
	put(nil)
	want := inst("P", "1", "1.1", "x", 0)
	p, st, se := read()
	if a := studyAttrsOf(&want); p != [3]string{want.PatientName, want.PatientBirthDate, want.PatientSex} ||
		[11]string(st[:11]) != a || st[11] != a.searchText() ||
		se != [4]string{fmt.Sprint(want.SeriesNumber), want.SeriesDescription, want.Modality, want.BodyPart} {
		t.Errorf("after changing every value: %v %v %v", p, st, se)
	}
	checkInvariants(t, db)
	var ok string
	if err := db.rdb.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q %v", ok, err)
	}
	if tot := mustTotals(t, db); tot.Instances != n || tot.Studies != 1 || tot.Series != 1 {
		t.Errorf("totals %+v after %d Puts", tot, n)
	}
}

// studyAttrSearched must name exactly the study values searchText folds
// into search_text, and studyAttrColNames the columns of studyAttrCols.
func TestStudyAttrSearched(t *testing.T) {
	if len(studyAttrColNames) != len(studyAttrs{}) || studyAttrColNames[0] != "patient_id" ||
		studyAttrColNames[len(studyAttrColNames)-1] != "source_ae" {
		t.Fatalf("studyAttrColNames %q", studyAttrColNames)
	}
	base := studyAttrsOf(&Instance{PatientID: "p", PatientName: "n", PatientBirthDate: "b", PatientSex: "s",
		StudyDate: "d", StudyTime: "t", StudyDescription: "desc", AccessionNumber: "acc", StudyID: "id",
		ReferringPhysician: "ref", CallingAE: "ae"})
	for i := range base {
		a := base
		a[i] = "zzz"
		if changed := a.searchText() != base.searchText(); changed != studyAttrSearched[i] {
			t.Errorf("%s: search_text changes %v, studyAttrSearched %v", studyAttrColNames[i], changed, studyAttrSearched[i])
		}
	}
}
