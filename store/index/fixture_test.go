package index

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The study-list benchmarks run on an index of fixtureInstances instances in
// fixtureStudies studies. Building it row by row through Put would take
// minutes, so buildFixture writes the final rows (aggregates computed in Go)
// in one transaction with the triggers dropped, then re-creates them. The
// file is cached in os.TempDir(), keyed by a hash of the schema, and reused
// by later runs.
const (
	fixtureVersion   = 2 // bump when buildFixture changes
	fixtureStudies   = 20_000
	fixtureInstances = 1_000_000
)

var (
	fixtureOnce sync.Once
	fixturePath string
	fixtureErr  error
)

func fixture(b *testing.B) string {
	fixtureOnce.Do(func() {
		h := fnv.New64a()
		for _, m := range migrations {
			h.Write([]byte(m))
		}
		fixturePath = filepath.Join(os.TempDir(), fmt.Sprintf("dicominbox-index-bench-s%d-%x-f%d.db", schemaVersion, h.Sum64(), fixtureVersion))
		if _, err := os.Stat(fixturePath); err == nil {
			return
		}
		// Fixtures of other schema or fixture versions are ~600 MB each: drop them.
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), "dicominbox-index-bench-*.db"))
		for _, o := range old {
			os.Remove(o)
		}
		start := time.Now()
		tmp := fixturePath + fmt.Sprintf(".%d.tmp", os.Getpid())
		if fixtureErr = buildFixture(tmp); fixtureErr != nil {
			os.Remove(tmp)
			return
		}
		fixtureErr = os.Rename(tmp, fixturePath)
		b.Logf("built %s in %v", fixturePath, time.Since(start).Round(time.Millisecond))
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixturePath
}

// Names of fixture patients: mixed scripts, so the filter sees real text.
var (
	familyNames = []string{"Yamada", "Suzuki", "Müller", "Dupont", "Smith", "García", "Nowak", "Rossi", "Jensen", "Kowalski",
		"Papadopoulos", "Ivanova", "Kim", "Nguyễn", "O'Brien", "Østergaard", "Lefèvre", "Schmidt", "Brown", "Tanaka"}
	givenNames = []string{"Tarou", "Hanako", "Jürgen", "Jérôme", "Anna", "José", "Piotr", "Giulia", "Lars", "Zoë", "Min", "Linh"}
	cjkNames   = []string{"山田^太郎", "鈴木^花子", "王^小明", "李^娜", "田中^一郎", "김^민준"}
	fixMods    = []string{"CT", "MR", "US", "CR", "DX", "MG", "PT", "NM", "XA", "SR", "OT"}
	fixDescs   = []string{"CT HEAD", "MR BRAIN", "CHEST PA", "ABDOMEN", "Knie links", "Thorax", "MAMMO SCREENING", "PET-CT WB", "US Leber"}
)

