package charset

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeCase is one value: its raw bytes under a (0008,0005) value, the
// expected UTF-8, and a fragment that must appear in the warnings ("" = none).
type decodeCase struct {
	name, scs, vr, raw, want, warn string
}

// Bytes of PS3.5 Annex H (Japanese), I (Korean), J (UTF-8, GB18030) and K
// (GB 2312) examples and of the D. Clunie character set samples, written out
// by hand; the single-byte cases come from the ISO 8859 / TIS-620 tables.
var decodeCases = []decodeCase{
	// Annex H: Japanese.
	{"H.3.1 IR 87", `\ISO 2022 IR 87`, "PN",
		"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
		"Yamada^Tarou=山田^太郎=やまだ^たろう", ""},
	{"H.3.2 IR 13 and IR 87", `ISO 2022 IR 13\ISO 2022 IR 87`, "PN",
		"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
		"ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", ""},
	{"H.3.2 with ISO_IR 13 as value 1", `ISO_IR 13\ISO 2022 IR 87`, "PN",
		"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
		"ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", "not an ISO 2022 term"},
	{"ISO_IR 13 katakana", "ISO_IR 13", "PN", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3 ", "ﾔﾏﾀﾞ^ﾀﾛｳ", ""},
	{"ISO_IR 13 romaji yen and overline", "ISO_IR 13", "ST", "\x5c100 \x7e", "¥100 ‾", ""},
	{"ISO_IR 13 romaji value delimiter", "ISO_IR 13", "LO", "A\\B", `A\B`, ""},
	{"IR 87 multi-valued PN", `\ISO 2022 IR 87`, "PN",
		"\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B\\\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B ",
		`やまだ^たろう\やまだ^たろう`, ""},
	{"IR 87 explicit IR 6", `ISO 2022 IR 6\ISO 2022 IR 87`, "LT", "\x1b$B$?$m$&\x1b(B", "たろう", ""},
	{"IR 87 reset at CR LF", `\ISO 2022 IR 87`, "LT", "\x1b$B$?\r\n$?", "た\r\n$?", ""},
	{"IR 87 ESC $ @ spelling", `\ISO 2022 IR 87`, "LO", "\x1b$@;3ED\x1b(B", "山田", ""},
	{"IR 159 JIS X 0212", `\ISO 2022 IR 87\ISO 2022 IR 159`, "LO",
		"\x1b$(D0!\x1b(B \x1b$Br-\x1b(B", "丂 鬮", ""},
	{"IR 87 undeclared", "", "LO", "\x1b$B;3ED\x1b(B", "山田", "declares no code extensions"},
	{"IR 87 truncated pair", `\ISO 2022 IR 87`, "LO", "\x1b$B;", "\x1b$B;", "decoded as UTF-8"},
	{"unknown escape", `\ISO 2022 IR 87`, "LO", "\x1b$(Q!!\xff", "\x1b$(Q!!ÿ", "decoded as ISO_IR 100"},

	// Annex I: Korean.
	{"I.2 IR 149", `\ISO 2022 IR 149`, "PN",
		"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf",
		"Hong^Gildong=洪^吉洞=홍^길동", ""},
	{"IR 149 with ESC ( B", `\ISO 2022 IR 149`, "LT", "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B ", "김희중", ""},
	{"IR 149 designated once per value", `\ISO 2022 IR 149`, "PN",
		"\x1b$)C\xc8\xab^\xb1\xe6\xb5\xbf", "홍^길동", "kept in G1"},
	{"IR 149 as the only value (plain EUC-KR)", "ISO 2022 IR 149", "PN",
		"\xc8\xab^\xb1\xe6\xb5\xbf", "홍^길동", "designating it to G1"},

	// Annex J: UTF-8 and GB18030; Annex K: GB 2312 and GBK.
	{"J UTF-8", "ISO_IR 192", "PN", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=",
		"Wang^XiaoDong=王^小東", ""},
	{"UTF-8 multi-script", "ISO_IR 192", "LO",
		"Jérôme Διονυσιος Люксембург 山田 홍길동 قباني ไทย", "Jérôme Διονυσιος Люксембург 山田 홍길동 قباني ไทย", ""},
	{"J GB18030", "GB18030", "PN", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "Wang^XiaoDong=王^小东", ""},
	{"GB18030 four-byte", "GB18030", "LO", "\x95\x32\x82\x36", "𠀀", ""},
	{"GB18030 trail byte 0x5C is no delimiter", "GB18030", "LO", "\x81\x5c\\\x81\x5e ", `乗\乛`, ""},
	{"GB18030 trail byte 0x5E is no PN delimiter", "GB18030", "PN", "\x81\x5e^A", "乛^A", ""},
	{"GBK", "GBK", "PN", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "Wang^XiaoDong=王^小东", ""},
	{"K.2 IR 58", `\ISO 2022 IR 58`, "PN",
		"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=", "Zhang^XiaoDong=张^小东", ""},

	// Single-byte sets.
	{"Latin-1", "ISO_IR 100", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme", ""},
	{"Latin-1 misspelt", "ISO-IR 100", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme", `assuming "ISO_IR 100"`},
	{"Latin-2", "ISO_IR 101", "PN", "Wa\xb3\xeasa^Lech", "Wałęsa^Lech", ""},
	{"Latin-3", "ISO_IR 109", "LO", "\xa1a\xf5ar", "Ħaġar", ""},
	{"Latin-4", "ISO_IR 110", "LO", "\xa9\xf3\xbale", "Šķēle", ""},
	{"Cyrillic", "ISO_IR 144", "PN", "\xbb\xee\xdace\xdc\xd1yp\xd3", "Люкceмбypг", ""},
	{"Arabic", "ISO_IR 127", "PN", "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1", "قباني^لنزار", ""},
	{"Greek", "ISO_IR 126", "PN", "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Διονυσιος", ""},
	{"Hebrew", "ISO_IR 138", "PN", "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", "שרון^דבורה", ""},
	{"Latin-5", "ISO_IR 148", "PN", "\xc7a\xf0lar^\xd6mer", "Çağlar^Ömer", ""},
	{"Latin-9", "ISO_IR 203", "LO", "Euro\xa4^\xbcuvre", "Euro€^Œuvre", ""},
	{"Thai", "ISO_IR 166", "PN", "\xb9\xd2\xc1\xca\xa1\xd8\xc5^\xaa\xd7\xe8\xcd", "นามสกุล^ชื่อ", ""},
	{"Thai undefined byte", "ISO_IR 166", "LO", "\xdb", "Û", "decoded as ISO_IR 100"},
	{"Latin-1 then Greek", `ISO 2022 IR 100\ISO 2022 IR 126`, "PN",
		"Dionysios=\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Dionysios=Διονυσιος", ""},
	{"G1 reset at ^", `ISO 2022 IR 100\ISO 2022 IR 126`, "PN", "\x1b-F\xc4^\xe9", "Δ^é", ""},
	{"G1 not reset inside LO", `ISO 2022 IR 100\ISO 2022 IR 126`, "LO", "\x1b-F\xc4^\xe9", "Δ^ι", ""},
	{"G1 reset at value delimiter", `ISO 2022 IR 100\ISO 2022 IR 126`, "LO", "\x1b-F\xc4\\\xe9", `Δ\é`, ""},

	// Fallbacks.
	{"no charset, Latin-1 bytes", "", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme", "decoded as ISO_IR 100"},
	{"no charset, UTF-8 bytes", "", "PN", "Buc^Jérôme", "Buc^Jérôme", "decoded as UTF-8"},
	{"unknown term", "ISO_IR 999", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme", "unknown Specific Character Set term"},
	{"UTF-8 declared, Latin-1 bytes", "ISO_IR 192", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme", "decoded as ISO_IR 100"},
	{"GB18030 declared, invalid", "GB18030", "LO", "A\x81 ", "A\u0081", "decoded as ISO_IR 100"},
	{"KS X 1001 unassigned pair", `\ISO 2022 IR 149`, "LO", "\x1b$)C\xa2\xf0", "\x1b$)C¢ð", "decoded as ISO_IR 100"},

	// Trimming and delimiters.
	{"ASCII PN", "ISO_IR 100", "PN", "Doe^John^^^ ", "Doe^John^^^", ""},
	{"PN trailing empty groups", "", "PN", "A== ", "A", ""},
	{"PN keeps empty components", "", "PN", "^^^^", "^^^^", ""},
	{"PN keeps leading spaces", "", "PN", " Doe", " Doe", ""},
	{"PN blank", "ISO_IR 100", "PN", "  ", "", ""},
	{"LO leading and trailing spaces", "", "LO", "  ID 7  ", "ID 7", ""},
	{"LO multi-valued", "ISO_IR 100", "LO", "eggs \\ spam ", `eggs\spam`, ""},
	{"UC keeps leading spaces", "", "UC", " a \\ b ", ` a\ b`, ""},
	{"ST keeps backslash", "", "ST", " a\\b \x00", ` a\b`, ""},
	{"UI trailing NUL", "GB18030", "UI", "1.2.3\x00", "1.2.3", ""},
	{"CS ignores the charset", "ISO_IR 100", "CS", "ORIGINAL\\PRIMARY ", `ORIGINAL\PRIMARY`, ""},
	{"CS high byte", "ISO_IR 192", "CS", "\xe9", "é", "default repertoire"},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			d := New(tc.scs)
			got := d.Decode([]byte(tc.raw), tc.vr)
			if got != tc.want {
				t.Errorf("Decode(%q, %s) under %q = %q, want %q", tc.raw, tc.vr, tc.scs, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result %q is not valid UTF-8", got)
			}
			ws := d.Warnings()
			joined := strings.Join(ws, "\n")
			switch {
			case tc.warn == "" && len(ws) > 0:
				t.Errorf("unexpected warnings: %q", ws)
			case tc.warn != "" && !strings.Contains(joined, tc.warn):
				t.Errorf("warnings %q do not mention %q", ws, tc.warn)
			}
		})
	}
}

func TestNilDecoder(t *testing.T) {
	var d *Decoder
	if got := d.Decode([]byte("Doe^John "), "PN"); got != "Doe^John" {
		t.Errorf("nil Decoder: got %q", got)
	}
	if got := d.Decode([]byte("J\xe9r\xf4me"), "PN"); got != "Jérôme" {
		t.Errorf("nil Decoder, Latin-1 bytes: got %q", got)
	}
	if w := d.Warnings(); w != nil {
		t.Errorf("nil Decoder warnings: %q", w)
	}
}

func TestNewWarnings(t *testing.T) {
	cases := []struct {
		scs  string
		warn string // "" = no warning expected
	}{
		{"", ""},
		{"ISO_IR 100", ""},
		{"ISO_IR 100 ", ""},
		{`\ISO 2022 IR 87`, ""},
		{`ISO 2022 IR 6\ISO 2022 IR 87\ISO 2022 IR 159`, ""},
		{`ISO 2022 IR 13\ISO 2022 IR 87`, ""},
		{"GB18030", ""},
		{"ISO-IR 100", "invalid Specific Character Set term"},
		{"iso ir 192", `assuming "ISO_IR 192"`},
		{"ISO_IR 999", "unknown Specific Character Set term"},
		{`\ISO 2022 IR 999`, "ignoring it"},
		{`ISO_IR 192\ISO 2022 IR 87`, "allows no code extensions"},
		{`ISO 2022 IR 100\GB18030`, "cannot be a code extension"},
		{"ISO 2022 IR 87", "starting in ASCII"},
		{`ISO_IR 13\ISO 2022 IR 87`, "not an ISO 2022 term"},
	}
	for _, tc := range cases {
		ws := New(tc.scs).Warnings()
		joined := strings.Join(ws, "\n")
		if tc.warn == "" && len(ws) > 0 || tc.warn != "" && !strings.Contains(joined, tc.warn) {
			t.Errorf("New(%q) warnings %q, want mention of %q", tc.scs, ws, tc.warn)
		}
	}
}

func TestWarningsBoundedAndDeduplicated(t *testing.T) {
	d := New("ISO_IR 192")
	for i := 0; i < 10; i++ {
		d.Decode([]byte("\xff"), "LO")
	}
	if n := len(d.Warnings()); n != 1 {
		t.Errorf("got %d warnings for one repeated problem, want 1", n)
	}
	for i := 0; i < 100; i++ {
		d.warn("problem %d", i)
	}
	if n := len(d.Warnings()); n != maxWarnings {
		t.Errorf("got %d warnings, want the cap %d", n, maxWarnings)
	}
}

// TestConcurrentDecode runs one Decoder from several goroutines; run with
// -race.
func TestConcurrentDecode(t *testing.T) {
	d := New(`\ISO 2022 IR 149`)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				if got := d.Decode([]byte("\x1b$)C\xc8\xab^\xb1\xe6\xb5\xbf"), "PN"); got != "홍^길동" {
					t.Errorf("got %q", got)
					return
				}
				d.Warnings()
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestWideTables checks a few cells of each two-byte table, including the
// first and last row, against the code charts.
func TestWideTables(t *testing.T) {
	cases := []struct {
		set    codeSet
		b1, b2 byte
		want   rune
	}{
		{setJISX0208, 0x21, 0x21, '\u3000'}, // ideographic space
		{setJISX0208, 0x30, 0x21, '亜'},
		{setJISX0208, 0x74, 0x26, '熙'},
		{setJISX0212, 0x30, 0x21, '丂'},
		{setKSX1001, 0x30, 0x21, '가'},
		{setKSX1001, 0x7D, 0x7E, '詰'},
		{setGB2312, 0x30, 0x21, '啊'},
		{setGB2312, 0x77, 0x7E, '齄'},
		{setJISX0208, 0x7F, 0x21, 0}, // out of range
		{setKSX1001, 0x22, 0x70, 0},  // unassigned
	}
	for _, tc := range cases {
		if got := wideRune(tc.set, tc.b1, tc.b2); got != tc.want {
			t.Errorf("%s %02X%02X = %U, want %U", sets[tc.set].name, tc.b1, tc.b2, got, tc.want)
		}
	}
}
