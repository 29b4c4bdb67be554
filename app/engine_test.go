package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store"
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
	e := NewEngine(cfg, testLogger(t, slog.LevelInfo))
	defer e.Close(context.Background()) // Stop alone would leave the store (and its spare files) open under TempDir's cleanup
	err = e.Start()
	if err == nil || !strings.Contains(err.Error(), "already in use") || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("start on a busy port: %v (want the words and EADDRINUSE in the chain)", err)
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
	defer e.Close(context.Background()) // Stop alone would leave the store (and its spare files) open under TempDir's cleanup
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

// echo runs echoscu from calling to called at addr and reports whether the
// C-ECHO succeeded, with echoscu's output.
func echo(t *testing.T, echoscu, addr, calling, called string) (bool, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := apptest.RunCmd(t, dcmtkTimeout, echoscu, "-v", "-aec", called, "-aet", calling, host, port)
	return err == nil && strings.Contains(out, "Received Echo Response (Success)"), out
}

// listener returns the engine's running scp.Server (nil when stopped).
func listener(e *Engine) *scp.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

// TestApplyWithoutRestart: settings that need no new socket apply to the
// running listener (same server, same port, running associations go on);
// a new port restarts it.
func TestApplyWithoutRestart(t *testing.T) {
	echoscu := apptest.Tool(t, "echoscu")
	cfg := testConfig(t)
	e, addr := startEngine(t, cfg)
	srv := listener(e)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	running, err := scp.Dial(ctx, addr, scp.DialConfig{CallingAE: "EARLY", CalledAE: "INBOX", Contexts: []scp.ProposedContext{
		{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	if err != nil {
		t.Fatal(err)
	}

	cfg.AETitle, cfg.AllowedCallingAEs = "NEWAE", []string{"ECHOSCU"}
	cfg.DuplicatePolicy, cfg.MinFreeMB, cfg.StudyCompleteAfter = "keep", 1, Duration(time.Minute)
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if listener(e) != srv || e.Addr().String() != addr || !e.Running() {
		t.Fatalf("listener restarted: now %v at %v (was at %s)", listener(e), e.Addr(), addr)
	}
	if got := e.Status(); !strings.Contains(got, "NEWAE") {
		t.Errorf("status %q does not name the new AE title", got)
	}
	if ok, out := echo(t, echoscu, addr, "ECHOSCU", "NEWAE"); !ok {
		t.Errorf("echo to the new AE title failed:\n%s", out)
	}
	if ok, out := echo(t, echoscu, addr, "ECHOSCU", "INBOX"); ok || !strings.Contains(out, "Called AE Title Not Recognized") {
		t.Errorf("echo to the old AE title: success %v, want a rejection:\n%s", ok, out)
	}
	if ok, out := echo(t, echoscu, addr, "STRANGER", "NEWAE"); ok || !strings.Contains(out, "Calling AE Title Not Recognized") {
		t.Errorf("echo from a calling AE not allowed: success %v, want a rejection:\n%s", ok, out)
	}
	// The association accepted before the change keeps what it negotiated.
	if st, err := running.Echo(ctx); err != nil || st != dimse.StatusSuccess {
		t.Errorf("echo on the association accepted before the change: %04X %v", st, err)
	}
	if err := running.Release(ctx); err != nil {
		t.Error(err)
	}
	if got := e.Config(); got.AETitle != "NEWAE" || got.DuplicatePolicy != "keep" {
		t.Errorf("config after Apply: %+v", got)
	}
	if err := e.withStore(func(st *store.Store) error {
		if p := st.DuplicatePolicy(); p != store.DuplicateKeep {
			t.Errorf("the open store's duplicate policy is %q, want keep", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// A new port needs a new socket: the listener restarts there.
	cfg.Port = mustAtoi(t, freePort(t))
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	newAddr := e.Addr()
	if listener(e) == srv || newAddr == nil || newAddr.(*net.TCPAddr).Port != cfg.Port {
		t.Fatalf("after a port change: listener %v at %v, want a new one on port %d", listener(e), newAddr, cfg.Port)
	}
	if ok, out := echo(t, echoscu, newAddr.String(), "ECHOSCU", "NEWAE"); !ok {
		t.Errorf("echo on the new port failed:\n%s", out)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the old address %s still accepts connections", addr)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
