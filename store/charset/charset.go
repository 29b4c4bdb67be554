// Package charset decodes DICOM string values to UTF-8 according to the data
// set's Specific Character Set (0008,0005), following PS3.5 section 6.1 and
// the examples of PS3.5 Annexes H (Japanese), I (Korean), J (UTF-8, GB18030)
// and K (GB 2312/GBK).
//
// Supported defined terms: ISO_IR 6 (the default repertoire), the single-byte
// sets ISO_IR 100/101/109/110/144/127/126/138/148/203/166/13, ISO_IR 192
// (UTF-8), GB18030 and GBK, and the ISO 2022 forms with code extensions
// ISO 2022 IR 6/100/101/109/110/144/127/126/138/148/203/13/166/87/159/149/58.
// The ISO 2022 state machine (escape sequences designating G0 and G1, reset to
// the initial designations at delimiters) is implemented here; golang.org/x/text
// supplies only the byte-to-rune tables.
//
// Nothing is ever dropped. When a value cannot be decoded with the declared
// character set (invalid or unassigned bytes, an unknown escape sequence, bytes
// above 0x7F under the default repertoire), the whole value is decoded instead
// as UTF-8 if it is valid UTF-8 (today's most common mislabelling), otherwise
// as ISO_IR 100 (Latin-1), which maps every byte to one character, so the
// original bytes stay recoverable from the result. Each such fallback is
// recorded in Warnings. Unlike pydicom, which decodes undeclared high bytes as
// Latin-1 only, a value with no declared character set that is valid UTF-8
// therefore decodes as UTF-8.
//
// Lenient rules, each recorded as a warning when it applies:
//   - misspelt terms are normalised by ignoring case, spaces, '_' and '-'
//     ("ISO-IR 100" is ISO_IR 100, "ISO_IR 192" spelt "iso ir 192" too);
//   - an unknown term is ignored (as value 1 it means the default repertoire);
//   - a stand-alone set (ISO_IR 192, GB18030, GBK) with further values uses
//     the first value only; as a later value it is ignored;
//   - a non-ISO 2022 term as value 1 of a multi-valued set ("ISO_IR 13\ISO
//     2022 IR 87") is taken as its ISO 2022 form;
//   - a two-byte set as value 1 ("ISO 2022 IR 149" alone, used by Korean
//     writers for plain EUC-KR text) is designated from the start when it is
//     a G1 set (IR 149, IR 58);
//   - any escape sequence listed in PS3.3 Tables C.12-3/C.12-4 is honoured
//     even when its set is not declared;
//   - when value 1 has no G1 set (e.g. `\ISO 2022 IR 149`), a G1 designation
//     stays in force after a delimiter instead of being cleared, so Korean
//     text that designates KS X 1001 once per value still decodes (conformant
//     data re-designates after each delimiter and is unaffected).
package charset

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// maxWarnings bounds the distinct warnings one Decoder keeps.
const maxWarnings = 32

// encodingKind selects the decoding algorithm.
type encodingKind uint8

const (
	enc2022    encodingKind = iota // ISO 2022 state machine (all single-byte and ISO 2022 terms)
	encUTF8                        // ISO_IR 192
	encGB18030                     // GB18030
	encGBK                         // GBK
)

// profile is the decoding configuration derived from (0008,0005).
type profile struct {
	enc      encodingKind
	g0, g1   codeSet // initial designations (value 1)
	declared uint32  // bit per codeSet declared by any value
	ext      bool    // code extensions declared (ISO 2022 term or several values)
}

func (p *profile) declares(s codeSet) bool { return p.declared&(1<<s) != 0 }

// defaultProfile is the default repertoire (ISO-IR 6), used for VRs that the
// Specific Character Set does not apply to.
var defaultProfile = profile{enc: enc2022, g0: setASCII, declared: 1 << setASCII}

