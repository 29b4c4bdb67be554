package charset

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// vrKind groups VRs by how their values are delimited.
type vrKind uint8

const (
	kindMulti vrKind = iota // SH, LO, UC, ...: values separated by '\'
	kindPN                  // PN: values, component groups '=' and components '^'
	kindText                // ST, LT, UT: one value, '\' is a character
)

// vrRules returns how a value of VR vr is split and trimmed, and which
// profile decodes it: the Specific Character Set applies to SH, LO, UC, PN,
// ST, LT and UT (PS3.3 C.12.1.1.2) and to unknown VRs; the other string VRs
// (AE, AS, CS, DA, DS, DT, IS, TM, UI, UR) use the default repertoire.
// Leading spaces are insignificant for AE, CS, DS, IS, LO and SH (PS3.5
// Table 6.2-1) and are trimmed for them only; pydicom keeps them for LO and
// SH, which no corpus value depends on. PN keeps leading spaces as pydicom
// does, although CP-726 calls them insignificant: a name is indexed as sent,
// minus its padding.
func (d *Decoder) vrRules(vr string) (kind vrKind, leading bool, p *profile) {
	p = &defaultProfile
	if d != nil {
		p = &d.p
	}
	switch vr {
	case "PN":
		return kindPN, false, p
	case "ST", "LT", "UT":
		return kindText, false, p
	case "SH", "LO":
		return kindMulti, true, p
	case "AE", "CS", "DS", "IS":
		return kindMulti, true, &defaultProfile
	case "AS", "DA", "DT", "TM", "UI", "UR":
		return kindMulti, false, &defaultProfile
	}
	return kindMulti, false, p
}

// Decode converts the raw bytes of a value of VR vr ("PN", "LO", "SH", "ST",
// "LT", "UT", "UC", ...) to UTF-8. The result is always valid UTF-8.
//
// Escape sequences are interpreted per PS3.5 6.1.2.5: the designations of
// value 1 of (0008,0005) are restored at every control character (CR, LF,
// TAB, FF), at the value delimiter '\' (not for ST, LT, UT) and, for PN, at
// the component delimiter '^' and the group delimiter '='. In a two-byte G0
// set (JIS X 0208/0212) those bytes belong to characters and delimit nothing.
//
// Values of a multi-valued element stay joined by '\'. Each value loses its
// trailing spaces and NULs (and leading spaces for SH, LO, AE, CS, DS, IS);
// a PN value also loses empty trailing component groups, as pydicom does
// ("Wang^XiaoDong=王^小东=" decodes to "Wang^XiaoDong=王^小东"). ST, LT and
// UT are one value and lose trailing spaces and NULs only.
func (d *Decoder) Decode(raw []byte, vr string) string {
	kind, leading, p := d.vrRules(vr)
	if len(raw) == 0 {
		return ""
	}
	// Fast path: pure ASCII under an ASCII-compatible initial G0 decodes to
	// itself; only the final string is allocated.
	if (p.enc != enc2022 || p.g0 == setASCII) && isPlainASCII(raw) {
		return finish(raw, kind, leading)
	}
	return finish(d.decodeBytes(raw, vr, kind, p), kind, leading)
}

// isPlainASCII reports whether b has no byte above 0x7F and no ESC.
func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == esc {
			return false
		}
	}
	return true
}

// decodeBytes decodes raw with profile p and applies the fallback rule of
// the package comment when that fails. The result is valid UTF-8.
func (d *Decoder) decodeBytes(raw []byte, vr string, kind vrKind, p *profile) []byte {
	var out []byte
	var ok bool
	switch p.enc {
	case encUTF8:
		out, ok = raw, utf8.Valid(raw)
	case encGB18030:
		out, ok = decodeGB(raw, false)
	case encGBK:
		out, ok = decodeGB(raw, true)
	default:
		out, ok = d.decode2022(raw, kind, p)
	}
	if ok {
		return out
	}
	in := "the default repertoire"
	if p != &defaultProfile && d.spec != "" {
		in = "Specific Character Set " + quote(d.spec)
	}
	if utf8.Valid(raw) {
		d.warn("%s value not valid in %s, decoded as UTF-8", vr, in)
		return raw
	}
	d.warn("%s value not valid in %s, decoded as ISO_IR 100 (Latin-1)", vr, in)
	return latin1(raw)
}

// latin1 maps every byte to the code point of the same number.
func latin1(raw []byte) []byte {
	out := make([]byte, 0, 2*len(raw))
	for _, c := range raw {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

// gb18030FFFD is U+FFFD encoded in GB18030.
var gb18030FFFD = []byte{0x84, 0x31, 0xA4, 0x37}

// decodeGB decodes GB18030 (or GBK). A '\', '^' or '=' byte that is the
// second byte of a two-byte character is part of that character, so
// delimiters are only found after decoding. golang.org/x/text replaces
// invalid sequences with U+FFFD, which is how they are detected.
func decodeGB(raw []byte, gbk bool) ([]byte, bool) {
	dec := simplifiedchinese.GB18030.NewDecoder()
	if gbk {
		dec = simplifiedchinese.GBK.NewDecoder()
	}
	out, err := dec.Bytes(raw)
	if err != nil {
		return nil, false
	}
	if bytes.ContainsRune(out, utf8.RuneError) && (gbk || !bytes.Contains(raw, gb18030FFFD)) {
		return nil, false
	}
	return out, true
}

// finish splits the decoded UTF-8 b into values, trims each and returns the
// values joined by '\'. A single value costs one allocation (the string).
// Delimiters in b are always real delimiters: no supported set decodes a
// character to '\', '^' or '='.
func finish(b []byte, kind vrKind, leading bool) string {
	if kind == kindText {
		return string(bytes.TrimRight(b, " \x00"))
	}
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return string(trimValue(b, kind, leading))
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for {
		sb.Write(trimValue(b[:i], kind, leading))
		b = b[i+1:]
		i = bytes.IndexByte(b, '\\')
		sb.WriteByte('\\')
		if i < 0 {
			sb.Write(trimValue(b, kind, leading))
			return sb.String()
		}
	}
}

// trimValue trims one value of a multi-valued VR.
func trimValue(v []byte, kind vrKind, leading bool) []byte {
	v = bytes.TrimRight(v, " \x00")
	if kind == kindPN {
		v = bytes.TrimRight(v, "=")
	}
	if leading {
		v = bytes.TrimLeft(v, " ")
	}
	return v
}