func buildFixture(path string) error {
	db, err := Open(path, Options{})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	rows, err := tx.Query(`SELECT name FROM sqlite_schema WHERE type = 'trigger'`)
	if err != nil {
		return err
	}
	var triggers []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		triggers = append(triggers, n)
	}
	rows.Close()
	for _, n := range triggers {
		if _, err := tx.Exec("DROP TRIGGER " + n); err != nil {
			return err
		}
	}
	var stmts []*sql.Stmt
	for _, q := range []string{
		`INSERT INTO patients (id, patient_id, patient_name, patient_birth_date, patient_sex, study_count, instance_count, size_bytes)
		  VALUES (?,?,?,?,?,?,?,?)`,
		`INSERT INTO studies (id, patient_ref, study_instance_uid, ` + studyAttrCols + `, search_text,
		  modalities, series_count, instance_count, size_bytes, first_received, last_received) VALUES (` + placeholders(21) + `)`,
		`INSERT INTO series (id, study_ref, series_instance_uid, series_number, series_description, modality, body_part,
		  instance_count, size_bytes, first_received, last_received) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		`INSERT INTO instances (` + instanceCols + `, series_id) VALUES (` + placeholders(instanceColCount+1) + `)`,
	} {
		st, err := tx.Prepare(q)
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
	}
	insP, insSt, insSe, insI := stmts[0], stmts[1], stmts[2], stmts[3]

	rng := rand.New(rand.NewPCG(1, 2))
	const patients = fixtureStudies * 2 / 5 // 2.5 studies per patient
	type pat struct {
		id, name, birth, sex string
		studies, n           int
		size                 int64
	}
	pats := make([]pat, patients)
	for i := range pats {
		name := familyNames[rng.IntN(len(familyNames))] + "^" + givenNames[rng.IntN(len(givenNames))]
		if rng.IntN(5) == 0 {
			name += "=" + cjkNames[rng.IntN(len(cjkNames))]
		}
		pats[i] = pat{id: fmt.Sprintf("PID%06d-%d", i, rng.IntN(1000)), name: name,
			birth: fmt.Sprintf("19%02d%02d%02d", rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28)), sex: []string{"M", "F", "O"}[rng.IntN(3)]}
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	seriesID := 0
	for s := range fixtureStudies {
		p := &pats[s%patients]
		// Instances per study vary around 50 (sum exactly fixtureInstances).
		n := fixtureInstances / fixtureStudies
		if s%2 == 0 {
			n += s % 7
		} else {
			n -= (s - 1) % 7
		}
		nseries := 1 + rng.IntN(4)
		studyUID := fmt.Sprintf("1.2.826.0.1.3680043.10.1%06d", s)
		received := t0.Add(time.Duration(s) * 97 * time.Second)
		studyDate := time.Date(2015+rng.IntN(11), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("20060102")
		var mods []string
		var size int64
		j := 0 // instance of the study; received j ms after the study's first
		for se := range nseries {
			seriesID++
			mod := fixMods[rng.IntN(len(fixMods))]
			mods = append(mods, mod)
			k := n / nseries
			if se == nseries-1 {
				k = n - k*(nseries-1)
			}
			var ssize int64
			first := received.Add(time.Duration(j) * time.Millisecond)
			var last time.Time
			for i := range k {
				in := Instance{SOPInstanceUID: fmt.Sprintf("%s.%d.1%06d", studyUID, se+1, i), SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
					StudyInstanceUID: studyUID, SeriesInstanceUID: fmt.Sprintf("%s.%d", studyUID, se+1),
					PatientID: p.id, PatientName: p.name, StudyDate: studyDate, Modality: mod,
					TransferSyntaxUID: "1.2.840.10008.1.2.1", SizeBytes: 500_000 + int64(rng.IntN(50_000)),
					CallingAE: "MODALITY" + fmt.Sprint(s%9), CalledAE: "INBOX", SourceIP: "192.0.2.1",
					InstanceNumber: i + 1, NumberOfFrames: 1, SpecificCharacterSet: "ISO_IR 192", SeriesNumber: se + 1,
					ReceivedAt: received.Add(time.Duration(j) * time.Millisecond)}
				j++
				in.Path = fmt.Sprintf("%s/%s/%s/%s.dcm", in.PatientID, in.StudyInstanceUID, in.SeriesInstanceUID, in.SOPInstanceUID)
				last = in.ReceivedAt
				ssize += in.SizeBytes
				if _, err := insI.Exec(append(instanceArgs(&in), seriesID)...); err != nil {
					return err
				}
			}
			if _, err := insSe.Exec(seriesID, s+1, fmt.Sprintf("%s.%d", studyUID, se+1), se+1, "series", mod, "",
				k, ssize, formatTime(first), formatTime(last)); err != nil {
				return err
			}
			size += ssize
		}
		attrs := studyAttrs{p.id, p.name, p.birth, p.sex, studyDate, "101500",
			fixDescs[rng.IntN(len(fixDescs))], fmt.Sprintf("ACC%08d", s), fmt.Sprint(s % 1000), "Ref^Doctor", "MODALITY" + fmt.Sprint(s%9)}
		slices.Sort(mods)
		mods = slices.Compact(mods)
		args := append([]any{s + 1, s%patients + 1, studyUID}, attrs.args()...)
		args = append(args, attrs.searchText(), strings.Join(mods, `\`), nseries, n, size,
			formatTime(received), formatTime(received.Add(time.Duration(n-1)*time.Millisecond)))
		if _, err := insSt.Exec(args...); err != nil {
			return err
		}
		p.studies++
		p.n += n
		p.size += size
	}
	for i, p := range pats {
		if _, err := insP.Exec(i+1, p.id, p.name, p.birth, p.sex, p.studies, p.n, p.size); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(triggersV1); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = raw.Exec("PRAGMA journal_mode=WAL")
	return err
}
