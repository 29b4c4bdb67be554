package uid

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestCorpus checks every SOP class and transfer syntax of the shared test
// corpus.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("DICOMINBOX_CORPUS") // set by the Makefile
	if dir == "" {
		dir = "../../../shared/corpus"
	}
	f, err := os.Open(dir + "/MANIFEST.tsv")
	if err != nil {
		t.Fatalf("corpus manifest (set DICOMINBOX_CORPUS; `make test` does): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var col map[string]int
	rows := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, h := range fields {
				col[h] = i
			}
			if _, ok := col["sop_class_uid"]; !ok {
				t.Fatal("manifest has no sop_class_uid column")
			}
			continue
		}
		rows++
		file := fields[col["file"]]
		class, syntax := fields[col["sop_class_uid"]], fields[col["transfer_syntax_uid"]]
		wantStorage := class != "1.2.276.0.19.55.1.5.1.1.1" // a private SOP class
		if IsStorage(class) != wantStorage {
			t.Errorf("%s: IsStorage(%s) = %v, want %v", file, class, !wantStorage, wantStorage)
		}
		if _, ok := LookupSOPClass(class); ok != wantStorage {
			t.Errorf("%s: LookupSOPClass(%s) found = %v", file, class, ok)
		}
		ts, ok := LookupTransferSyntax(syntax)
		if !ok || !ts.Storable() {
			t.Errorf("%s: transfer syntax %s known %v, storable %v", file, syntax, ok, ts.Storable())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows == 0 {
		t.Fatal("empty manifest")
	}
}

func TestTablesValid(t *testing.T) {
	seen := map[string]bool{}
	check := func(uid, name string) {
		t.Helper()
		if !Valid(uid) {
			t.Errorf("invalid UID %q", uid)
		}
		if seen[uid] {
			t.Errorf("duplicate UID %s", uid)
		}
		seen[uid] = true
		if name == "" || strings.TrimSpace(name) != name {
			t.Errorf("%s: bad name %q", uid, name)
		}
	}
	for _, c := range storageSOPClasses {
		check(c.UID, c.Name)
		if !strings.Contains(c.Name, "Storage") {
			t.Errorf("%s: storage class named %q", c.UID, c.Name)
		}
	}
	for _, c := range otherSOPClasses {
		check(c.UID, c.Name)
	}
	for _, ts := range transferSyntaxes {
		check(ts.UID, ts.Name)
		if ts.Family == "" {
			t.Errorf("%s: no family", ts.UID)
		}
	}
	if n := len(StorageSOPClasses()); n != len(storageSOPClasses) || n < 200 {
		t.Errorf("%d storage classes", n)
	}
	if !slices.IsSortedFunc(StorageSOPClasses(), func(a, b SOPClass) int { return strings.Compare(a.UID, b.UID) }) {
		t.Error("StorageSOPClasses not sorted")
	}
}

func TestSOPClasses(t *testing.T) {
	for uid, want := range map[string]bool{
		"1.2.840.10008.5.1.4.1.1.2":       true,  // CT
		"1.2.840.10008.5.1.4.1.1.6":       true,  // retired US
		"1.2.840.10008.5.1.4.1.1.66.7":    true,  // Label Map Segmentation
		"1.2.840.10008.5.1.4.1.1.77.1.9":  true,  // Confocal Microscopy Tiled Pyramidal
		"1.2.840.10008.5.1.4.1.1.201.1":   true,  // Inventory
		"1.2.840.10008.5.1.4.38.1":        true,  // Hanging Protocol
		"1.2.840.10008.5.1.1.29":          true,  // retired Hardcopy Grayscale
		Verification:                      false, // known, not storage
		"1.2.840.10008.1.20.1":            false, // Storage Commitment
		"1.2.840.10008.1.3.10":            false, // DICOMDIR
		"1.2.840.10008.5.1.4.1.2.2.1":     false, // Study Root FIND
		"1.2.840.10008.5.1.4.1.1.201.2":   false, // Inventory FIND
		"1.2.840.10008.5.1.4.1.1.2 ":      false,
		"":                                false,
		"1.2.840.10008.5.1.4.1.1.999.999": false,
	} {
		if IsStorage(uid) != want {
			t.Errorf("IsStorage(%q) = %v", uid, !want)
		}
	}
	if c, ok := LookupSOPClass(Verification); !ok || c.Name != "Verification SOP Class" {
		t.Errorf("Verification: %+v %v", c, ok)
	}
	for uid, want := range map[string]string{
		"1.2.840.10008.5.1.4.1.1.6":   "Ultrasound Image Storage (Retired)",
		"1.2.840.10008.5.1.4.1.1.6.1": "Ultrasound Image Storage",
		"1.2.840.10008.5.1.4.31":      "Modality Worklist Information Model - FIND",
		ExplicitVRBigEndian:           "Explicit VR Big Endian (Retired)",
		"1.2.840.10008.1.2.4.201":     "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
		"1.2.3":                       "",
	} {
		if got := Name(uid); got != want {
			t.Errorf("Name(%s) = %q, want %q", uid, got, want)
		}
	}
}

func TestTransferSyntaxes(t *testing.T) {
	type flags struct {
		family                                          Family
		explicit, big, deflated, encapsulated, storable bool
	}
	for uid, want := range map[string]flags{
		ImplicitVRLittleEndian:         {FamilyUncompressed, false, false, false, false, true},
		ExplicitVRLittleEndian:         {FamilyUncompressed, true, false, false, false, true},
		ExplicitVRBigEndian:            {FamilyUncompressed, true, true, false, false, true},
		DeflatedExplicitVRLittleEndian: {FamilyDeflate, true, false, true, false, true},
		"1.2.840.10008.1.2.1.98":       {FamilyUncompressed, true, false, false, true, true},
		"1.2.840.10008.1.2.8.1":        {FamilyDeflate, true, false, false, true, true},
		"1.2.840.10008.1.2.4.50":       {FamilyJPEG, true, false, false, true, true},
		"1.2.840.10008.1.2.4.66":       {FamilyJPEG, true, false, false, true, true},
		"1.2.840.10008.1.2.4.81":       {FamilyJPEGLS, true, false, false, true, true},
		"1.2.840.10008.1.2.4.93":       {FamilyJPEG2000, true, false, false, true, true},
		"1.2.840.10008.1.2.4.201":      {FamilyHTJ2K, true, false, false, true, true},
		"1.2.840.10008.1.2.4.112":      {FamilyJPEGXL, true, false, false, true, true},
		"1.2.840.10008.1.2.5":          {FamilyRLE, true, false, false, true, true},
		"1.2.840.10008.1.2.4.101.1":    {FamilyMPEG2, true, false, false, true, true},
		"1.2.840.10008.1.2.4.106":      {FamilyMPEG4, true, false, false, true, true},
		"1.2.840.10008.1.2.4.108":      {FamilyHEVC, true, false, false, true, true},
		"1.2.840.10008.1.2.4.94":       {FamilyJPIP, true, false, false, false, false},
		"1.2.840.10008.1.2.4.205":      {FamilyJPIP, true, false, true, false, false},
		"1.2.840.10008.1.2.6.1":        {FamilyOther, false, false, false, false, false},
		"1.2.840.10008.1.2.7.3":        {FamilySMPTE2110, true, false, false, false, false},
		"1.2.840.113619.5.2":           {FamilyPrivate, false, false, false, false, false},
	} {
		ts, ok := LookupTransferSyntax(uid)
		got := flags{ts.Family, ts.ExplicitVR, ts.BigEndian, ts.Deflated, ts.Encapsulated, ts.Storable()}
		if !ok || got != want {
			t.Errorf("%s: found %v, %+v, want %+v", uid, ok, got, want)
		}
	}
	if _, ok := LookupTransferSyntax("1.2.840.10008.1.2.4"); ok {
		t.Error("prefix UID found")
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"1.2.840.10008.1.1": true, "0": true, "1.0.3": true, strings.Repeat("1", 64): true,
		"": false, "1..2": false, ".1": false, "1.": false, "1.02": false, "1.2a": false,
		"1.2 ": false, strings.Repeat("1", 65): false, "1.-2": false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) = %v", s, !want)
		}
	}
}
