package charset

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tagSpecificCharacterSet = 0x00080005
	tagPatientName          = 0x00100010
	tagPatientID            = 0x00100020
)

// corpusDir is the shared test corpus; DICOMINBOX_CORPUS overrides it.
func corpusDir() string {
	if d := os.Getenv("DICOMINBOX_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

// expectedRow is the part of a corpus/expected.jsonl line this test uses
// (values as pydicom decodes them; null = element absent).
type expectedRow struct {
	File                 string  `json:"file"`
	PatientName          *string `json:"patient_name"`
	PatientID            *string `json:"patient_id"`
	SpecificCharacterSet any     `json:"specific_character_set"`
}

// TestCorpus decodes (0010,0010) PatientName and (0010,0020) PatientID of
// every corpus file with the file's own (0008,0005) and compares them with
// expected.jsonl.
func TestCorpus(t *testing.T) {
	dir := corpusDir()
	f, err := os.Open(filepath.Join(dir, "expected.jsonl"))
	if os.IsNotExist(err) {
		t.Fatalf("corpus not found at %s (set DICOMINBOX_CORPUS; `make test` does)", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []expectedRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var row expectedRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("expected.jsonl: %v", err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if len(rows) != len(files) || len(rows) == 0 {
		t.Fatalf("%d rows in expected.jsonl for %d .dcm files", len(rows), len(files))
	}
	for _, row := range rows {
		t.Run(strings.TrimSuffix(row.File, ".dcm"), func(t *testing.T) {
			found, err := readTopLevel(filepath.Join(dir, row.File),
				tagSpecificCharacterSet, tagPatientName, tagPatientID)
			if err != nil {
				t.Fatal(err)
			}
			rawSCS, hasSCS := found[tagSpecificCharacterSet]
			scs := string(rawSCS)
			switch want := row.SpecificCharacterSet.(type) {
			case nil:
				if hasSCS {
					t.Errorf("(0008,0005) present (%q), expected absent", scs)
				}
			case string:
				if got := strings.TrimRight(scs, " "); !hasSCS || got != want {
					t.Errorf("(0008,0005) = %q (present %v), want %q", got, hasSCS, want)
				}
			default:
				t.Errorf("unexpected specific_character_set %v in expected.jsonl", want)
			}
			d := New(scs)
			check := func(tag uint32, vr string, want *string) {
				raw, ok := found[tag]
				if want == nil {
					if ok {
						t.Errorf("(%04X,%04X) present (%q), expected absent", tag>>16, tag&0xFFFF, raw)
					}
					return
				}
				if !ok {
					t.Errorf("(%04X,%04X) absent, want %q", tag>>16, tag&0xFFFF, *want)
					return
				}
				if got := d.Decode(raw, vr); got != *want {
					t.Errorf("(%04X,%04X) %s under %q: raw % X decodes to %q, want %q",
						tag>>16, tag&0xFFFF, vr, scs, raw, got, *want)
				}
			}
			check(tagPatientName, "PN", row.PatientName)
			check(tagPatientID, "LO", row.PatientID)
			if ws := d.Warnings(); len(ws) > 0 {
				t.Logf("(0008,0005) %q: warnings %q", scs, ws)
			}
		})
	}
}

// TestCharsetSamples decodes PatientName of D. Clunie's character set
// samples as shipped with Debian's python3-pydicom, when installed; the
// expected names are pydicom 2.3.1's decoding of them.
func TestCharsetSamples(t *testing.T) {
	dir := "/usr/lib/python3/dist-packages/pydicom/data/charset_files"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("charset samples not installed: %v", err)
	}
	want := map[string]string{
		"chrArab.dcm":                "قباني^لنزار",
		"chrFren.dcm":                "Buc^Jérôme",
		"chrFrenMulti.dcm":           "Buc^Jérôme",
		"chrGerm.dcm":                "Äneas^Rüdiger",
		"chrGreek.dcm":               "Διονυσιος",
		"chrH31.dcm":                 "Yamada^Tarou=山田^太郎=やまだ^たろう",
		"chrH32.dcm":                 "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
		"chrHbrw.dcm":                "שרון^דבורה",
		"chrI2.dcm":                  "Hong^Gildong=洪^吉洞=홍^길동",
		"chrJapMulti.dcm":            "やまだ^たろう",
		"chrJapMultiExplicitIR6.dcm": "やまだ^たろう",
		"chrKoreanMulti.dcm":         "김희중",
		"chrRuss.dcm":                "Люкceмбypг",
		"chrX1.dcm":                  "Wang^XiaoDong=王^小東",
		"chrX2.dcm":                  "Wang^XiaoDong=王^小东",
	}
	for file, name := range want {
		found, err := readTopLevel(filepath.Join(dir, file), tagSpecificCharacterSet, tagPatientName)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		d := New(string(found[tagSpecificCharacterSet]))
		if got := d.Decode(found[tagPatientName], "PN"); got != name {
			t.Errorf("%s: got %q, want %q", file, got, name)
		}
		if ws := d.Warnings(); len(ws) > 0 {
			t.Errorf("%s: unexpected warnings %q", file, ws)
		}
	}
}
