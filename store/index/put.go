package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Put indexes in, replacing the row with the same SOP Instance UID if there
// is one, and returns once the transaction holding it has committed
// (group-committed with concurrent calls; see Options.Synchronous for what
// "committed" guarantees). Missing Patient ID, Study or Series Instance UID
// are stored as NoPatientID, NoStudyUID and NoSeriesUID; a zero ReceivedAt
// becomes the current time. The patient, study and series rows are created or
// updated in the same transaction: a non-empty value of the newest instance
// wins over the stored one, an empty one never erases it.
//
// If ctx ends before the answer, Put returns ctx.Err(), but a request the
// writer had already taken still commits.
func (db *DB) Put(ctx context.Context, in Instance) (Outcome, error) {
	return db.PutAsync(ctx, in).Wait()
}

// PendingPut is a Put that has been queued but not yet answered (PutAsync).
type PendingPut struct {
	db  *DB
	ctx context.Context
	r   *request
	err error // the request could not be queued
}

// PutAsync queues in for the writer like Put and returns without waiting
// for the commit (only, when the writer's queue is full, for room in it), so
// that the caller can do other work meanwhile, such as fsyncing the file the
// row describes. Wait must be called exactly once and returns what Put would
// have returned; ctx governs both calls as it governs Put.
func (db *DB) PutAsync(ctx context.Context, in Instance) *PendingPut {
	p := &PendingPut{db: db, ctx: ctx}
	if p.err = prepareInstance(&in, time.Now()); p.err != nil {
		return p
	}
	p.r = &request{kind: kindPut, in: in}
	p.err = db.enqueue(ctx, p.r)
	return p
}

// Wait waits until the transaction holding the queued Put has committed (or
// failed) and returns its outcome, or ctx.Err() when the ctx given to
// PutAsync ends first.
func (p *PendingPut) Wait() (Outcome, error) {
	if p.err != nil {
		return Outcome{}, p.err
	}
	res, err := p.db.wait(p.ctx, p.r)
	return res.out, err
}

// put runs inside the writer's transaction. Unless quiet, it also writes the
// instance's outbox event when Options.Outbox is set, and holds it until the
// store releases it (see outbox.go).
func (w *writer) put(in *Instance, quiet bool) (Outcome, error) {
	out, err := w.write(in)
	if err != nil {
		return Outcome{}, err
	}
	if w.ob.build != nil && !quiet {
		m, err := w.ob.build(in)
		if err != nil {
			return Outcome{}, fmt.Errorf("index: event of %s: %w", in.SOPInstanceUID, err)
		}
		m.SOPInstanceUID = in.SOPInstanceUID
		id, err := w.insertOutbox(&m)
		if err != nil {
			return Outcome{}, err
		}
		// Held before the commit, so that no reader sees it unheld.
		w.ob.hold(id)
		out.OutboxID = id
	}
	return out, nil
}

