package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// splitPart10 returns the data set bytes and the transfer syntax of a Part-10
// file, parsing the meta group by hand. A file without "DICM" at 128 is a bare
// Implicit VR Little Endian data set.
func splitPart10(t testing.TB, b []byte) (ds []byte, ts string) {
	t.Helper()
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		return b, implicitVRLittleEndian
	}
	p := 132
	if string(b[p:p+6]) != "\x02\x00\x00\x00UL" {
		t.Fatalf("no (0002,0000) after DICM")
	}
	groupLen := int(binary.LittleEndian.Uint32(b[p+8:]))
	p += 12
	end := p + groupLen
	for p < end {
		group, elem := binary.LittleEndian.Uint16(b[p:]), binary.LittleEndian.Uint16(b[p+2:])
		vr := string(b[p+4 : p+6])
		var vl, hl int
		if longVR(vr) {
			vl, hl = int(binary.LittleEndian.Uint32(b[p+8:])), 12
		} else {
			vl, hl = int(binary.LittleEndian.Uint16(b[p+6:])), 8
		}
		if group == 2 && elem == 0x10 {
			ts = strings.Trim(string(b[p+hl:p+hl+vl]), " \x00")
		}
		p += hl + vl
	}
	if p != end {
		t.Fatalf("meta group length %d does not end on an element", groupLen)
	}
	return b[end:], ts
}

// el is one element of a test data set.
type el struct {
	tag uint32
	vr  string
	v   string
}

// buildDataSet encodes elements in the framing of ts (implicit LE, explicit
// LE or explicit BE; strings are padded to even length with a space, UIDs
// with a NUL).
func buildDataSet(ts string, elems ...el) []byte {
	sx := syntaxOf(ts)
	bo := sx.bo.(binary.AppendByteOrder)
	var b []byte
	for _, e := range elems {
		v := []byte(e.v)
		if len(v)%2 == 1 {
			if e.vr == "UI" || e.vr == "OB" {
				v = append(v, 0)
			} else {
				v = append(v, ' ')
			}
		}
		b = bo.AppendUint16(b, uint16(e.tag>>16))
		b = bo.AppendUint16(b, uint16(e.tag))
		switch {
		case !sx.explicit:
			b = bo.AppendUint32(b, uint32(len(v)))
		case longVR(e.vr):
			b = append(b, e.vr...)
			b = append(b, 0, 0)
			b = bo.AppendUint32(b, uint32(len(v)))
		default:
			b = append(b, e.vr...)
			b = bo.AppendUint16(b, uint16(len(v)))
		}
		b = append(b, v...)
	}
	return b
}

// basicDataSet returns a small Explicit VR Little Endian CT-like data set
// with the given UIDs and patient id and a pixel data element of n bytes.
func basicDataSet(class, inst, study, series, patient string, n int) []byte {
	return buildDataSet(explicitVRLittleEndian,
		el{0x00080005, "CS", "ISO_IR 100"},
		el{0x00080016, "UI", class},
		el{0x00080018, "UI", inst},
		el{0x00080020, "DA", "20240102"},
		el{0x00080060, "CS", "CT"},
		el{0x00100010, "PN", "Doe^Jane"},
		el{0x00100020, "LO", patient},
		el{0x0020000D, "UI", study},
		el{0x0020000E, "UI", series},
		el{0x00200013, "IS", "7"},
		el{0x7FE00010, "OB", string(make([]byte, n))},
	)
}

const ctClass = "1.2.840.10008.5.1.4.1.1.2"

func openTest(t testing.TB, sync bool) *Store {
	t.Helper()
	opt := DefaultOptions()
	opt.Sync = sync
	return openTestOpt(t, opt)
}

// openTestOpt opens a store in a temp dir with opt and a silent logger.
func openTestOpt(t testing.TB, opt Options) *Store {
	t.Helper()
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// assertNoLeftovers checks that .incoming is empty (but for the journal
// files, their reserves and the lock file) and that the tree holds
// exactly want .dcm files.
func assertNoLeftovers(t testing.TB, s *Store, want int) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Root(), incomingDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dij") || strings.HasSuffix(e.Name(), reserveExt) || e.Name() == lockFileName { // these stay
			continue
		}
		t.Errorf("left in .incoming: %s", e.Name())
	}
	if got := countFiles(t, s.Root()); got != want {
		t.Errorf("tree holds %d files, want %d", got, want)
	}
}

// countFiles counts regular files under root outside .incoming, except the
// index database.
func countFiles(t testing.TB, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == incomingDir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && filepath.Dir(p) == root && strings.HasPrefix(d.Name(), IndexFile) {
			return nil // the index database and its WAL
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}

// storedMeta parses the meta group of a stored file with the dicom library
// and returns its string values by tag, and the data set that follows it.
func storedMeta(t testing.TB, path string) (map[tag.Tag]string, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 132 || !bytes.Equal(b[:128], make([]byte, 128)) || string(b[128:132]) != "DICM" {
		t.Fatalf("%s: no zero preamble + DICM", path)
	}
	var meta []*dicom.Element
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: dicom library panicked on the meta group: %v", path, r)
			}
		}()
		p, err := dicom.NewParser(bytes.NewReader(b), int64(len(b)), nil, dicom.SkipPixelData())
		if p == nil {
			t.Fatalf("%s: dicom.NewParser: %v", path, err)
		}
		meta = p.GetMetadata().Elements
	}()
	got := map[tag.Tag]string{}
	for _, e := range meta {
		if e.Value.ValueType() == dicom.Strings {
			got[e.Tag] = strings.Join(dicom.MustGetStrings(e.Value), `\`)
		}
	}
	ds, _ := splitPart10(t, b)
	return got, ds
}
