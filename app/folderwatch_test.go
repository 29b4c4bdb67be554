package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// startFolderEngine starts an engine whose storage folder is
// <tmp>/disk/inbox, with its folder checked every 20 ms.
func startFolderEngine(t *testing.T, every time.Duration) (e *Engine, disk, dir string) {
	t.Helper()
	cfg := testConfig(t)
	disk = filepath.Join(t.TempDir(), "disk")
	cfg.StorageDir = filepath.Join(disk, "inbox")
	e = NewEngine(cfg, testLogger(t, 0))
	e.folderEvery = every
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return e, disk, cfg.StorageDir
}

// storescuSend sends the corpus files names to 127.0.0.1:port with DCMTK
// storescu and returns its output and error.
func storescuSend(t *testing.T, port string, names ...string) (string, error) {
	t.Helper()
	args := []string{"-v", "-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", port}
	for _, n := range names {
		args = append(args, apptest.CorpusPath(t, n))
	}
	return apptest.RunCmd(t, dcmtkTimeout, apptest.Tool(t, "storescu"), args...)
}

// A storage folder on a disk that is unplugged while listening: the engine
// stops listening and says why, the study list says so too and does not
// create an empty folder in its place, an empty mount point does not count
// as the folder coming back, and when the disk is back the listener starts
// again by itself and receives into the same folder and index.
func TestStorageFolderUnpluggedAndBack(t *testing.T) {
	e, disk, dir := startFolderEngine(t, 20*time.Millisecond)
	port := portOf(t, e.Addr().String())
	out, err := storescuSend(t, port, "01_ct_implicit_le.dcm")
	apptest.CheckStorescuOutput(t, out, err, 1)

	if err := os.Rename(disk, disk+".unplugged"); err != nil { // the mount point goes with the disk
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "stopped for the lost folder", func() bool {
		return !e.Running() && strings.Contains(e.Status(), "removed, replaced or unmounted")
	}, func() string { return e.Status() })
	if want := "Not listening: storage folder " + dir; !strings.HasPrefix(e.Status(), want) {
		t.Errorf("status %q, want it to start with %q", e.Status(), want)
	}
	t.Log(e.Status())
	if _, _, err := e.Studies(context.Background(), index.StudyQuery{Limit: 10}); err == nil || !strings.Contains(err.Error(), "unmounted") {
		t.Errorf("study list while the folder is gone: %v, want the folder's loss", err)
	}
	if _, err := e.RebuildIndex(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "unmounted") {
		t.Errorf("rebuild while the folder is gone: %v, want the folder's loss", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the lost folder was created anew (%v)", err)
	}
	if out, err := storescuSend(t, port, "23_charset_latin1.dcm"); err == nil {
		t.Fatalf("storescu succeeded with the folder gone:\n%s", out)
	}

	// An empty mount point is not the folder back.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(25 * e.folderEvery) // a bounded look for something that must not happen
	if e.Running() {
		t.Fatal("listening again into an empty folder at the lost one's path")
	}
	if err := os.RemoveAll(disk); err != nil {
		t.Fatal(err)
	}

	if err := os.Rename(disk+".unplugged", disk); err != nil { // plugged in again
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "listening again", e.Running, func() string { return e.Status() })
	out, err = storescuSend(t, portOf(t, e.Addr().String()), "23_charset_latin1.dcm")
	apptest.CheckStorescuOutput(t, out, err, 1)
	rows, total, err := e.Studies(context.Background(), index.StudyQuery{Limit: 10})
	if err != nil || total != 2 {
		t.Fatalf("studies after the folder came back: %d (%v), want both", total, err)
	}
	for _, r := range rows {
		if r.InstanceCount != 1 {
			t.Errorf("study %s: %d instances", r.StudyInstanceUID, r.InstanceCount)
		}
	}
}

// Before the watcher notices, a new association is refused (transient) and
// a C-STORE in a running one answers A700 naming the cause; Start creates
// the folder anew, and so do settings that name another folder.
func TestStorageFolderGoneBeforeTheWatcherLooks(t *testing.T) {
	e, disk, dir := startFolderEngine(t, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := os.Rename(disk, disk+".gone"); err != nil { // as a delete (the store's goroutines still write into it)
		t.Fatal(err)
	}
	if _, err := Echo(ctx, e.Addr().String(), "TEST", "INBOX"); err == nil || !strings.Contains(err.Error(), "transient") {
		t.Fatalf("association with the folder gone: %v, want a transient rejection", err)
	}
	// A C-STORE in an association accepted before the folder went.
	h := &storeHandler{store: e.store, log: e.log}
	st := h.Store(ctx, &scp.StoreRequest{Association: &scp.AssociationInfo{},
		SOPClassUID: apptest.CTImageStorage, SOPInstanceUID: "1.2.3", TransferSyntaxUID: uid.ImplicitVRLittleEndian},
		bytes.NewReader(apptest.CT{SOPInstanceUID: "1.2.3"}.DataSet()))
	if st.Code != dimse.StatusOutOfResources || !strings.Contains(st.Comment, "storage folder is gone") {
		t.Fatalf("C-STORE with the folder gone: %04X %q, want A700 naming the cause", st.Code, st.Comment)
	}
	e.checkFolder() // what the watcher does every second
	if e.Running() {
		t.Fatalf("still listening: %s", e.Status())
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start after the folder went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, store.IndexFile)); err != nil {
		t.Fatalf("Start did not create the folder anew: %v", err)
	}
	if _, err := Echo(ctx, e.Addr().String(), "TEST", "INBOX"); err != nil {
		t.Fatalf("echo after Start: %v", err)
	}

	if err := os.Rename(disk, disk+".gone-again"); err != nil {
		t.Fatal(err)
	}
	e.checkFolder()
	if e.Running() || !strings.Contains(e.Status(), "unmounted") {
		t.Fatalf("after the second loss: %q", e.Status())
	}
	cfg := e.Config()
	cfg.StorageDir = filepath.Join(t.TempDir(), "elsewhere")
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if !e.Running() {
		t.Fatalf("settings with another folder did not start listening again: %q", e.Status())
	}
	if _, err := Echo(ctx, e.Addr().String(), "TEST", "INBOX"); err != nil {
		t.Fatalf("echo into the other folder: %v", err)
	}
}

// A folder that goes while the listener is stopped: the status and the
// study list say so; settings with another folder end that, and the
// listener stays stopped, as it was.
func TestStorageFolderGoneWhileStopped(t *testing.T) {
	e, disk, _ := startFolderEngine(t, time.Hour)
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(disk, disk+".gone"); err != nil {
		t.Fatal(err)
	}
	e.checkFolder()
	if e.Running() || !strings.Contains(e.Status(), "start listening to create it anew") {
		t.Fatalf("status after the folder went while stopped: %q", e.Status())
	}
	if _, _, err := e.Studies(context.Background(), index.StudyQuery{Limit: 1}); err == nil || !strings.Contains(err.Error(), "unmounted") {
		t.Errorf("study list: %v", err)
	}
	cfg := e.Config()
	cfg.StorageDir = filepath.Join(t.TempDir(), "elsewhere")
	if err := e.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if e.Running() || e.Status() != "Stopped" {
		t.Fatalf("after settings with another folder: running %v, %q", e.Running(), e.Status())
	}
	if _, total, err := e.Studies(context.Background(), index.StudyQuery{Limit: 1}); err != nil || total != 0 {
		t.Errorf("study list of the other folder: %d, %v", total, err)
	}
}

// A window that only browses (never started listening) notices too: the
// first catalog query starts the watcher.
func TestStorageFolderGoneBeforeAnyStart(t *testing.T) {
	cfg := testConfig(t)
	disk := filepath.Join(t.TempDir(), "disk")
	cfg.StorageDir = filepath.Join(disk, "inbox")
	e := NewEngine(cfg, testLogger(t, 0))
	e.folderEvery = 20 * time.Millisecond
	defer e.Close(context.Background())
	if _, _, err := e.Studies(context.Background(), index.StudyQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(disk, disk+".gone"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the lost folder in the status", func() bool {
		return strings.Contains(e.Status(), "removed, replaced or unmounted")
	}, func() string { return e.Status() })
	if _, err := os.Stat(cfg.StorageDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder was created anew (%v)", err)
	}
}
