package index

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

type person struct {
	id, name, acc, desc, date string
	mods                      []string
}

var people = []person{
	{"JP-0001", "Yamada^Tarou=山田^太郎=やまだ^たろう", "A100", "MRI BRAIN", "20240105", []string{"MR"}},
	{"FR-777", "Dupont^Jérôme", "F-2", "Thorax", "20240210", []string{"CT"}},
	{"CN-42", "王^小明", "C9", "Chest", "20231231", []string{"CR"}},
	{"US-1234567", "Smith^Anna", "XYZ-99", "Abdomen", "", []string{"US", "SR"}},
	{"DE-5", "Müller^Jürgen", "D-1", "Knie", "20240301", []string{"MR", "OT"}},
	{"GR-3", "ΠΑΠΑΔΟΠΟΥΛΟΣ^ΝΙΚΟΣ", "G-7", "Brain MR", "20220101", []string{"MR"}},
}

func putPeople(t *testing.T, db *DB) {
	n := 0
	for p, pp := range people {
		for s, m := range pp.mods {
			n++
			in := inst(pp.id, "S"+pp.id, fmt.Sprintf("S%s.%d", pp.id, s), fmt.Sprintf("I%s.%d", pp.id, s), n)
			in.PatientName, in.AccessionNumber, in.StudyDescription, in.StudyDate, in.Modality = pp.name, pp.acc, pp.desc, pp.date, m
			in.ReceivedAt = baseTime.Add(time.Duration(p) * time.Minute)
			mustPut(t, db, in)
		}
	}
}

func studyIDs(rows []Study) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.PatientID)
	}
	return ids
}

func TestStudiesFilter(t *testing.T) {
	db, _ := openTest(t, Options{})
	putPeople(t, db)
	for _, c := range []struct {
		q    StudyQuery
		want []string // patient IDs, newest received first
	}{
		{StudyQuery{}, []string{"GR-3", "DE-5", "US-1234567", "CN-42", "FR-777", "JP-0001"}},
		{StudyQuery{Filter: "王"}, []string{"CN-42"}},
		{StudyQuery{Filter: "小明"}, []string{"CN-42"}},
		{StudyQuery{Filter: "yamada"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "YAMADA"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "  Yamada   Tarou "}, []string{"JP-0001"}},
		{StudyQuery{Filter: "山田太郎"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "山田 太郎"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "やまだ"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "Ｙａｍａｄａ"}, []string{"JP-0001"}}, // full-width
		{StudyQuery{Filter: "Jérôme"}, []string{"FR-777"}},
		{StudyQuery{Filter: "JÉRÔME"}, []string{"FR-777"}},
		{StudyQuery{Filter: "jerome"}, []string{"FR-777"}},
		{StudyQuery{Filter: "Je\u0301ro\u0302me"}, []string{"FR-777"}}, // decomposed
		{StudyQuery{Filter: "muller"}, []string{"DE-5"}},
		{StudyQuery{Filter: "MÜLLER"}, []string{"DE-5"}},
		{StudyQuery{Filter: "παπαδόπουλος"}, []string{"GR-3"}},
		{StudyQuery{Filter: "23456"}, []string{"US-1234567"}},
		{StudyQuery{Filter: "us-123"}, []string{"US-1234567"}},
		{StudyQuery{Filter: "xyz-99"}, []string{"US-1234567"}},
		{StudyQuery{Filter: "brain"}, []string{"GR-3", "JP-0001"}},
		{StudyQuery{Filter: "yamada brain"}, []string{"JP-0001"}},
		{StudyQuery{Filter: "yamada thorax"}, nil},
		{StudyQuery{Filter: "sr"}, []string{"US-1234567"}}, // modality via the filter
		{StudyQuery{Filter: "nobody"}, nil},
		{StudyQuery{Modality: "mr"}, []string{"GR-3", "DE-5", "JP-0001"}},
		{StudyQuery{Modality: "SR"}, []string{"US-1234567"}},
		{StudyQuery{Modality: "M"}, nil},
		{StudyQuery{Modality: "MR", Filter: "brain"}, []string{"GR-3", "JP-0001"}},
		{StudyQuery{DateFrom: "20240101", DateTo: "20240229"}, []string{"FR-777", "JP-0001"}},
		{StudyQuery{DateFrom: "2024-02-01"}, []string{"DE-5", "FR-777"}},
		{StudyQuery{DateTo: "20231231"}, []string{"GR-3", "CN-42"}},
		{StudyQuery{DateFrom: "20240105", DateTo: "20240105"}, []string{"JP-0001"}},
	} {
		rows, total, err := db.Studies(ctx, c.q)
		if err != nil {
			t.Errorf("%+v: %v", c.q, err)
			continue
		}
		if got := studyIDs(rows); !reflect.DeepEqual(got, c.want) || total != len(c.want) {
			t.Errorf("%+v: got %q (total %d), want %q", c.q, got, total, c.want)
		}
	}
	rows, _, _ := db.Studies(ctx, StudyQuery{Filter: "knie"})
	if len(rows) != 1 || rows[0].Modalities != `MR\OT` || rows[0].SeriesCount != 2 || rows[0].InstanceCount != 2 {
		t.Errorf("study row %+v", rows)
	}
	if _, _, err := db.Studies(ctx, StudyQuery{DateFrom: "2024"}); err == nil {
		t.Error("bad date accepted")
	}
	if _, _, err := db.Studies(ctx, StudyQuery{Sort: 99}); err == nil {
		t.Error("bad sort column accepted")
	}
}

