package index

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// stmts are the writer's prepared statements, bound to its connection.
type stmts struct {
	all []*sql.Stmt

	begin, commit, rollback, savepoint, rollbackTo, release *sql.Stmt

	lookUp, insertKnown                                          *sql.Stmt
	instanceByID, insertInstance, updateInstance, deleteInstance *sql.Stmt
	insertPatient, updatePatient                                 *sql.Stmt
	insertStudy                                                  *sql.Stmt
	insertSeries, updateSeries                                   *sql.Stmt
	studyPaths, deleteStudy, seriesPaths, deleteSeries           *sql.Stmt
	insertOutbox, deleteOutbox                                   *sql.Stmt

	// studyUpdates are the UPDATEs of the study columns that change, by
	// column list (see upsertStudy), prepared when first needed.
	studyUpdates map[string]*sql.Stmt
}

// updateStudy returns the statement that sets cols, then takes the row id.
func (s *stmts) updateStudy(c *sql.Conn, cols []string) (*sql.Stmt, error) {
	key := strings.Join(cols, ",")
	if st, ok := s.studyUpdates[key]; ok {
		return st, nil
	}
	q := `UPDATE studies SET (` + key + `) = (` + placeholders(len(cols)) + `) WHERE id = ?`
	st, err := c.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, fmt.Errorf("index: prepare %q: %w", q, err)
	}
	if s.studyUpdates == nil {
		s.studyUpdates = make(map[string]*sql.Stmt)
	}
	s.studyUpdates[key] = st
	s.all = append(s.all, st)
	return st, nil
}

const studyAttrCols = `patient_id, patient_name, patient_birth_date, patient_sex,
  study_date, study_time, study_description, accession_number, study_id, referring_physician, source_ae`

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func prepare(ctx context.Context, c *sql.Conn) (*stmts, error) {
	s := &stmts{}
	var err error
	p := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = c.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("index: prepare %q: %w", q, err)
			return
		}
		s.all = append(s.all, *dst)
	}
	p(&s.begin, "BEGIN IMMEDIATE")
	p(&s.commit, "COMMIT")
	p(&s.rollback, "ROLLBACK")
	p(&s.savepoint, "SAVEPOINT req")
	p(&s.rollbackTo, "ROLLBACK TO req")
	p(&s.release, "RELEASE req")
	p(&s.lookUp, lookUpSQL)
	p(&s.insertKnown, insertKnownSQL)
	p(&s.instanceByID, `SELECT `+instanceCols+` FROM instances WHERE id = ?`)
	p(&s.insertInstance, `INSERT INTO instances (`+instanceCols+`, series_id) VALUES (`+placeholders(instanceColCount+1)+`)`)
	p(&s.updateInstance, `UPDATE instances SET (`+instanceCols+`, series_id) = (`+placeholders(instanceColCount+1)+`) WHERE id = ?`)
	p(&s.deleteInstance, `DELETE FROM instances WHERE sop_instance_uid = ?`)

	p(&s.insertPatient, `INSERT INTO patients (patient_id, patient_name, patient_birth_date, patient_sex) VALUES (?,?,?,?)`)
	p(&s.updatePatient, `UPDATE patients SET patient_name = ?, patient_birth_date = ?, patient_sex = ? WHERE id = ?`)

	p(&s.insertStudy, `INSERT INTO studies (patient_ref, study_instance_uid, `+studyAttrCols+`, search_text) VALUES (`+placeholders(14)+`)`)

	p(&s.insertSeries, `INSERT INTO series (study_ref, series_instance_uid, series_number, series_description, modality, body_part) VALUES (?,?,?,?,?,?)`)
	p(&s.updateSeries, `UPDATE series SET series_number = ?, series_description = ?, modality = ?, body_part = ? WHERE id = ?`)

	// Deleting the study or series row cascades (foreign keys) to its series
	// and instances; the triggers fix the counts of the parents and remove a
	// patient (or study) left empty.
	// Both take the key: patient ID, study UID (and series UID).
	p(&s.studyPaths, studyPathsQuery)
	p(&s.deleteStudy, `DELETE FROM studies WHERE id IN (SELECT st.id FROM studies st WHERE `+studyKeyWhere+`)`)
	p(&s.seriesPaths, seriesPathsQuery)
	p(&s.deleteSeries, `DELETE FROM series WHERE id IN (SELECT s.id FROM studies st JOIN series s ON s.study_ref = st.id
      WHERE `+seriesKeyWhere+`)`)

	p(&s.insertOutbox, `INSERT INTO outbox (id, stream, msg_key, headers, value, sop_instance_uid, created_at) VALUES (?,?,?,?,?,?,?)`)
	p(&s.deleteOutbox, `DELETE FROM outbox WHERE id = ?`)
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *stmts) close() {
	for _, st := range s.all {
		st.Close()
	}
}
