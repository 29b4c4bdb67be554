package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// A study list that meets a damaged index says so, and how to rebuild it,
// instead of passing SQLite's words on (the window shows this text).
func TestDamagedIndexIsDescribed(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	e := NewEngine(cfg, testLogger(t, 0))
	ct := apptest.CT{SOPInstanceUID: "1.2.826.0.1.3680043.10.1.1", StudyInstanceUID: "1.2.826.0.1.3680043.10.2",
		SeriesInstanceUID: "1.2.826.0.1.3680043.10.3", PatientID: "DMG-1", PixelBytes: 512}
	err := e.withStore(func(st *store.Store) error {
		_, err := st.Ingest(ctx, store.Instance{SOPClassUID: apptest.CTImageStorage, SOPInstanceUID: ct.SOPInstanceUID,
			TransferSyntaxUID: "1.2.840.10008.1.2", CallingAE: "MODALITY", CalledAE: "INBOX"}, bytes.NewReader(ct.DataSet()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	apptest.BreakStudiesTable(t, filepath.Join(cfg.StorageDir, "index.db"))

	e = NewEngine(cfg, testLogger(t, 0))
	defer e.Close(ctx)
	_, _, err = e.Studies(ctx, index.StudyQuery{})
	want := fmt.Sprintf("the index of storage folder %s is damaged (database disk image is malformed", cfg.StorageDir)
	hint := fmt.Sprintf("dicominbox reindex --storage %q", cfg.StorageDir)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), hint) || !index.IsDamaged(err) {
		t.Fatalf("studies on a damaged index: %v\nwant %q ... %q, still matching index.IsDamaged", err, want, hint)
	}
	var sure *describedError
	if !errors.As(err, &sure) {
		t.Errorf("%T is not a described error", err)
	}
}
