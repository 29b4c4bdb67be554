package index

import (
	"context"
	"database/sql"
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

	// studyPathsQuery and seriesPathsQuery list the paths of the instances
	// of a study or series row (sorted); they take the key.
	studyPathsQuery = `SELECT i.path FROM studies st JOIN series s ON s.study_ref = st.id
      JOIN instances i ON i.series_id = s.id WHERE ` + studyKeyWhere + ` ORDER BY i.path`
	seriesPathsQuery = `SELECT i.path FROM studies st JOIN series s ON s.study_ref = st.id
      JOIN instances i ON i.series_id = s.id WHERE ` + seriesKeyWhere + ` ORDER BY i.path`
)

// StudyPaths returns the paths (relative to the storage root, sorted) of
// the instances of the study row named by key: the files DeleteStudy would
// leave without rows.
func (db *DB) StudyPaths(ctx context.Context, key StudyKey) ([]string, error) {
	return db.paths(ctx, studyPathsQuery, key.StudyInstanceUID, key.PatientID, key.StudyInstanceUID)
}

// SeriesPaths returns the paths of the instances of the series row named
// by key, like StudyPaths.
func (db *DB) SeriesPaths(ctx context.Context, key SeriesKey) ([]string, error) {
	return db.paths(ctx, seriesPathsQuery, key.SeriesInstanceUID, key.PatientID, key.StudyInstanceUID, key.SeriesInstanceUID)
}

func (db *DB) paths(ctx context.Context, query, uid string, key ...any) ([]string, error) {
	r, err := db.reader()
	if err != nil {
		return nil, err
	}
	rows, err := r.QueryContext(ctx, query, key...)
	if err != nil {
		return nil, fmt.Errorf("index: paths under %s: %w", uid, err)
	}
	paths, err := scanPaths(rows)
	if err != nil {
		return nil, fmt.Errorf("index: paths under %s: %w", uid, err)
	}
	return paths, nil
}

// scanPaths reads the one-column rows of a paths query and closes them.
func scanPaths(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return paths, rows.Close()
}

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
