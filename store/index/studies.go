package index

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StudyColumn selects the sort order of the study list.
type StudyColumn int

// Sort orders for StudyQuery.Sort. SortDefault (the zero value) is newest
// received first and ignores Desc; every other column sorts ascending unless
// Desc is set. Ties are broken by the row id, so paging is stable.
const (
	SortDefault      StudyColumn = iota // LastReceived, newest first
	SortPatientName                     // case-insensitive (ASCII)
	SortPatientID                       //
	SortStudyDate                       // then study time
	SortModalities                      // "CT\MR" as text
	SortDescription                     // case-insensitive (ASCII)
	SortAccession                       //
	SortSeries                          // number of series
	SortInstances                       // number of instances
	SortSize                            // bytes
	SortSourceAE                        // calling AE of the newest instance
	SortLastReceived                    //
)

var columnNames = [...]string{"Default", "PatientName", "PatientID", "StudyDate", "Modalities",
	"Description", "Accession", "Series", "Instances", "Size", "SourceAE", "LastReceived"}

// String returns the column's name without the Sort prefix, e.g. "PatientName".
func (c StudyColumn) String() string {
	if c < 0 || int(c) >= len(columnNames) {
		return fmt.Sprintf("StudyColumn(%d)", int(c))
	}
	return columnNames[c]
}

// orderBy maps a column to its ORDER BY terms; each is served by an index
// (or, for the counts, a scan of the narrow studies table).
var orderBy = map[StudyColumn][]string{
	SortPatientName:  {"patient_name COLLATE NOCASE"},
	SortPatientID:    {"patient_id"},
	SortStudyDate:    {"study_date", "study_time"},
	SortModalities:   {"modalities"},
	SortDescription:  {"study_description COLLATE NOCASE"},
	SortAccession:    {"accession_number"},
	SortSeries:       {"series_count"},
	SortInstances:    {"instance_count"},
	SortSize:         {"size_bytes"},
	SortSourceAE:     {"source_ae"},
	SortLastReceived: {"last_received"},
}

// StudyQuery selects one page of the study list.
type StudyQuery struct {
	// Filter: every whitespace-separated term must occur (case- and
	// accent-insensitive substring) in the patient name (any component
	// group), patient ID, accession number, description, study ID, referring
	// physician or modalities.
	Filter string
	// DateFrom and DateTo bound the Study Date, inclusive, as YYYYMMDD (or
	// YYYY-MM-DD); "" leaves that side open. With a bound set, studies
	// without a Study Date are left out.
	DateFrom, DateTo string
	// Modality keeps the studies having a series of this modality (exact,
	// case-insensitive), e.g. "CT".
	Modality string
	Sort     StudyColumn
	Desc     bool
	// Offset skips rows; Limit is the page size (default 50, at most 1000).
	Offset, Limit int
}

// Study is one row of the study list.
type Study struct {
	StudyInstanceUID, PatientID, PatientName, PatientBirthDate, PatientSex string
	StudyDate, StudyTime, Description, AccessionNumber, StudyID            string
	ReferringPhysician                                                     string
	Modalities                                                             string // distinct, sorted, backslash-separated: "CT\\MR"
	SourceAE                                                               string // calling AE of the newest instance
	SeriesCount, InstanceCount                                             int
	SizeBytes                                                              int64
	FirstReceived, LastReceived                                            time.Time
}

const studyCols = `study_instance_uid, patient_id, patient_name, patient_birth_date, patient_sex,
  study_date, study_time, study_description, accession_number, study_id, referring_physician,
  modalities, source_ae, series_count, instance_count, size_bytes, first_received, last_received`

