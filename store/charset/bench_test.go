package charset

import "testing"

// TestASCIIAllocations pins the fast path: an ASCII value under an
// ASCII-compatible character set costs one allocation, the result string.
func TestASCIIAllocations(t *testing.T) {
	for _, scs := range []string{"", "ISO_IR 100", "ISO_IR 192", "GB18030", `\ISO 2022 IR 87`} {
		d := New(scs)
		raw := []byte("CompressedSamples^CT1 ")
		if n := testing.AllocsPerRun(100, func() { d.Decode(raw, "PN") }); n > 1 {
			t.Errorf("%q: %v allocations per ASCII PN, want at most 1", scs, n)
		}
	}
}

func benchmarkDecode(b *testing.B, scs, vr, raw string) {
	d := New(scs)
	in := []byte(raw)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(in, vr)
	}
}

func BenchmarkDecodeASCII(b *testing.B) {
	benchmarkDecode(b, "ISO_IR 100", "PN", "CompressedSamples^CT1 ")
}

func BenchmarkDecodeLatin1(b *testing.B) {
	benchmarkDecode(b, "ISO_IR 100", "PN", "Buc^J\xe9r\xf4me")
}

func BenchmarkDecodeJapanese(b *testing.B) {
	benchmarkDecode(b, `ISO 2022 IR 13\ISO 2022 IR 87`, "PN",
		"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J")
}

func BenchmarkDecodeKorean(b *testing.B) {
	benchmarkDecode(b, `\ISO 2022 IR 149`, "PN",
		"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf")
}

func BenchmarkDecodeGB18030(b *testing.B) {
	benchmarkDecode(b, "GB18030", "PN", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=")
}