// key returns the sort key of a study for a column, as the SQL compares it.
func key(c StudyColumn, s Study) string {
	asciiLower := func(v string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' {
				return r + 32
			}
			return r
		}, v)
	}
	switch c {
	case SortPatientName:
		return asciiLower(s.PatientName)
	case SortPatientID:
		return s.PatientID
	case SortStudyDate:
		return s.StudyDate + "\x00" + s.StudyTime
	case SortModalities:
		return s.Modalities
	case SortDescription:
		return asciiLower(s.Description)
	case SortAccession:
		return s.AccessionNumber
	case SortSeries:
		return fmt.Sprintf("%09d", s.SeriesCount)
	case SortInstances:
		return fmt.Sprintf("%09d", s.InstanceCount)
	case SortSize:
		return fmt.Sprintf("%019d", s.SizeBytes)
	case SortSourceAE:
		return s.SourceAE
	case SortLastReceived, SortDefault:
		return s.LastReceived.Format(timeFormat)
	}
	panic(c)
}

func TestStudiesSortAndPaging(t *testing.T) {
	db, _ := openTest(t, Options{})
	// 40 studies with varied values; some series and instance counts repeat
	// so the id tie-break is exercised.
	names := []string{"adams^x", "Baker^y", "王^a", "Østergaard^b", "zed", "", "MÜLLER", "müller"}
	n := 0
	for s := range 40 {
		for i := range 1 + s%4 {
			n++
			in := inst(fmt.Sprintf("ID%02d", (s*7)%40), fmt.Sprintf("ST%d", s), fmt.Sprintf("ST%d.%d", s, i%2), fmt.Sprintf("I%d.%d", s, i), n)
			in.PatientName, in.StudyDescription = names[s%len(names)], names[(s+3)%len(names)]
			in.AccessionNumber, in.StudyDate, in.StudyTime = fmt.Sprint(s%5), fmt.Sprintf("2024%02d01", 1+s%12), fmt.Sprint(s%3)
			in.Modality, in.CallingAE = []string{"CT", "MR", "US"}[(s+i)%3], fmt.Sprint("AE", s%6)
			in.ReceivedAt = baseTime.Add(time.Duration((s*13)%40) * time.Minute)
			mustPut(t, db, in)
		}
	}
	checkInvariants(t, db)
	for c := SortDefault; c <= SortLastReceived; c++ {
		for _, desc := range []bool{false, true} {
			all, total, err := db.Studies(ctx, StudyQuery{Sort: c, Desc: desc, Limit: 1000})
			if err != nil || total != 40 || len(all) != 40 {
				t.Fatalf("sort %d: %d rows, total %d, %v", c, len(all), total, err)
			}
			keys := make([]string, len(all))
			for i, s := range all {
				keys[i] = key(c, s)
			}
			sorted := slices.IsSorted(keys)
			if desc || c == SortDefault {
				slices.Reverse(keys)
				sorted = slices.IsSorted(keys)
			}
			if !sorted {
				t.Errorf("sort %d desc=%v not ordered: %q", c, desc, keys)
			}
			// Pages of 7 put together give the same list.
			var paged []Study
			for off := 0; off < total; off += 7 {
				page, tot, err := db.Studies(ctx, StudyQuery{Sort: c, Desc: desc, Offset: off, Limit: 7})
				if err != nil || tot != 40 {
					t.Fatalf("page at %d: %v %d", off, err, tot)
				}
				paged = append(paged, page...)
			}
			if !reflect.DeepEqual(paged, all) {
				t.Errorf("sort %d desc=%v: pages differ from the whole list", c, desc)
			}
		}
	}
	if rows, total, _ := db.Studies(ctx, StudyQuery{Offset: 40}); rows != nil || total != 40 {
		t.Errorf("past the end: %d rows, total %d", len(rows), total)
	}
	if rows, _, _ := db.Studies(ctx, StudyQuery{}); len(rows) != 40 {
		t.Errorf("default page size gave %d", len(rows))
	}
	if rows, _, _ := db.Studies(ctx, StudyQuery{Limit: 3, Offset: -5}); len(rows) != 3 {
		t.Errorf("limit 3 gave %d", len(rows))
	}
}