// Decoder decodes the string values of one data set, built from its
// (0008,0005) Specific Character Set value. A Decoder is safe for concurrent
// use. A nil *Decoder decodes with the default repertoire.
type Decoder struct {
	spec     string // the (0008,0005) value, for warnings
	p        profile
	mu       sync.Mutex
	warnings []string
}

// term is one defined term of PS3.3 Tables C.12-2 to C.12-5.
type term struct {
	name   string
	ext    bool // an "ISO 2022 ..." term
	enc    encodingKind
	g0, g1 codeSet
}

var terms = []term{
	{"ISO_IR 6", false, enc2022, setASCII, setNone},
	{"ISO_IR 100", false, enc2022, setASCII, setLatin1},
	{"ISO_IR 101", false, enc2022, setASCII, setLatin2},
	{"ISO_IR 109", false, enc2022, setASCII, setLatin3},
	{"ISO_IR 110", false, enc2022, setASCII, setLatin4},
	{"ISO_IR 144", false, enc2022, setASCII, setCyrillic},
	{"ISO_IR 127", false, enc2022, setASCII, setArabic},
	{"ISO_IR 126", false, enc2022, setASCII, setGreek},
	{"ISO_IR 138", false, enc2022, setASCII, setHebrew},
	{"ISO_IR 148", false, enc2022, setASCII, setLatin5},
	{"ISO_IR 203", false, enc2022, setASCII, setLatin9},
	{"ISO_IR 166", false, enc2022, setASCII, setThai},
	{"ISO_IR 13", false, enc2022, setRomaji, setKatakana},
	{"ISO_IR 192", false, encUTF8, setNone, setNone},
	{"GB18030", false, encGB18030, setNone, setNone},
	{"GBK", false, encGBK, setNone, setNone},
	{"ISO 2022 IR 6", true, enc2022, setASCII, setNone},
	{"ISO 2022 IR 100", true, enc2022, setASCII, setLatin1},
	{"ISO 2022 IR 101", true, enc2022, setASCII, setLatin2},
	{"ISO 2022 IR 109", true, enc2022, setASCII, setLatin3},
	{"ISO 2022 IR 110", true, enc2022, setASCII, setLatin4},
	{"ISO 2022 IR 144", true, enc2022, setASCII, setCyrillic},
	{"ISO 2022 IR 127", true, enc2022, setASCII, setArabic},
	{"ISO 2022 IR 126", true, enc2022, setASCII, setGreek},
	{"ISO 2022 IR 138", true, enc2022, setASCII, setHebrew},
	{"ISO 2022 IR 148", true, enc2022, setASCII, setLatin5},
	{"ISO 2022 IR 203", true, enc2022, setASCII, setLatin9},
	{"ISO 2022 IR 166", true, enc2022, setASCII, setThai},
	{"ISO 2022 IR 13", true, enc2022, setRomaji, setKatakana},
	{"ISO 2022 IR 87", true, enc2022, setJISX0208, setNone},
	{"ISO 2022 IR 159", true, enc2022, setJISX0212, setNone},
	{"ISO 2022 IR 149", true, enc2022, setNone, setKSX1001},
	{"ISO 2022 IR 58", true, enc2022, setNone, setGB2312},
}

// Supported returns the defined terms of (0008,0005) that a Decoder
// decodes, in the order of PS3.3 Tables C.12-2 to C.12-5.
func Supported() []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = t.name
	}
	return out
}

// termAliases maps normalised spellings that are not a defined term's
// normalised form to the defined term (CP 1234 spellings, common labels).
var termAliases = map[string]string{
	"ISO2022GBK": "GBK",
	"ISO202258":  "ISO 2022 IR 58",
	"UTF8":       "ISO_IR 192",
}

var termsByName, termsByKey = func() (map[string]*term, map[string]*term) {
	byName := make(map[string]*term, len(terms))
	byKey := make(map[string]*term, len(terms)+len(termAliases))
	for i := range terms {
		byName[terms[i].name] = &terms[i]
		byKey[normKey(terms[i].name)] = &terms[i]
	}
	for k, v := range termAliases {
		byKey[k] = byName[v]
	}
	return byName, byKey
}()

