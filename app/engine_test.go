package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/dimse"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEngineStartStopAndPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir = "127.0.0.1", busy.Addr().(*net.TCPAddr).Port, t.TempDir()
	e := NewEngine(cfg, quietLogger())
	err = e.Start()
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("start on a busy port: %v", err)
	}
	if e.Running() || !strings.Contains(e.Status(), "already in use") {
		t.Fatalf("status after failed start: running=%v %q", e.Running(), e.Status())
	}

	cfg.Port = 0
	if err := e.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	addr := e.Addr().String()
	if !e.Running() || !strings.HasPrefix(e.Status(), "Listening as INBOX on port ") {
		t.Fatalf("status: %q", e.Status())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Echo(ctx, addr, "TEST", "INBOX"); err != nil {
		t.Fatalf("echo: %v", err)
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Running() || e.Status() != "Stopped" {
		t.Fatalf("after stop: running=%v %q", e.Running(), e.Status())
	}
	if _, err := Echo(ctx, addr, "TEST", "INBOX"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("echo after stop: %v", err)
	}
}

func TestEngineBadStorageFolder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.StorageDir = "/proc/version/inbox" // a file, not a folder: cannot be created
	e := NewEngine(cfg, quietLogger())
	if err := e.Start(); err == nil || !strings.Contains(err.Error(), "storage folder") {
		t.Fatalf("start with a bad storage folder: %v", err)
	}
}

func TestDiskGuard(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir = "127.0.0.1", 0, t.TempDir()
	cfg.MinFreeMB = 1 << 40 // more than any disk has
	e := NewEngine(cfg, quietLogger())
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Echo(ctx, e.Addr().String(), "TEST", "INBOX")
	if err == nil || !strings.Contains(err.Error(), "transient") {
		t.Fatalf("association below the free-space floor: %v, want a transient rejection", err)
	}
	// A C-STORE already in an association when the disk fills up answers A700.
	h := &storeHandler{store: e.store, minFree: cfg.MinFreeMB << 20, log: quietLogger()}
	st := h.Store(ctx, &scp.StoreRequest{Association: &scp.AssociationInfo{}, SOPInstanceUID: "1.2.3"}, strings.NewReader("x"))
	if st.Code != dimse.StatusOutOfResources {
		t.Fatalf("C-STORE below the floor: %04X, want A700", st.Code)
	}
}
