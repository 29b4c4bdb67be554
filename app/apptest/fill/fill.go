// Package fill puts generated instances into a storage folder for tests,
// through the store, as a receiver would. (Not in apptest: the store's own
// tests use apptest, and this package uses the store.)
package fill

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store"
)

// CTs stores n generated CT instances of one study and one series (patient
// DMG-1) in the storage folder dir, fsynced as in production, and closes
// the store again.
func CTs(t testing.TB, dir string, n int) {
	t.Helper()
	opt := store.DefaultOptions()
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := store.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		uid := fmt.Sprintf("1.2.826.0.1.3680043.10.1.%d", i)
		ds := apptest.CT{SOPInstanceUID: uid, StudyInstanceUID: "1.2.826.0.1.3680043.10.2", SeriesInstanceUID: "1.2.826.0.1.3680043.10.3",
			PatientID: "DMG-1", PatientName: "Damaged^Dora", InstanceNumber: i, PixelBytes: 512}.DataSet()
		in := store.Instance{SOPClassUID: apptest.CTImageStorage, SOPInstanceUID: uid, TransferSyntaxUID: "1.2.840.10008.1.2",
			CallingAE: "MODALITY", CalledAE: "INBOX"}
		if _, err := s.Ingest(context.Background(), in, bytes.NewReader(ds)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
