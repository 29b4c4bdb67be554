package store

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzHeader feeds arbitrary bytes as a data set under each framing
// (implicit LE, explicit LE, explicit BE, deflated: both the bytes as they
// are and deflated). Ingest must not panic, must either store the bytes
// unchanged under the root or refuse them with ErrCannotUnderstand, and must
// leave nothing in .incoming.
func FuzzHeader(f *testing.F) {
	for _, ts := range []string{implicitVRLittleEndian, explicitVRLittleEndian, explicitVRBigEndian} {
		f.Add(basicDataSet(ctClass, "1.2.3", "1.2.4", "1.2.5", "P1", 4)[:120])
		inner := buildDataSet(ts, el{0x00100020, "LO", "x"})
		f.Add(append(seq(ts, 0x00081115, inner), buildDataSet(ts, el{0x00100020, "LO", "../x"}, el{0x0020000D, "UI", "..."})...))
	}
	for _, name := range []string{"16_rtstruct_no_meta.dcm", "23_charset_latin1.dcm", "26_charset_jp_iso2022_ir87.dcm", "29_ct_dose_sc_nonstandard_vr.dcm"} {
		if raw, err := os.ReadFile(filepath.Join(corpusDir, name)); err == nil {
			ds, _ := splitPart10(f, raw)
			f.Add(ds)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x00, 0x18, 0x00, 0xf0, 0xff, 0xff, 0x7f})

	// A tmpfs root when there is one: on this VM's ext4 a create costs
	// ~0.2-0.5 ms, on tmpfs 0.05 ms, and the fuzzer minimises at exec speed.
	root := f.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "fuzzheader"); err == nil {
		root = d
		f.Cleanup(func() { os.RemoveAll(d) })
	}
	opt := DefaultOptions()
	opt.Sync = false
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(root, opt)
	if err != nil {
		f.Fatal(err)
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestSpeed) // reused: a new one costs ~1 MB
	f.Fuzz(func(t *testing.T, data []byte) {
		z.Reset()
		w.Reset(&z)
		w.Write(data)
		w.Close()
		cases := []struct {
			ts string
			ds []byte
		}{
			{implicitVRLittleEndian, data}, {explicitVRLittleEndian, data}, {explicitVRBigEndian, data},
			{deflatedExplicitVRLE, data}, {deflatedExplicitVRLE, z.Bytes()},
		}
		for _, c := range cases {
			in := Instance{SOPClassUID: ctClass, SOPInstanceUID: "1.2.3.4", TransferSyntaxUID: c.ts, CallingAE: "FUZZ", CalledAE: "INBOX"}
			st, err := s.Ingest(context.Background(), in, bytes.NewReader(c.ds))
			if err != nil {
				if !errors.Is(err, ErrCannotUnderstand) {
					t.Fatalf("%s: unexpected error %v", c.ts, err)
				}
				continue
			}
			comps := strings.Split(st.Path, "/")
			if !filepath.IsLocal(filepath.FromSlash(st.Path)) || len(comps) != 4 {
				t.Fatalf("%s: path %q", c.ts, st.Path)
			}
			abs, _, err := resolve(s.Root(), comps)
			if err != nil {
				t.Fatalf("%s: %v", c.ts, err)
			}
			b, err := os.ReadFile(abs)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(b)) != st.Size || !bytes.Equal(b[st.Size-st.DataSetSize:], c.ds) || string(b[128:132]) != "DICM" {
				t.Fatalf("%s: stored file is not the meta group + the data set", c.ts)
			}
			if err := os.Remove(abs); err != nil {
				t.Fatal(err)
			}
		}
		entries, _ := os.ReadDir(filepath.Join(s.Root(), incomingDir))
		if len(entries) != 1 || entries[0].Name() != lockFileName {
			t.Fatalf(".incoming holds %v, want only the lock file", entries)
		}
	})
}
