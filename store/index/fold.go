package index

import (
	"strings"
	"unicode"
)

// Searching the study list is case-insensitive, accent-insensitive and
// Unicode-aware, which SQLite's LIKE (ASCII-only folding) is not. Each study
// keeps search_text: the folded text of the fields the filter looks at; the
// filter is folded the same way and every whitespace-separated term must be a
// substring of it (instr). Folding, in Go:
//   - lower case (strings.ToLower, full Unicode),
//   - Latin letters with diacritics to their base letters (é -> e, ß -> ss),
//     Greek without tonos and with one sigma, Cyrillic ё as е, and combining
//     marks dropped, so "jerome", "JÉRÔME" and a decomposed
//     "Je\u0301ro\u0302me" all find "Jérôme",
//   - full-width ASCII (common in Japanese input) to ASCII.
// A person name's '^' and '=' separators become spaces, and each component
// group is added once more with the separators removed, so "yamada taro",
// "山田 太郎" and "山田太郎" all find "Yamada^Taro=山田^太郎".

// latinFold maps precomposed Latin letters (lower case) to ASCII.
var latinFold = func() map[rune]string {
	m := map[rune]string{}
	for base, letters := range map[string]string{
		"a": "àáâãäåāăąǎǻạảấầẩẫậắằẳẵặ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęěẹẻẽếềểễệ",
		"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįıǐỉị", "j": "ĵ", "k": "ķ", "l": "ĺļľŀł",
		"n": "ñńņňŉ", "o": "òóôõöøōŏőơǒǿọỏốồổỗộớờởỡợ", "r": "ŕŗř", "s": "śŝşšș",
		"t": "ţťŧț", "u": "ùúûüũūŭůűųưǔǖǘǚǜụủứừửữự", "w": "ŵ", "y": "ýÿŷỳỵỷỹ", "z": "źżž",
		"ss": "ß", "ae": "æǽ", "oe": "œ", "th": "þ", "ij": "ĳ",
		// Greek (ISO_IR 126): tonos and dialytika dropped, final sigma as sigma.
		"α": "ά", "ε": "έ", "η": "ή", "ι": "ίϊΐ", "ο": "ό", "υ": "ύϋΰ", "ω": "ώ", "σ": "ς",
		// Cyrillic: ё is commonly typed as е.
		"е": "ё",
	} {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

// fold returns s folded for searching (see above).
func fold(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
			// combining mark: dropped
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			b.WriteRune(unicode.ToLower(r - 0xFEE0))
		case r == 0x3000: // ideographic space
			b.WriteByte(' ')
		default:
			if f, ok := latinFold[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// searchText builds studies.search_text from the patient ID, the patient name
// (DICOM PN, all component groups) and the other searchable fields.
func searchText(patientID, patientName string, more ...string) string {
	parts := []string{fold(patientID)}
	name := fold(patientName)
	if name != "" {
		parts = append(parts, strings.Join(strings.FieldsFunc(name, isPNSep), " "))
		for _, group := range strings.Split(name, "=") {
			if joined := strings.Join(strings.FieldsFunc(group, isPNSep), ""); joined != "" {
				parts = append(parts, joined)
			}
		}
	}
	for _, m := range more {
		if f := strings.TrimSpace(fold(m)); f != "" {
			parts = append(parts, f)
		}
	}
	// A separator no term can contain keeps a term from matching across fields.
	return strings.Join(parts, "\x1f")
}

func isPNSep(r rune) bool { return r == '^' || r == '=' || unicode.IsSpace(r) }

// maxTerms bounds the filter terms used (the rest are ignored), and so the
// number of SQL parameters a typed filter can produce.
const maxTerms = 16

// filterTerms splits a user's filter into folded terms (AND-ed).
func filterTerms(filter string) []string {
	terms := strings.FieldsFunc(fold(filter), isPNSep)
	return terms[:min(len(terms), maxTerms)]
}
