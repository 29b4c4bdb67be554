package dimse

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// re-encodes to bytes that decode to the same command and encode to the same
// bytes again.
func FuzzDecode(f *testing.F) {
	for _, c := range constructed() {
		f.Add(c.Append(nil))
	}
	f.Add([]byte{})
	f.Add(cat(el(ElemCommandField, us(CEchoRQ)), appendHeader(nil, 2, 0xFFFFFFFF)))
	f.Add(cat(el(ElemCommandField, us(CStoreRQ)), el(ElemErrorComment, bytes.Repeat([]byte(" a"), 40))))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		enc := c.Append(nil)
		c2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v\n%x", err, enc)
		}
		if !sameFields(c, c2) {
			t.Fatalf("decode/append/decode differs:\n%+v\n%+v", *c, *c2)
		}
		if enc2 := c2.Append(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%x\n%x", enc, enc2)
		}
	})
}

func BenchmarkDecodeCStoreRQ(b *testing.B) {
	enc := NewCStoreRQ(1234, ctClass, ctInstance, PriorityMedium).Append(nil)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCStoreRSP(b *testing.B) {
	rsp := NewCStoreRSP(NewCStoreRQ(1234, ctClass, ctInstance, PriorityMedium), StatusSuccess, "")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = rsp.Append(buf[:0])
	}
}
