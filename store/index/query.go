package index

import (
	"context"
	"fmt"
	"time"
)

// Series is one row of a study's series list.
type Series struct {
	SeriesInstanceUID, StudyInstanceUID, PatientID, Description, Modality, BodyPart string
	SeriesNumber, InstanceCount                                                     int
	SizeBytes                                                                       int64
	LastReceived                                                                    time.Time
}

// StudyKey names one study row. The index keys a study by its patient and
// its Study Instance UID, so that a UID that arrived under two patient IDs
// is two studies (docs/index-schema.md); the UID alone may name both.
type StudyKey struct{ PatientID, StudyInstanceUID string }

// SeriesKey names one series row: its study's key and its Series Instance UID.
type SeriesKey struct{ PatientID, StudyInstanceUID, SeriesInstanceUID string }

// Key returns the key of the study row s is.
func (s Study) Key() StudyKey { return StudyKey{s.PatientID, s.StudyInstanceUID} }

// Key returns the key of the series row s is.
func (s Series) Key() SeriesKey {
	return SeriesKey{s.PatientID, s.StudyInstanceUID, s.SeriesInstanceUID}
}

// studyKeyWhere and seriesKeyWhere match the study (alias st) and series
// (alias s) rows of a key, given as patient ID, study UID (and series UID).
const (
	studyKeyWhere  = `st.patient_id = ? AND st.study_instance_uid = ?`
	seriesKeyWhere = studyKeyWhere + ` AND s.series_instance_uid = ?`
)

// Series lists the series of the study row named by key, by series number
// then UID.
func (db *DB) Series(ctx context.Context, key StudyKey) ([]Series, error) {
	r, err := db.reader()
	if err != nil {
		return nil, err
	}
	studyUID := key.StudyInstanceUID
	rows, err := r.QueryContext(ctx, `SELECT s.series_instance_uid, st.study_instance_uid, st.patient_id, s.series_description,
  s.modality, s.body_part, s.series_number, s.instance_count, s.size_bytes, s.last_received
FROM studies st JOIN series s ON s.study_ref = st.id
WHERE `+studyKeyWhere+` ORDER BY s.series_number, s.series_instance_uid, s.id`, key.PatientID, studyUID)
	if err != nil {
		return nil, fmt.Errorf("index: series of %s: %w", studyUID, err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		var s Series
		var last string
		if err := rows.Scan(&s.SeriesInstanceUID, &s.StudyInstanceUID, &s.PatientID, &s.Description, &s.Modality, &s.BodyPart,
			&s.SeriesNumber, &s.InstanceCount, &s.SizeBytes, &last); err != nil {
			return nil, fmt.Errorf("index: series of %s: %w", studyUID, err)
		}
		s.LastReceived = parseTime(last)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: series of %s: %w", studyUID, err)
	}
	return out, nil
}

// Instances lists the instances of the series row named by key, by
// instance number then SOP Instance UID.
func (db *DB) Instances(ctx context.Context, key SeriesKey) ([]Instance, error) {
	r, err := db.reader()
	if err != nil {
		return nil, err
	}
	seriesUID := key.SeriesInstanceUID
	rows, err := r.QueryContext(ctx, `SELECT `+instanceColsQualified+`
FROM studies st JOIN series s ON s.study_ref = st.id JOIN instances i ON i.series_id = s.id
WHERE `+seriesKeyWhere+` ORDER BY i.instance_number, i.sop_instance_uid`, key.PatientID, key.StudyInstanceUID, seriesUID)
	if err != nil {
		return nil, fmt.Errorf("index: instances of %s: %w", seriesUID, err)
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("index: instances of %s: %w", seriesUID, err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: instances of %s: %w", seriesUID, err)
	}
	return out, nil
}

// ForEachInstance calls fn for every instance, in SOP Instance UID order, from
// one consistent snapshot (for reconcile and reindex checks). It stops at the
// first error fn returns and returns it. fn may use the DB, but holding the
// snapshot for long keeps the WAL from being checkpointed back to its start.
func (db *DB) ForEachInstance(ctx context.Context, fn func(Instance) error) error {
	r, err := db.reader()
	if err != nil {
		return err
	}
	rows, err := r.QueryContext(ctx, `SELECT `+instanceCols+` FROM instances ORDER BY sop_instance_uid`)
	if err != nil {
		return fmt.Errorf("index: instances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return fmt.Errorf("index: instances: %w", err)
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index: instances: %w", err)
	}
	return nil
}

// Totals are the sizes of the whole index.
type Totals struct {
	Patients, Studies, Series, Instances int
	Bytes                                int64
}

// Totals counts patients, studies, series, instances and bytes (the last two
// from the denormalised patient sums, so it stays cheap on a large index).
func (db *DB) Totals(ctx context.Context) (Totals, error) {
	r, err := db.reader()
	if err != nil {
		return Totals{}, err
	}
	var t Totals
	err = r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM studies),
  (SELECT count(*) FROM series), (SELECT coalesce(sum(instance_count), 0) FROM patients),
  (SELECT coalesce(sum(size_bytes), 0) FROM patients)`).Scan(&t.Patients, &t.Studies, &t.Series, &t.Instances, &t.Bytes)
	if err != nil {
		return Totals{}, fmt.Errorf("index: totals: %w", err)
	}
	return t, nil
}
