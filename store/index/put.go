package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	var out Outcome
	var prevID int64
	prev, err := scanInstance(w.st.instanceByUID.QueryRow(in.SOPInstanceUID), &prevID)
	switch {
	case err == nil:
		out = Outcome{Replaced: true, Previous: &prev}
	case !errors.Is(err, sql.ErrNoRows):
		return Outcome{}, fmt.Errorf("index: look up %s: %w", in.SOPInstanceUID, err)
	}
	patientRef, err := w.upsertPatient(in)
	if err != nil {
		return Outcome{}, err
	}
	studyRef, err := w.upsertStudy(in, patientRef)
	if err != nil {
		return Outcome{}, err
	}
	seriesRef, err := w.upsertSeries(in, studyRef)
	if err != nil {
		return Outcome{}, err
	}
	args := append(instanceArgs(in), seriesRef)
	if out.Replaced {
		// An UPDATE (not delete + insert) keeps the row id; the instances_au
		// trigger moves the counts when the series changed and removes the
		// old series, study and patient if they are left empty.
		_, err = w.st.updateInstance.Exec(append(args, prevID)...)
	} else {
		_, err = w.st.insertInstance.Exec(args...)
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("index: write %s: %w", in.SOPInstanceUID, err)
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

// pick returns the new value unless it is blank.
func pick(old, new string) string {
	if blank(new) {
		return old
	}
	return new
}

func (w *writer) upsertPatient(in *Instance) (int64, error) {
	var id int64
	var name, birth, sex string
	err := w.st.patientByID.QueryRow(in.PatientID).Scan(&id, &name, &birth, &sex)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r, err := w.st.insertPatient.Exec(in.PatientID, in.PatientName, in.PatientBirthDate, in.PatientSex)
		if err != nil {
			return 0, fmt.Errorf("index: insert patient: %w", err)
		}
		return r.LastInsertId()
	case err != nil:
		return 0, fmt.Errorf("index: look up patient: %w", err)
	}
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

func (a *studyAttrs) ptrs() []any {
	p := make([]any, len(a))
	for i := range a {
		p[i] = &a[i]
	}
	return p
}

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
	return searchText(a[0], a[1], a[7], a[6], a[8], a[9])
}

func (w *writer) upsertStudy(in *Instance, patientRef int64) (int64, error) {
	var id int64
	var old studyAttrs
	err := w.st.studyByKey.QueryRow(patientRef, in.StudyInstanceUID).Scan(append([]any{&id}, old.ptrs()...)...)
	neu := studyAttrsOf(in)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		args := append([]any{patientRef, in.StudyInstanceUID}, neu.args()...)
		r, err := w.st.insertStudy.Exec(append(args, neu.searchText())...)
		if err != nil {
			return 0, fmt.Errorf("index: insert study: %w", err)
		}
		return r.LastInsertId()
	case err != nil:
		return 0, fmt.Errorf("index: look up study: %w", err)
	}
	merged := old
	for i := range merged {
		merged[i] = pick(old[i], neu[i])
	}
	if merged != old {
		args := append(merged.args(), merged.searchText(), id)
		if _, err := w.st.updateStudy.Exec(args...); err != nil {
			return 0, fmt.Errorf("index: update study: %w", err)
		}
	}
	return id, nil
}

func (w *writer) upsertSeries(in *Instance, studyRef int64) (int64, error) {
	var id int64
	var num int
	var desc, mod, body string
	err := w.st.seriesByKey.QueryRow(studyRef, in.SeriesInstanceUID).Scan(&id, &num, &desc, &mod, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r, err := w.st.insertSeries.Exec(studyRef, in.SeriesInstanceUID, in.SeriesNumber, in.SeriesDescription, in.Modality, in.BodyPart)
		if err != nil {
			return 0, fmt.Errorf("index: insert series: %w", err)
		}
		return r.LastInsertId()
	case err != nil:
		return 0, fmt.Errorf("index: look up series: %w", err)
	}
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
