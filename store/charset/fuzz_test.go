package charset

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that any bytes under any (0008,0005) value and VR decode
// without panicking to valid UTF-8, deterministically, with bounded warnings.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.raw), tc.scs, tc.vr)
	}
	f.Add([]byte("\x1b"), `\ISO 2022 IR 87`, "PN")
	f.Add([]byte("\x1b$"), `\ISO 2022 IR 87`, "PN")
	f.Add([]byte("\x1b$B\x7f"), `\ISO 2022 IR 87`, "LT")
	f.Add([]byte("\x1b$)C\xa1"), `\ISO 2022 IR 149`, "LO")
	f.Add([]byte("\x84\x31\xa4\x37\xff"), "GB18030", "LO")
	f.Fuzz(func(t *testing.T, raw []byte, scs, vr string) {
		d := New(scs)
		got := d.Decode(raw, vr)
		if !utf8.ValidString(got) {
			t.Fatalf("Decode(%q, %q) under %q = %q: not valid UTF-8", raw, vr, scs, got)
		}
		if again := d.Decode(raw, vr); again != got {
			t.Fatalf("Decode not deterministic: %q then %q", got, again)
		}
		if n := len(d.Warnings()); n > maxWarnings {
			t.Fatalf("%d warnings", n)
		}
	})
}
