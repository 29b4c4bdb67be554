package pdu

import (
	"fmt"
	"testing"
)

// BenchmarkReaderPData reads P-DATA-TF PDUs of one data PDV each, as a
// C-STORE data set arrives, from an in-memory stream.
func BenchmarkReaderPData(b *testing.B) {
	for _, size := range []int{16 << 10, 128 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			pduLen := uint32(pdvHeaderLen + size)
			data := PDataTF{Items: []PDV{{ContextID: 1, Data: make([]byte, size)}}}.Append(nil)
			r := NewReader(&cycle{data: data})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := r.Next(pduLen)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.(*PDataTF).Items[0].Data) != size {
					b.Fatal("short PDV")
				}
			}
		})
	}
}

// BenchmarkAppendAssociateAC encodes a typical A-ASSOCIATE-AC of a storage
// SCP answering 64 proposed contexts, into a reused buffer.
func BenchmarkAppendAssociateAC(b *testing.B) {
	ac := AssociateAC{
		ProtocolVersion:    1,
		CalledAE:           "DICOMINBOX",
		CallingAE:          "STORESCU",
		ApplicationContext: ApplicationContextName,
		UserInfo: UserInfo{
			MaxPDULength:              128 << 10,
			ImplementationClassUID:    "1.2.826.0.1.3680043.10.999",
			ImplementationVersionName: "DICOMINBOX_1",
		},
	}
	for i := range 64 {
		pc := PresentationContextAC{ID: byte(2*i + 1), Result: PCAcceptance, TransferSyntax: "1.2.840.10008.1.2.1"}
		if i%4 == 3 {
			pc = PresentationContextAC{ID: byte(2*i + 1), Result: PCAbstractSyntaxNotSupported}
		}
		ac.PresentationContexts = append(ac.PresentationContexts, pc)
	}
	buf := ac.Append(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = ac.Append(buf[:0])
	}
}

// BenchmarkDecodeAssociateRQ decodes the full sample request.
func BenchmarkDecodeAssociateRQ(b *testing.B) {
	body := fullAssociateRQ().Append(nil)[HeaderLen:]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(TypeAssociateRQ, body); err != nil {
			b.Fatal(err)
		}
	}
}
