package store

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/dicominbox/dicominbox/app/apptest"
)

// corpusDir is the shared test corpus, as apptest.CorpusDir finds it, for
// the fuzz seeds (which do without it).
var corpusDir = func() string {
	if d := os.Getenv("DICOMINBOX_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "corpus")
}()

// expected is one line of corpus/expected.jsonl (values as pydicom decodes
// them; nil for absent elements).
type expected = apptest.ExpectedRow

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// loadExpected returns the expected.jsonl row of every corpus file, in the
// manifest's order (apptest.LoadCorpus checks the two files agree).
func loadExpected(t *testing.T) []expected {
	t.Helper()
	var out []expected
	for _, f := range apptest.LoadCorpus(t) {
		out = append(out, f.Expected)
	}
	return out
}

func TestCorpus(t *testing.T) {
	exp := loadExpected(t)
	if len(exp) != 34 {
		t.Fatalf("expected.jsonl has %d lines, want 34", len(exp))
	}
	s := openTest(t, true)
	ctx := context.Background()
	var stored []string
	for _, e := range exp {
		t.Run(e.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpusDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			ds, ts := splitPart10(t, raw)
			wantTS := str(e.TransferSyntaxUID)
			if wantTS == "" { // 16_rtstruct_no_meta.dcm: bare data set
				wantTS = implicitVRLittleEndian
			}
			if ts != wantTS {
				t.Fatalf("transfer syntax %q, expected.jsonl says %q", ts, wantTS)
			}
			in := Instance{SOPClassUID: e.SOPClassUID, SOPInstanceUID: e.SOPInstanceUID, TransferSyntaxUID: ts,
				CallingAE: "STORESCU", CalledAE: "INBOX", RemoteAddr: "127.0.0.1:40000"}
			st, err := s.Ingest(ctx, in, bytes.NewReader(ds))
			if err != nil {
				t.Fatalf("Ingest: %v", err)
			}
			if st.Warning != "" {
				t.Errorf("warning: %s", st.Warning)
			}
			h := st.Header
			for _, c := range []struct{ name, got, want string }{
				{"SOPInstanceUID", h.SOPInstanceUID, e.SOPInstanceUID},
				{"SOPClassUID", h.SOPClassUID, e.SOPClassUID},
				{"StudyInstanceUID", h.StudyInstanceUID, str(e.StudyInstanceUID)},
				{"SeriesInstanceUID", h.SeriesInstanceUID, str(e.SeriesInstanceUID)},
				{"PatientID", h.PatientID, str(e.PatientID)},
				{"StudyDate", h.StudyDate, str(e.StudyDate)},
				{"Modality", h.Modality, str(e.Modality)},
				{"SpecificCharacterSet", h.SpecificCharacterSet, str(e.CharSet)},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
				}
			}
			// Every name, Korean and Japanese ISO 2022 included, exactly as pydicom decodes it.
			if wantName := str(e.PatientName); h.PatientName != wantName {
				t.Errorf("PatientName = %q, want %q", h.PatientName, wantName)
			}

			wantPath := path.Join(sanitize(str(e.PatientID), noPatientID, true),
				sanitize(str(e.StudyInstanceUID), noStudyUID, false),
				sanitize(str(e.SeriesInstanceUID), noSeriesUID, false), e.SOPInstanceUID+".dcm")
			if st.Path != wantPath {
				t.Errorf("Path = %q, want %q", st.Path, wantPath)
			}
			abs := filepath.Join(s.Root(), filepath.FromSlash(st.Path))
			fi, err := os.Stat(abs)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != st.Size || st.DataSetSize != int64(len(ds)) {
				t.Errorf("Size %d (file %d), DataSetSize %d (sent %d)", st.Size, fi.Size(), st.DataSetSize, len(ds))
			}
			meta, gotDS := storedMeta(t, abs)
			for tg, want := range map[tag.Tag]string{
				tag.MediaStorageSOPClassUID:         e.SOPClassUID,
				tag.MediaStorageSOPInstanceUID:      e.SOPInstanceUID,
				tag.TransferSyntaxUID:               wantTS,
				tag.ImplementationClassUID:          DefaultImplementationClassUID,
				tag.ImplementationVersionName:       DefaultImplementationVersionName,
				tag.SourceApplicationEntityTitle:    "STORESCU",
				tag.SendingApplicationEntityTitle:   "STORESCU",
				tag.ReceivingApplicationEntityTitle: "INBOX",
			} {
				if meta[tg] != want {
					t.Errorf("meta %v = %q, want %q", tg, meta[tg], want)
				}
			}
			if !bytes.Equal(gotDS, ds) {
				t.Errorf("stored data set differs from the received bytes (%d vs %d bytes)", len(gotDS), len(ds))
			}
			stored = append(stored, abs)
		})
	}
	assertNoLeftovers(t, s, len(stored))
	t.Run("dcmdump", func(t *testing.T) { dcmdumpAll(t, stored) })
}

// dcmdumpAll runs DCMTK's dcmdump on the stored files: each must parse, and
// its meta group must show the calling AE.
func dcmdumpAll(t *testing.T, files []string) {
	bin, err := exec.LookPath("dcmdump")
	if err != nil {
		t.Fatal("dcmdump (DCMTK) is not installed; `make test` installs dcmtk")
	}
	for _, f := range files {
		out, err := exec.Command(bin, "-M", "+P", "0002,0016", "+P", "0002,0010", f).CombinedOutput()
		if err != nil {
			t.Errorf("dcmdump %s: %v\n%s", filepath.Base(f), err, out)
			continue
		}
		if !strings.Contains(string(out), "[STORESCU]") {
			t.Errorf("dcmdump %s: no calling AE in\n%s", filepath.Base(f), out)
		}
		if strings.Contains(string(out), "E: ") {
			t.Errorf("dcmdump %s reports errors:\n%s", filepath.Base(f), out)
		}
	}
}
