package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzScanJournal reads arbitrary bytes as a journal file. scanJournal must
// not panic, must return records that lie inside the file, chain without
// gaps, belong to one run and carry a path of the allowed length; and what
// it returns for a valid journal followed by the fuzz bytes must start with
// that journal's records.
func FuzzScanJournal(f *testing.F) {
	valid := validJournal(f)
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(valid[:journalHeaderLen])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	v1 := appendJournalRecordV1(nil, journalMagicLiveV1, "P1/1.2/1.3/1.4.dcm", []byte("first version"), 9, 1)
	f.Add(appendJournalRecordV1(v1, journalMagicWithdrawnV1, "P1/1.2/1.3/1.5.dcm", []byte("withdrawn"), 9, 1))
	buf := make([]byte, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, append(bytes.Clone(valid), data...)} {
			recs, err := scanJournal(bytes.NewReader(b), int64(len(b)), buf)
			if err != nil {
				t.Fatalf("scan of an in-memory file: %v", err)
			}
			next := int64(0)
			for _, r := range recs {
				if r.off != next || len(r.path) == 0 || len(r.path) > journalMaxPath || r.dataLen < 0 ||
					r.dataOff()+r.dataLen > int64(len(b)) || r.fill != recs[0].fill {
					t.Fatalf("record %+v out of bounds or out of chain (file %d bytes, expected at %d)", r, len(b), next)
				}
				next = r.end()
			}
		}
		recs, _ := scanJournal(bytes.NewReader(append(bytes.Clone(valid), data...)), int64(len(valid)+len(data)), buf)
		if len(recs) < 2 {
			t.Fatalf("the valid journal's 2 records were lost behind the fuzz bytes: %d", len(recs))
		}
	})
}

// validJournal returns the bytes of a journal file with two records.
func validJournal(f *testing.F) []byte {
	name := filepath.Join(f.TempDir(), "j")
	jf, err := os.Create(name)
	if err != nil {
		f.Fatal(err)
	}
	defer jf.Close()
	j, file := testJournal(jf)
	buf := make([]byte, 4096)
	off := int64(0)
	for i, p := range []string{"P1/1.2/1.3/1.4.dcm", "P1/1.2/1.3/1.5.dcm"} {
		data := bytes.Repeat([]byte(p), 20)
		var whole []byte // one record read from the file, one from memory
		if i == 1 {
			whole = data
		}
		if err := j.writeRecord(file, off, bytes.NewReader(data), whole, int64(len(data)), p, 1e18, buf); err != nil {
			f.Fatal(err)
		}
		off += journalRecordLen(len(p), int64(len(data)))
	}
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
