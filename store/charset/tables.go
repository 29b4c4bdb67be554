package charset

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// codeSet is one graphic character set (a "code element" in ISO 2022 terms)
// that can be designated to G0 or G1 (PS3.3 Tables C.12-2 to C.12-4).
type codeSet uint8

const (
	setNone     codeSet = iota
	setASCII            // ISO-IR 6, G0
	setRomaji           // ISO-IR 14, JIS X 0201 Romaji, G0
	setJISX0208         // ISO-IR 87, G0, two bytes per character
	setJISX0212         // ISO-IR 159, G0, two bytes per character
	setKatakana         // ISO-IR 13, JIS X 0201 Katakana, G1
	setKSX1001          // ISO-IR 149, G1, two bytes per character
	setGB2312           // ISO-IR 58, G1, two bytes per character
	setLatin1           // ISO-IR 100, G1 (96-character sets from here on)
	setLatin2           // ISO-IR 101
	setLatin3           // ISO-IR 109
	setLatin4           // ISO-IR 110
	setCyrillic         // ISO-IR 144
	setArabic           // ISO-IR 127
	setGreek            // ISO-IR 126
	setHebrew           // ISO-IR 138
	setLatin5           // ISO-IR 148
	setLatin9           // ISO-IR 203
	setThai             // ISO-IR 166 (TIS 620-2533)
	numSets
)

// setInfo describes a code set: its name for warnings, the final bytes of the
// escape sequence that designates it (after ESC), where it goes, and how its
// bytes map to Unicode.
type setInfo struct {
	name string
	esc  string           // intermediate and final bytes after ESC
	g1   bool             // designated to G1 (else G0)
	wide bool             // 94x94 set, two bytes per character
	cm   *charmap.Charmap // for 96-character sets: the upper half of this map
}

var sets = [numSets]setInfo{
	setNone:     {name: "none"},
	setASCII:    {name: "ISO-IR 6 (ASCII)", esc: "(B"},
	setRomaji:   {name: "ISO-IR 14 (JIS X 0201 Romaji)", esc: "(J"},
	setJISX0208: {name: "ISO-IR 87 (JIS X 0208)", esc: "$B", wide: true},
	setJISX0212: {name: "ISO-IR 159 (JIS X 0212)", esc: "$(D", wide: true},
	setKatakana: {name: "ISO-IR 13 (JIS X 0201 Katakana)", esc: ")I", g1: true},
	setKSX1001:  {name: "ISO-IR 149 (KS X 1001)", esc: "$)C", g1: true, wide: true},
	setGB2312:   {name: "ISO-IR 58 (GB 2312)", esc: "$)A", g1: true, wide: true},
	setLatin1:   {name: "ISO-IR 100 (Latin-1)", esc: "-A", g1: true, cm: charmap.ISO8859_1},
	setLatin2:   {name: "ISO-IR 101 (Latin-2)", esc: "-B", g1: true, cm: charmap.ISO8859_2},
	setLatin3:   {name: "ISO-IR 109 (Latin-3)", esc: "-C", g1: true, cm: charmap.ISO8859_3},
	setLatin4:   {name: "ISO-IR 110 (Latin-4)", esc: "-D", g1: true, cm: charmap.ISO8859_4},
	setCyrillic: {name: "ISO-IR 144 (Cyrillic)", esc: "-L", g1: true, cm: charmap.ISO8859_5},
	setArabic:   {name: "ISO-IR 127 (Arabic)", esc: "-G", g1: true, cm: charmap.ISO8859_6},
	setGreek:    {name: "ISO-IR 126 (Greek)", esc: "-F", g1: true, cm: charmap.ISO8859_7},
	setHebrew:   {name: "ISO-IR 138 (Hebrew)", esc: "-H", g1: true, cm: charmap.ISO8859_8},
	setLatin5:   {name: "ISO-IR 148 (Latin-5)", esc: "-M", g1: true, cm: charmap.ISO8859_9},
	setLatin9:   {name: "ISO-IR 203 (Latin-9)", esc: "-b", g1: true, cm: charmap.ISO8859_15},
	// Windows-874 is TIS-620 plus a few characters in 0x80-0x9F; its upper
	// half 0xA0-0xFF is exactly ISO-IR 166 (undefined bytes decode to U+FFFD
	// and are rejected as invalid).
	setThai: {name: "ISO-IR 166 (Thai)", esc: "-T", g1: true, cm: charmap.Windows874},
}

// escapeSet returns the code set designated by the escape sequence whose
// bytes after ESC are seq, or setNone if the sequence is not one DICOM uses.
// Besides the sequences of PS3.3 Tables C.12-3/C.12-4 it accepts the two
// other ISO 2022 spellings of JIS X 0208 (ESC $ @ for the 1978 edition and
// ESC $ ( B), which some Japanese writers emit.
func escapeSet(seq []byte) codeSet {
	switch string(seq) {
	case "$@", "$(B", "$(@":
		return setJISX0208
	}
	for s := setASCII; s < numSets; s++ {
		if sets[s].esc == string(seq) {
			return s
		}
	}
	return setNone
}

// wideTable maps the 94x94 cells of a two-byte set (row and column 0..93) to
// BMP code points; 0 marks an unassigned cell. It is built on first use from
// golang.org/x/text's EUC tables, so a process that never sees Korean text
// never pays for the Korean table.
type wideTable struct {
	once   sync.Once
	enc    encoding.Encoding
	prefix byte // EUC single-shift byte in front of the pair (0x8F for JIS X 0212)
	cells  [94 * 94]uint16
}

var wideTables = [numSets]*wideTable{
	// JIS X 0208 in EUC-JP is the JIS pair with the high bit set on both bytes.
	setJISX0208: {enc: japanese.EUCJP},
	// JIS X 0212 in EUC-JP is SS3 (0x8F) followed by the pair with high bits.
	setJISX0212: {enc: japanese.EUCJP, prefix: 0x8F},
	// KS X 1001 in G1 (GR) is byte for byte EUC-KR.
	setKSX1001: {enc: korean.EUCKR},
	// GB 2312 in G1 (GR) is EUC-CN, which GBK decodes.
	setGB2312: {enc: simplifiedchinese.GBK},
}

func (t *wideTable) build() {
	dec := t.enc.NewDecoder()
	var src [3]byte
	var dst [8]byte
	for row := 0; row < 94; row++ {
		for col := 0; col < 94; col++ {
			s := src[:0]
			if t.prefix != 0 {
				s = append(s, t.prefix)
			}
			s = append(s, 0xA1+byte(row), 0xA1+byte(col))
			dec.Reset()
			n, _, err := dec.Transform(dst[:], s, true)
			if err != nil {
				continue
			}
			r, size := utf8.DecodeRune(dst[:n])
			if size != n || r == utf8.RuneError || r > 0xFFFF {
				continue
			}
			t.cells[row*94+col] = uint16(r)
		}
	}
}

// wideRune decodes the two-byte character b1 b2 of set s. Both bytes are
// given without their high bit (0x21..0x7E); the result is 0 if the pair is
// out of range or unassigned.
func wideRune(s codeSet, b1, b2 byte) rune {
	if b1 < 0x21 || b1 > 0x7E || b2 < 0x21 || b2 > 0x7E {
		return 0
	}
	t := wideTables[s]
	t.once.Do(t.build)
	return rune(t.cells[int(b1-0x21)*94+int(b2-0x21)])
}