// write upserts the instance's row and its patient, study and series.
//
// The common case, a new instance of a series the index holds that changes
// nothing of its patient, study or series rows, is one statement
// (insertKnown): in this driver a statement costs far more than the SQLite
// work it does (binding, column metadata, cgo-free mutexes), and this runs
// for every instance. Anything else (a new series, study or patient, a
// changed value, a replaced instance) inserts nothing there and takes the
// general path: one look-up of every level, then the inserts and updates
// it calls for.
func (w *writer) write(in *Instance) (Outcome, error) {
	r, err := w.st.insertKnown.Exec(append(instanceArgs(in),
		merged(in.PatientName), merged(in.PatientBirthDate), merged(in.PatientSex),
		merged(in.StudyDate), merged(in.StudyTime), merged(in.StudyDescription), merged(in.AccessionNumber),
		merged(in.StudyID), merged(in.ReferringPhysician), merged(in.CallingAE),
		seriesNumber(in), merged(in.SeriesDescription), merged(in.Modality), merged(in.BodyPart))...)
	if err != nil {
		return Outcome{}, fmt.Errorf("index: write %s: %w", in.SOPInstanceUID, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return Outcome{}, fmt.Errorf("index: write %s: %w", in.SOPInstanceUID, err)
	}
	if n == 1 {
		return Outcome{}, nil
	}
	w.slowPuts.Add(1)
	var out Outcome
	var known parents
	if err := known.lookUp(w.st.lookUp, in); err != nil {
		return Outcome{}, fmt.Errorf("index: look up %s: %w", in.SOPInstanceUID, err)
	}
	if known.instance.Valid {
		prev, err := scanInstance(w.st.instanceByID.QueryRow(known.instance.Int64))
		if err != nil {
			return Outcome{}, fmt.Errorf("index: look up %s: %w", in.SOPInstanceUID, err)
		}
		out = Outcome{Replaced: true, Previous: &prev}
	}
	patientRef, err := w.upsertPatient(in, &known)
	if err != nil {
		return Outcome{}, err
	}
	studyRef, err := w.upsertStudy(in, patientRef, &known)
	if err != nil {
		return Outcome{}, err
	}
	seriesRef, err := w.upsertSeries(in, studyRef, &known)
	if err != nil {
		return Outcome{}, err
	}
	args := append(instanceArgs(in), seriesRef)
	if out.Replaced {
		// An UPDATE (not delete + insert) keeps the row id; the instances_au
		// trigger moves the counts when the series changed and removes the
		// old series, study and patient if they are left empty.
		_, err = w.st.updateInstance.Exec(append(args, known.instance.Int64)...)
	} else {
		_, err = w.st.insertInstance.Exec(args...)
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("index: write %s: %w", in.SOPInstanceUID, err)
	}
	return out, nil
}

// merged is how insertKnown receives a value the instance brings to its
// patient, study or series row: NULL when it is blank (the row would keep
// its value, see pick), else the value.
func merged(s string) any {
	if blank(s) {
		return nil
	}
	return s
}

// seriesNumber is merged for the series number (0 is "none").
func seriesNumber(in *Instance) any {
	if in.SeriesNumber == 0 {
		return nil
	}
	return in.SeriesNumber
}

// unchanged is the SQL "no column would change" for columns cols of table
// alias t and their merged values ?first, ?first+1, ...
func unchanged(t string, first int, cols ...string) string {
	var b strings.Builder
	for i, c := range cols {
		fmt.Fprintf(&b, "\n  AND %[1]s.%[2]s IS coalesce(?%[3]d, %[1]s.%[2]s)", t, c, first+i)
	}
	return b.String()
}

// insertKnownSQL inserts the instance (?1-?29 as instanceArgs, then the
// merged values: ?30-?32 of the patient, ?33-?39 of the study, ?40-?43 of
// the series) when its patient, study and series rows exist and none of
// their values would change (the same test as upsertPatient, upsertStudy
// and upsertSeries make, in SQL), and no row has its SOP Instance UID;
// otherwise it inserts nothing.
var insertKnownSQL = `INSERT INTO instances (` + instanceCols + `, series_id)
SELECT ` + placeholders(instanceColCount) + `, se.id
FROM patients p
JOIN studies st ON st.patient_ref = p.id AND st.study_instance_uid = ?3
JOIN series se ON se.study_ref = st.id AND se.series_instance_uid = ?4
WHERE p.patient_id = ?5` +
	unchanged("p", 30, "patient_name", "patient_birth_date", "patient_sex") + `
  AND st.patient_id IS ?5` + unchanged("st", 30, "patient_name", "patient_birth_date", "patient_sex") +
	unchanged("st", 33, "study_date", "study_time", "study_description", "accession_number", "study_id",
		"referring_physician", "source_ae") +
	unchanged("se", 40, "series_number", "series_description", "modality", "body_part") + `
  AND NOT EXISTS (SELECT 1 FROM instances WHERE sop_instance_uid = ?1)`

// parents is what the index already holds for an instance about to be put:
// the id of its row and the rows of its patient, study and series, each
// invalid when there is none (and so is every level below a missing one).
// One query (lookUpSQL) reads them all.
type parents struct {
	instance, patient, study, series sql.NullInt64
	patientName, birth, sex          string
	studyAttrs                       studyAttrs
	seriesNumber                     int
	seriesDesc, modality, bodyPart   string
}

// lookUpSQL takes the SOP Instance UID, Patient ID, Study and Series
// Instance UIDs. The LEFT JOINs yield NULL ids (and, through coalesce,
// empty values) for the levels the index lacks.
const lookUpSQL = `SELECT (SELECT id FROM instances WHERE sop_instance_uid = ?1),
  p.id, coalesce(p.patient_name, ''), coalesce(p.patient_birth_date, ''), coalesce(p.patient_sex, ''),
  st.id, coalesce(st.patient_id, ''), coalesce(st.patient_name, ''), coalesce(st.patient_birth_date, ''),
  coalesce(st.patient_sex, ''), coalesce(st.study_date, ''), coalesce(st.study_time, ''),
  coalesce(st.study_description, ''), coalesce(st.accession_number, ''), coalesce(st.study_id, ''),
  coalesce(st.referring_physician, ''), coalesce(st.source_ae, ''),
  se.id, coalesce(se.series_number, 0), coalesce(se.series_description, ''), coalesce(se.modality, ''),
  coalesce(se.body_part, '')
FROM (SELECT 1)
LEFT JOIN patients p ON p.patient_id = ?2
LEFT JOIN studies st ON st.patient_ref = p.id AND st.study_instance_uid = ?3
LEFT JOIN series se ON se.study_ref = st.id AND se.series_instance_uid = ?4`

func (k *parents) lookUp(st *sql.Stmt, in *Instance) error {
	a := &k.studyAttrs
	return st.QueryRow(in.SOPInstanceUID, in.PatientID, in.StudyInstanceUID, in.SeriesInstanceUID).Scan(
		&k.instance, &k.patient, &k.patientName, &k.birth, &k.sex,
		&k.study, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8], &a[9], &a[10],
		&k.series, &k.seriesNumber, &k.seriesDesc, &k.modality, &k.bodyPart)
}

// pick returns the new value unless it is blank.
func pick(old, new string) string {
	if blank(new) {
		return old
	}
	return new
}

