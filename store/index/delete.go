package index

import (
	"context"
	"database/sql"
	"fmt"
)

// Delete removes the rows of the given instances (unknown UIDs are ignored)
// in one group-committed request. The triggers keep the series, study and
// patient counts right and remove the parents left empty. Deleting the files
// is the caller's business.
func (db *DB) Delete(ctx context.Context, sopInstanceUIDs ...string) error {
	if len(sopInstanceUIDs) == 0 {
		return nil
	}
	_, err := db.submit(ctx, &request{kind: kindDelete, uids: sopInstanceUIDs})
	return err
}

// DeleteStudy removes the study row named by key with its series and
// instances, and returns the paths of the removed instances (relative to
// the storage root, sorted) so the caller can delete the files. A study of
// the same UID under another patient ID (see the docs) stays. An unknown
// key removes nothing and returns no paths.
func (db *DB) DeleteStudy(ctx context.Context, key StudyKey) ([]string, error) {
	res, err := db.submit(ctx, &request{kind: kindDeleteStudy, uids: []string{key.PatientID, key.StudyInstanceUID}})
	return res.paths, err
}

// DeleteSeries removes the series row named by key and its instances, like
// DeleteStudy; a study left without series is removed too.
func (db *DB) DeleteSeries(ctx context.Context, key SeriesKey) ([]string, error) {
	res, err := db.submit(ctx, &request{kind: kindDeleteSeries,
		uids: []string{key.PatientID, key.StudyInstanceUID, key.SeriesInstanceUID}})
	return res.paths, err
}

func (w *writer) deleteInstances(uids []string) error {
	for _, u := range uids {
		if _, err := w.st.deleteInstance.Exec(u); err != nil {
			return fmt.Errorf("index: delete %s: %w", u, err)
		}
	}
	return nil
}

// deleteLevel collects the paths under a study or series, then deletes it; the
// foreign keys cascade to the children and the triggers fix the parents.
// key is the patient ID and UIDs naming the row, as pathsQ and deleteQ take
// them.
func (w *writer) deleteLevel(pathsQ, deleteQ *sql.Stmt, key []string) ([]string, error) {
	args := make([]any, len(key))
	for i, k := range key {
		args[i] = k
	}
	uid := key[len(key)-1]
	rows, err := pathsQ.Query(args...)
	if err != nil {
		return nil, fmt.Errorf("index: paths under %s: %w", uid, err)
	}
	paths, err := scanPaths(rows)
	if err != nil {
		return nil, fmt.Errorf("index: paths under %s: %w", uid, err)
	}
	if _, err := deleteQ.Exec(args...); err != nil {
		return nil, fmt.Errorf("index: delete %s: %w", uid, err)
	}
	return paths, nil
}
