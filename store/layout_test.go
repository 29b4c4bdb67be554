package store

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var componentRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}[A-Za-z0-9_-]$|^[A-Za-z0-9_-]$`)

func TestSanitize(t *testing.T) {
	long := "1.2.840." + strings.Repeat("1234567890", 30) // 308 bytes
	tests := []struct {
		in, want string // want "" means: prefix + hash suffix, checked below
		prefix   string
		top      bool
	}{
		{in: "1.2.840.10008.5.1.4.1.1.2", want: "1.2.840.10008.5.1.4.1.1.2"},
		{in: "PAT-01_a.b", want: "PAT-01_a.b"},
		{in: "  1.2.3\x00", want: "1.2.3"}, // padding is not part of the value
		{in: "", want: noStudyUID},
		{in: "   ", want: noStudyUID},
		{in: ".", prefix: "_"},
		{in: "..", prefix: "__"},
		{in: "...x", prefix: "___x"},
		{in: "x.", prefix: "x_"},
		{in: ".incoming", prefix: "_incoming"},
		{in: "/etc/x", prefix: "_etc_x"},
		{in: "a/../../b", prefix: "a_.._.._b"},
		{in: `..\..\windows`, prefix: "___.._windows"},
		{in: "1.2\x003", prefix: "1.2_3"},
		{in: "a\x00/\x00..", prefix: "a_____"},
		{in: "Müller", prefix: "M_ller"},
		{in: "王^小東", prefix: "____"},
		{in: "\xff\xfe", prefix: "__"},
		{in: "CON", prefix: "CON"},
		{in: "nul.txt", prefix: "nul.txt"},
		{in: "COM1", prefix: "COM1"},
		{in: "index.db", want: "index.db"},
		{in: "index.db", prefix: "index.db", top: true},
		{in: "INDEX.DB-wal", prefix: "INDEX.DB-wal", top: true},
		{in: long, prefix: long[:maxComponent-hashSuffixLen]},
		{in: strings.Repeat("9", 64), want: strings.Repeat("9", 64)},
		{in: strings.Repeat("9", 65), prefix: strings.Repeat("9", 51)},
	}
	for _, tt := range tests {
		got := sanitize(tt.in, noStudyUID, tt.top)
		if tt.want != "" {
			if got != tt.want {
				t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		} else if !strings.HasPrefix(got, tt.prefix+"_") || len(got) != min(len(tt.prefix)+hashSuffixLen, maxComponent) {
			t.Errorf("sanitize(%q) = %q, want %q + hash suffix", tt.in, got, tt.prefix)
		}
		if !componentRE.MatchString(got) || got == "." || got == ".." || len(got) > maxComponent {
			t.Errorf("sanitize(%q) = %q is not a safe component", tt.in, got)
		}
		if _, _, err := resolve("/data", []string{got, got, got, got + fileExt}); err != nil {
			t.Errorf("resolve(%q): %v", got, err)
		}
	}
}

func TestSanitizeKeepsValuesApart(t *testing.T) {
	long := strings.Repeat("1.2.3.", 60)
	groups := [][]string{
		{"Müller", "Möller", "M_ller", "M?ller"},
		{long + "1", long + "2", long},
		{"a/b", "a\\b", "a_b", "a b"},
		{".", "..", "_"},
		{"", noPatientID + "x"},
	}
	for _, g := range groups {
		seen := map[string]string{}
		for _, v := range g {
			c := sanitize(v, noPatientID, true)
			if prev, ok := seen[c]; ok {
				t.Errorf("%q and %q both map to %q", prev, v, c)
			}
			seen[c] = v
		}
	}
}

func TestResolveRejectsEscapes(t *testing.T) {
	root := filepath.FromSlash("/data/inbox")
	for _, comps := range [][]string{
		{"..", "x"}, {"a", "..", "..", "b"}, {"/etc", "x"}, {"a/b"}, {`a\b`}, {"."}, {""}, {"a\x00b"},
	} {
		if abs, _, err := resolve(root, comps); err == nil {
			t.Errorf("resolve(%q) = %q, want an error", comps, abs)
		}
	}
	abs, rel, err := resolve(root, []string{"p", "st", "se", "i.dcm"})
	if err != nil || abs != filepath.Join(root, "p", "st", "se", "i.dcm") || rel != "p/st/se/i.dcm" {
		t.Errorf("resolve = %q, %q, %v", abs, rel, err)
	}
}

func TestLayoutBuckets(t *testing.T) {
	c := layout(Header{SOPInstanceUID: "1.2.3"})
	want := [4]string{noPatientID, noStudyUID, noSeriesUID, "1.2.3.dcm"}
	if c != want {
		t.Errorf("layout = %q, want %q", c, want)
	}
}
