package charset

import "unicode/utf8"

// esc introduces an ISO 2022 escape sequence.
const esc = 0x1B

// isDelim reports whether byte b, read as a single-byte character, restores
// the initial designations (PS3.5 6.1.2.5.3): any control character (CR, LF,
// TAB, FF...), the value delimiter '\' except in ST/LT/UT, and the PN
// delimiters '^' and '='.
func isDelim(b byte, kind vrKind) bool {
	switch {
	case b < 0x20:
		return b != esc
	case b == '\\':
		return kind != kindText
	case b == '^' || b == '=':
		return kind == kindPN
	}
	return false
}

// parseEscape reads the escape sequence at the start of b (b[0] == ESC):
// intermediate bytes 0x20-0x2F and one final byte 0x30-0x7E (ISO 2022
// section 13). It returns the designated set and the sequence length, or
// setNone if the sequence is truncated or not one DICOM uses.
func parseEscape(b []byte) (codeSet, int) {
	i := 1
	for i < len(b) && i <= 3 && b[i] >= 0x20 && b[i] <= 0x2F {
		i++
	}
	if i == 1 || i >= len(b) || b[i] < 0x30 || b[i] > 0x7E {
		return setNone, 0
	}
	return escapeSet(b[1 : i+1]), i + 1
}

// state is the current G0/G1 designation while decoding one value.
type state struct {
	p       *profile
	g0, g1  codeSet
	carried bool // g1 was kept across a delimiter although value 1 has no G1 set
}

// reset restores the designations of value 1 at a delimiter. When value 1
// designates no G1 set, the current G1 set is kept (see the package comment);
// conformant data never relies on G1 being empty after a delimiter, because a
// byte above 0x7F with no G1 set is invalid anyway.
func (s *state) reset() {
	s.g0 = s.p.g0
	if s.p.g1 != setNone || s.g1 == setNone {
		s.g1, s.carried = s.p.g1, false
		return
	}
	s.carried = true
}

// decode2022 decodes raw with the ISO 2022 code extension rules of PS3.5
// 6.1.2.5: G0 is invoked in GL (0x21-0x7E) and G1 in GR (0xA0-0xFF), and
// escape sequences change the designations. It reports false if raw holds a
// byte or pair that the designated set does not define, or an escape
// sequence it does not know; the caller then falls back.
func (d *Decoder) decode2022(raw []byte, kind vrKind, p *profile) ([]byte, bool) {
	out := make([]byte, 0, 3*len(raw))
	st := state{p: p, g0: p.g0, g1: p.g1}
	for i := 0; i < len(raw); {
		b := raw[i]
		switch {
		case b == esc:
			set, n := parseEscape(raw[i:])
			if set == setNone {
				return out, false
			}
			if !p.ext {
				d.warn("escape sequence in a value although Specific Character Set %s declares no code extensions", quote(d.spec))
			} else if !p.declares(set) {
				d.warn("escape sequence designates %s, which Specific Character Set %s does not declare", sets[set].name, quote(d.spec))
			}
			if sets[set].g1 {
				st.g1, st.carried = set, false
			} else {
				st.g0 = set
			}
			i += n
		case b <= 0x20 || b == 0x7F:
			// Space, control characters and DEL are the same in every set.
			out = append(out, b)
			if isDelim(b, kind) {
				st.reset()
			}
			i++
		case b < 0x80 && sets[st.g0].wide:
			if i+1 >= len(raw) {
				return out, false
			}
			r := wideRune(st.g0, b, raw[i+1])
			if r == 0 {
				return out, false
			}
			out = utf8.AppendRune(out, r)
			i += 2
		case b < 0x80:
			if isDelim(b, kind) {
				out = append(out, b)
				st.reset()
			} else {
				out = appendGL(out, b, st.g0)
			}
			i++
		default:
			n, r := decodeGR(raw[i:], st.g1)
			if n == 0 {
				return out, false
			}
			if st.carried {
				d.warn("%s kept in G1 across a delimiter; Specific Character Set %s requires re-designation", sets[st.g1].name, quote(d.spec))
				st.carried = false
			}
			out = utf8.AppendRune(out, r)
			i += n
		}
	}
	return out, true
}

// appendGL appends the single-byte GL character b (0x21-0x7E) of G0 set g0.
// JIS X 0201 Romaji differs from ASCII in two places: 0x5C is YEN SIGN (where
// it is not the value delimiter) and 0x7E is OVERLINE, as in DCMTK and
// dcm4che; pydicom's shift_jis codec maps them to '\' and '~'.
func appendGL(out []byte, b byte, g0 codeSet) []byte {
	if g0 == setRomaji {
		switch b {
		case 0x5C:
			return utf8.AppendRune(out, '\u00A5')
		case 0x7E:
			return utf8.AppendRune(out, '\u203E')
		}
	}
	return append(out, b)
}

// decodeGR decodes the character at the start of b (b[0] >= 0x80) in G1 set
// g1. It returns the number of bytes used, or 0 if they are not valid.
func decodeGR(b []byte, g1 codeSet) (int, rune) {
	c := b[0]
	info := &sets[g1]
	switch {
	case info.cm != nil:
		if r := info.cm.DecodeByte(c); r != utf8.RuneError {
			return 1, r
		}
	case g1 == setKatakana:
		if c >= 0xA1 && c <= 0xDF {
			return 1, rune(c-0xA1) + 0xFF61
		}
	case info.wide:
		if len(b) >= 2 && b[1] >= 0x80 {
			if r := wideRune(g1, c&0x7F, b[1]&0x7F); r != 0 {
				return 2, r
			}
		}
	}
	return 0, 0
}