// Both ways of finding a filtered page give the rows of the unfiltered list
// that match, in the same order.
func TestStudiesFilteredPagingStrategies(t *testing.T) {
	db, _ := openTest(t, Options{})
	names := []string{"Adams^Ann", "Baker^Bob", "Müller^Max", "Østergaard^Ole", "Zed"}
	for s := range 60 {
		in := inst(fmt.Sprint("ID", s), fmt.Sprint("ST", s), fmt.Sprint("SE", s), fmt.Sprint("I", s), s)
		in.PatientName, in.StudyDescription, in.AccessionNumber = names[s%len(names)], "", ""
		in.ReferringPhysician, in.StudyID, in.Modality = "", "", []string{"CT", "MR"}[s%2]
		in.SizeBytes = int64(s % 7)
		in.ReceivedAt = baseTime.Add(time.Duration((s*17)%60) * time.Second)
		mustPut(t, db, in)
	}
	defer func() { forceCollect = nil }()
	for _, term := range []string{"adams", "MULLER", "ostergaard", "zed", "o"} {
		for _, sort := range []StudyColumn{SortDefault, SortPatientName, SortSize} {
			all, _, err := db.Studies(ctx, StudyQuery{Sort: sort, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var want []Study
			for _, s := range all {
				if strings.Contains(fold(s.PatientName), fold(term)) {
					want = append(want, s)
				}
			}
			for _, collect := range []bool{false, true} {
				forceCollect = &collect
				var got []Study
				for off := 0; off < 60; off += 5 {
					page, total, err := db.Studies(ctx, StudyQuery{Filter: term, Sort: sort, Offset: off, Limit: 5})
					if err != nil || total != len(want) {
						t.Fatalf("%q sort %v collect=%v: total %d want %d, %v", term, sort, collect, total, len(want), err)
					}
					got = append(got, page...)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%q sort %v collect=%v: %v, want %v", term, sort, collect, studyIDs(got), studyIDs(want))
				}
			}
		}
	}
}

func TestStudyColumnString(t *testing.T) {
	if SortDefault.String() != "Default" || SortLastReceived.String() != "LastReceived" || StudyColumn(99).String() != "StudyColumn(99)" {
		t.Error(SortDefault, SortLastReceived, StudyColumn(99))
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"JÉRÔME": "jerome", "Straße": "strasse", "ŁÓDŹ": "lodz", "Ｙａｍａｄａ　太郎": "yamada 太郎",
		"İstanbul": "istanbul", "Ærø": "aero", "Nguyễn": "nguyen", "王": "王", "ΚΏΣΤΑΣ": "κωστασ", "κώστας": "κωστασ",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	got := searchText("ID1", "Yamada^Tarou=山田^太郎", "ACC")
	if want := "id1\x1fyamada tarou 山田 太郎\x1fyamadatarou\x1f山田太郎\x1facc"; got != want {
		t.Errorf("searchText = %q, want %q", got, want)
	}
}