// Studies returns one page of the study list and the number of studies that
// match the query (for the pager). Both come from the same snapshot.
func (db *DB) Studies(ctx context.Context, q StudyQuery) (rows []Study, total int, err error) {
	where, args, err := studyWhere(q)
	if err != nil {
		return nil, 0, err
	}
	order, err := studyOrder(q)
	if err != nil {
		return nil, 0, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	offset := max(q.Offset, 0)

	r, err := db.reader()
	if err != nil {
		return nil, 0, err
	}
	tx, err := r.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("index: studies: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only

	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM studies"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("index: count studies: %w", err)
	}
	if total == 0 || offset >= total {
		return nil, total, nil
	}
	// The page's ids come from the sort index alone (a covering scan, cheap
	// even at a deep offset); only those rows are then read.
	ids := "SELECT id FROM studies" + where
	if where != "" {
		var all int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM studies").Scan(&all); err != nil {
			return nil, 0, fmt.Errorf("index: count studies: %w", err)
		}
		if collectFirst(all, total, offset+limit) {
			ids = "SELECT id FROM studies WHERE id IN (SELECT id FROM studies" + where + ")"
		}
	}
	query := "SELECT " + studyCols + " FROM studies WHERE id IN (" + ids +
		" ORDER BY " + order + " LIMIT ? OFFSET ?) ORDER BY " + order
	res, err := tx.QueryContext(ctx, query, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("index: studies: %w", err)
	}
	defer res.Close()
	rows = make([]Study, 0, limit)
	for res.Next() {
		var s Study
		var first, last string
		if err := res.Scan(&s.StudyInstanceUID, &s.PatientID, &s.PatientName, &s.PatientBirthDate, &s.PatientSex,
			&s.StudyDate, &s.StudyTime, &s.Description, &s.AccessionNumber, &s.StudyID, &s.ReferringPhysician,
			&s.Modalities, &s.SourceAE, &s.SeriesCount, &s.InstanceCount, &s.SizeBytes, &first, &last); err != nil {
			return nil, 0, fmt.Errorf("index: studies: %w", err)
		}
		s.FirstReceived, s.LastReceived = parseTime(first), parseTime(last)
		rows = append(rows, s)
	}
	if err := res.Err(); err != nil {
		return nil, 0, fmt.Errorf("index: studies: %w", err)
	}
	return rows, total, nil
}

// collectFirst chooses how a filtered page is found. Walking the sort index
// tests rows in order until the page is full: it visits about
// need*all/total rows, so it is quick when matches are common but visits the
// whole table for a rare filter. Collecting the matching ids first (one scan
// of the covering studies_search or study date index) and then walking the
// sort index testing only membership costs a scan plus a little per match.
// Costs per row were measured on the 20,000-study benchmark fixture.
func collectFirst(all, total, need int) bool {
	if forceCollect != nil {
		return *forceCollect
	}
	const walkRow, scanRow, matchRow = 0.7, 0.33, 1.3 // µs
	visits := min(float64(all), float64(need)*float64(all)/float64(max(total, 1)))
	return scanRow*float64(all)+matchRow*float64(total) < walkRow*visits
}

// forceCollect overrides collectFirst in tests.
var forceCollect *bool

// studyWhere builds " WHERE ..." (or "") and its arguments.
func studyWhere(q StudyQuery) (string, []any, error) {
	var conds []string
	var args []any
	for _, t := range filterTerms(q.Filter) {
		conds = append(conds, "(instr(search_text, ?) > 0 OR instr(lower(modalities), ?) > 0)")
		args = append(args, t, t)
	}
	from, err := studyDate(q.DateFrom)
	if err != nil {
		return "", nil, err
	}
	to, err := studyDate(q.DateTo)
	if err != nil {
		return "", nil, err
	}
	if from != "" {
		conds = append(conds, "study_date >= ?")
		args = append(args, from)
	}
	if to != "" {
		conds = append(conds, "study_date <> '' AND study_date <= ?")
		args = append(args, to)
	}
	if m := strings.ToUpper(strings.TrimSpace(q.Modality)); m != "" {
		conds = append(conds, `instr('\' || modalities || '\', ?) > 0`)
		args = append(args, `\`+m+`\`)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// studyDate accepts YYYYMMDD or YYYY-MM-DD.
func studyDate(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if s == "" {
		return "", nil
	}
	if len(s) != 8 || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("index: study date %q: want YYYYMMDD", s)
	}
	return s, nil
}

func studyOrder(q StudyQuery) (string, error) {
	if q.Sort == SortDefault {
		return "last_received DESC, id DESC", nil
	}
	terms, ok := orderBy[q.Sort]
	if !ok {
		return "", fmt.Errorf("index: unknown sort column %d", q.Sort)
	}
	dir := ""
	if q.Desc {
		dir = " DESC"
	}
	var b strings.Builder
	for _, t := range append(terms, "id") {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t + dir)
	}
	return b.String(), nil
}
