package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// The catalog works before the first Start, while running, after Stop, and
// follows a storage folder changed by Apply; Close ends it.
func TestCatalogWithoutListener(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	cfg := testConfig(t)
	e := NewEngine(cfg, testLogger(t, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if rows, total, err := e.Studies(ctx, index.StudyQuery{}); err != nil || total != 0 || len(rows) != 0 {
		t.Fatalf("studies before any start: %v rows, total %d, err %v", len(rows), total, err)
	}
	if e.StorageDir() != cfg.StorageDir {
		t.Errorf("StorageDir = %q, want %q", e.StorageDir(), cfg.StorageDir)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	files := apptest.LoadCorpus(t)
	var ct apptest.CorpusFile
	for _, f := range files {
		if f.Name == "01_ct_implicit_le.dcm" {
			ct = f
		}
	}
	out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, "-v", "-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", portOf(t, e.Addr().String()), ct.Path)
	apptest.CheckStorescuOutput(t, out, err, 1)
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	rows, total, err := e.Studies(ctx, index.StudyQuery{})
	if err != nil || total != 1 || rows[0].StudyInstanceUID != ct.StudyInstanceUID {
		t.Fatalf("studies after stop: %+v, total %d, err %v", rows, total, err)
	}
	series, err := e.Series(ctx, rows[0].Key())
	if err != nil || len(series) != 1 {
		t.Fatalf("series: %+v, %v", series, err)
	}
	ins, err := e.Instances(ctx, series[0].Key())
	if err != nil || len(ins) != 1 || ins[0].SOPInstanceUID != ct.SOPInstanceUID {
		t.Fatalf("instances: %+v, %v", ins, err)
	}
	dir, err := e.StudyFolder(ctx, rows[0].Key())
	if err != nil || !strings.HasPrefix(dir, cfg.StorageDir+string(filepath.Separator)) {
		t.Fatalf("study folder %q, %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(filepath.Dir(ins[0].Path)), filepath.Base(ins[0].Path))); err != nil {
		t.Errorf("the instance is not under the study folder: %v", err)
	}
	if _, err := e.StudyFolder(ctx, index.StudyKey{PatientID: rows[0].PatientID, StudyInstanceUID: "1.2.3.4"}); !errors.Is(err, ErrStudyNotFound) {
		t.Errorf("folder of an unknown study: %v", err)
	}
	if n, err := e.InstancesSince(ctx, time.Now().Add(-time.Hour)); err != nil || n != 1 {
		t.Errorf("InstancesSince = %d, %v; want 1", n, err)
	}
	if n, err := e.DeleteStudy(ctx, rows[0].Key()); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("study folder still there after delete: %v", err)
	}
	if _, total, _ := e.Studies(ctx, index.StudyQuery{}); total != 0 {
		t.Errorf("%d studies after delete", total)
	}

	// A new storage folder is used at once, listener or not.
	cfg2 := cfg
	cfg2.StorageDir = filepath.Join(t.TempDir(), "second")
	if err := e.Apply(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Studies(ctx, index.StudyQuery{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg2.StorageDir, "index.db")); err != nil {
		t.Errorf("the new storage folder was not opened: %v", err)
	}

	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Studies(ctx, index.StudyQuery{}); !errors.Is(err, ErrClosed) {
		t.Errorf("studies after Close: %v, want ErrClosed", err)
	}
	if err := e.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

// Stored instances reach the hub with their study.
func TestEventsCarryStudy(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	e, addr := startEngine(t, testConfig(t))
	events, unsub := e.Events().Subscribe(256)
	defer unsub()
	var f apptest.CorpusFile
	for _, c := range apptest.LoadCorpus(t) {
		if c.Name == "01_ct_implicit_le.dcm" {
			f = c
		}
	}
	out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, "-v", "-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", portOf(t, addr), f.Path)
	apptest.CheckStorescuOutput(t, out, err, 1)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind.String() != "instance-stored" {
				if ev.Study != nil {
					t.Errorf("%v event carries a study", ev.Kind)
				}
				continue
			}
			if ev.Study == nil || ev.Study.StudyInstanceUID != f.StudyInstanceUID || ev.Study.PatientID != f.PatientID ||
				ev.Study.Modality != deref(f.Expected.Modality) || ev.Study.PatientName != deref(f.Expected.PatientName) {
				t.Fatalf("stored event study = %+v, want study %s of %s", ev.Study, f.StudyInstanceUID, f.PatientID)
			}
			return
		case <-deadline:
			t.Fatal("no instance-stored event")
		}
	}
}

// Config.KeepPageCache reaches the store, and changing it reopens the store
// (it is fixed when the store opens).
func TestKeepPageCacheReachesTheStore(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	e, _ := startEngine(t, cfg)
	keeps := func() (k bool) {
		t.Helper()
		if err := e.withStore(func(st *store.Store) error { k = st.KeepsPageCache(); return nil }); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if keeps() {
		t.Fatal("the default store keeps the page cache")
	}
	cfg.KeepPageCache = true
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if !keeps() {
		t.Error("KeepPageCache set in the config, but the store drops pages")
	}
}