func (w *writer) upsertPatient(in *Instance, k *parents) (int64, error) {
	if !k.patient.Valid {
		r, err := w.st.insertPatient.Exec(in.PatientID, in.PatientName, in.PatientBirthDate, in.PatientSex)
		if err != nil {
			return 0, fmt.Errorf("index: insert patient: %w", err)
		}
		return r.LastInsertId()
	}
	id, name, birth, sex := k.patient.Int64, k.patientName, k.birth, k.sex
	n, b, s := pick(name, in.PatientName), pick(birth, in.PatientBirthDate), pick(sex, in.PatientSex)
	if n != name || b != birth || s != sex {
		if _, err := w.st.updatePatient.Exec(n, b, s, id); err != nil {
			return 0, fmt.Errorf("index: update patient: %w", err)
		}
	}
	return id, nil
}

// studyAttrs are the study row's descriptive columns (studyAttrCols order).
type studyAttrs [11]string

func (a *studyAttrs) args() []any {
	v := make([]any, len(a))
	for i := range a {
		v[i] = a[i]
	}
	return v
}

func studyAttrsOf(in *Instance) studyAttrs {
	return studyAttrs{in.PatientID, in.PatientName, in.PatientBirthDate, in.PatientSex,
		in.StudyDate, in.StudyTime, in.StudyDescription, in.AccessionNumber, in.StudyID,
		in.ReferringPhysician, in.CallingAE}
}

// searchText is the studies.search_text value for a (see fold.go).
func (a *studyAttrs) searchText() string {
	// patient ID, name, accession, description, study ID, referring physician
	// (keep studyAttrSearched in step)
	return searchText(a[0], a[1], a[7], a[6], a[8], a[9])
}

func (w *writer) upsertStudy(in *Instance, patientRef int64, k *parents) (int64, error) {
	neu := studyAttrsOf(in)
	if !k.study.Valid {
		args := append([]any{patientRef, in.StudyInstanceUID}, neu.args()...)
		r, err := w.st.insertStudy.Exec(append(args, neu.searchText())...)
		if err != nil {
			return 0, fmt.Errorf("index: insert study: %w", err)
		}
		return r.LastInsertId()
	}
	id, old := k.study.Int64, k.studyAttrs
	merged := old
	for i := range merged {
		merged[i] = pick(old[i], neu[i])
	}
	if merged == old {
		return id, nil
	}
	// Only the columns that change are SET: SQLite rewrites the index
	// entries of every column an UPDATE names, changed or not, and most
	// study columns are indexed for the study list (one page each).
	var cols []string
	var args []any
	searchable := false
	for i, col := range studyAttrColNames {
		if merged[i] != old[i] {
			cols = append(cols, col)
			args = append(args, merged[i])
			searchable = searchable || studyAttrSearched[i]
		}
	}
	if searchable {
		cols = append(cols, "search_text")
		args = append(args, merged.searchText())
	}
	st, err := w.st.updateStudy(w.conn, cols)
	if err != nil {
		return 0, err
	}
	if _, err := st.Exec(append(args, id)...); err != nil {
		return 0, fmt.Errorf("index: update study: %w", err)
	}
	return id, nil
}

// studyAttrColNames are the names in studyAttrCols; studyAttrSearched marks
// those that searchText folds into search_text.
var (
	studyAttrColNames = strings.Split(strings.Join(strings.Fields(studyAttrCols), ""), ",")
	studyAttrSearched = [len(studyAttrs{})]bool{0: true, 1: true, 6: true, 7: true, 8: true, 9: true}
)

func (w *writer) upsertSeries(in *Instance, studyRef int64, k *parents) (int64, error) {
	if !k.series.Valid {
		r, err := w.st.insertSeries.Exec(studyRef, in.SeriesInstanceUID, in.SeriesNumber, in.SeriesDescription, in.Modality, in.BodyPart)
		if err != nil {
			return 0, fmt.Errorf("index: insert series: %w", err)
		}
		return r.LastInsertId()
	}
	id, num, desc, mod, body := k.series.Int64, k.seriesNumber, k.seriesDesc, k.modality, k.bodyPart
	n := num
	if in.SeriesNumber != 0 {
		n = in.SeriesNumber
	}
	d, m, b := pick(desc, in.SeriesDescription), pick(mod, in.Modality), pick(body, in.BodyPart)
	if n != num || d != desc || m != mod || b != body {
		if _, err := w.st.updateSeries.Exec(n, d, m, b, id); err != nil {
			return 0, fmt.Errorf("index: update series: %w", err)
		}
	}
	return id, nil
}

// Get returns the row of one instance; ok is false when there is none.
func (db *DB) Get(ctx context.Context, sopInstanceUID string) (in Instance, ok bool, err error) {
	r, err := db.reader()
	if err != nil {
		return Instance{}, false, err
	}
	in, err = scanInstance(r.QueryRowContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE sop_instance_uid = ?`, sopInstanceUID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Instance{}, false, nil
	case err != nil:
		return Instance{}, false, fmt.Errorf("index: get %s: %w", sopInstanceUID, err)
	}
	return in, true, nil
}