// normKey upper-cases s and drops spaces, '_' and '-'.
func normKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-':
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lookup finds the defined term for one value of (0008,0005), correcting
// misspellings with a warning. It returns nil for an unknown term.
func (d *Decoder) lookup(v string) *term {
	if t := termsByName[v]; t != nil {
		return t
	}
	if t := termsByKey[normKey(v)]; t != nil {
		d.warn("invalid Specific Character Set term %s, assuming %q", quote(v), t.name)
		return t
	}
	return nil
}

// New returns the decoder for the raw (0008,0005) value: backslash-separated
// terms, possibly with an empty first value (`\ISO 2022 IR 87`), misspelt
// terms ("ISO-IR 100"), or empty (the default repertoire). It never fails:
// problems are recorded in Warnings and the rules in the package comment
// choose a fallback.
func New(specificCharacterSet string) *Decoder {
	d := &Decoder{spec: specificCharacterSet, p: defaultProfile}
	values := strings.Split(specificCharacterSet, `\`)
	for i, v := range values {
		values[i] = strings.Trim(v, " \x00")
	}
	rest := values[1:]
	for len(rest) > 0 && rest[len(rest)-1] == "" {
		rest = rest[:len(rest)-1]
	}
	p := &d.p
	p.ext = len(rest) > 0
	if v1 := values[0]; v1 != "" {
		t := d.lookup(v1)
		switch {
		case t == nil:
			d.warn("unknown Specific Character Set term %s, using the default repertoire", quote(v1))
		case t.enc != enc2022:
			p.enc = t.enc
			if len(rest) > 0 {
				d.warn("Specific Character Set %q allows no code extensions, ignoring the values after it", t.name)
			}
			return d
		case t.g0 == setJISX0208 || t.g0 == setJISX0212:
			d.warn("two-byte set %q as value 1 of Specific Character Set; starting in ASCII", t.name)
			p.declared |= 1 << t.g0
		case t.g0 == setNone: // IR 149, IR 58 as value 1: plain EUC text
			d.warn("two-byte set %q as value 1 of Specific Character Set; designating it to G1 from the start", t.name)
			p.g1 = t.g1
			p.declared |= 1 << t.g1
		default:
			p.g0, p.g1 = t.g0, t.g1
			p.declared |= 1<<t.g0 | 1<<t.g1
		}
		if t != nil && t.enc == enc2022 {
			p.ext = p.ext || t.ext
			if len(rest) > 0 && !t.ext {
				d.warn("Specific Character Set value 1 %q is not an ISO 2022 term; assuming code extensions", t.name)
			}
		}
	}
	for _, v := range rest {
		if v == "" {
			continue
		}
		switch t := d.lookup(v); {
		case t == nil:
			d.warn("unknown Specific Character Set term %s, ignoring it", quote(v))
		case t.enc != enc2022:
			d.warn("Specific Character Set %q cannot be a code extension, ignoring it", t.name)
		default:
			p.declared |= 1<<t.g0 | 1<<t.g1
		}
	}
	p.declared &^= 1 << setNone
	return d
}

// Warnings lists the distinct problems seen so far (unknown or misspelt
// terms, undeclared escape sequences, values that needed the fallback), for
// logs. Messages never contain value bytes, which may be patient data.
func (d *Decoder) Warnings() []string {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.warnings...)
}

// warn records a warning once; at most maxWarnings are kept.
func (d *Decoder) warn(format string, args ...any) {
	if d == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.warnings) >= maxWarnings {
		return
	}
	for _, w := range d.warnings {
		if w == msg {
			return
		}
	}
	d.warnings = append(d.warnings, msg)
}

// quote quotes an untrusted string for a warning, shortened to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
