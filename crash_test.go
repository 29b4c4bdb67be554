package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// startServe starts `dicominbox serve` on storage (AE title INBOX, a free
// port on 127.0.0.1, no free-space floor, then extra flags) as a child
// process and returns once it answers a C-ECHO: its port, its process ID
// and a function that signals it and waits for its exit (an error when it
// did not exit 0 after SIGTERM).
func startServe(t *testing.T, ctx context.Context, storage string, extra ...string) (port, pid int, stop func(sig syscall.Signal) error) {
	t.Helper()
	port = apptest.FreePort(t)
	cmd := command(ctx, append([]string{"serve", "--config", "/nonexistent", "--bind", "127.0.0.1", "--port", fmt.Sprint(port),
		"--storage", storage, "--log-level", "warn", "--min-free-mb", "0"}, extra...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := app.Echo(ectx, addr, "T", "INBOX")
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("serve never came up: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return port, cmd.Process.Pid, func(sig syscall.Signal) error {
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if sig == syscall.SIGTERM && err != nil {
			return fmt.Errorf("%v\n%s", err, stderr.String())
		}
		return nil
	}
}

// TestSIGKILLLeavesAConsistentStore kills the receiver in the middle of a
// load over four associations and restarts it: every instance answered 0000
// is present, file and row, and files and rows agree.
func TestSIGKILLLeavesAConsistentStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	storage := filepath.Join(t.TempDir(), "inbox")
	port, _, stop := startServe(t, ctx, storage)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := scp.Dial(ctx, addr, scp.DialConfig{CalledAE: "INBOX", Contexts: []scp.ProposedContext{
				{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			for i := 0; ; i++ {
				sop := fmt.Sprintf("1.2.826.0.1.3680043.9.7.%d.%d", w, i)
				ds := apptest.CT{SOPInstanceUID: sop, StudyInstanceUID: fmt.Sprintf("1.2.3.%d", w), SeriesInstanceUID: fmt.Sprintf("1.2.3.%d.1", w),
					PatientID: fmt.Sprintf("P%d", w), PatientName: "Crash^Test", PixelBytes: 8 << 10}.DataSet()
				st, err := c.Store(ctx, apptest.CTImageStorage, sop, uid.ImplicitVRLittleEndian, bytes.NewReader(ds))
				if err != nil {
					return // the receiver was killed
				}
				if st.Code == 0 {
					mu.Lock()
					acked[sop] = true
					mu.Unlock()
				}
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d instances answered in a minute", n)
		}
	}
	stop(syscall.SIGKILL)
	wg.Wait()
	t.Logf("%d instances answered 0000 before SIGKILL", len(acked))

	// Restart (reconcile runs at start), then stop cleanly.
	_, _, stop2 := startServe(t, ctx, storage)
	if err := stop2(syscall.SIGTERM); err != nil {
		t.Fatalf("restarted serve: %v", err)
	}

	db, err := index.Open(filepath.Join(storage, store.IndexFile), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for sop := range acked {
		row, ok, err := db.Get(ctx, sop)
		if err != nil || !ok {
			t.Fatalf("instance %s was answered 0000 but has no row after the crash (%v)", sop, err)
		}
		fi, err := os.Stat(filepath.Join(storage, filepath.FromSlash(row.Path)))
		if err != nil || fi.Size() != row.SizeBytes {
			t.Fatalf("instance %s: file %s: %v", sop, row.Path, err)
		}
	}
	files := 0
	filepath.WalkDir(storage, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".dcm") {
			files++
		}
		return nil
	})
	tot, err := db.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Instances != files || files < len(acked) {
		t.Fatalf("%d rows, %d files, %d acknowledged", tot.Instances, files, len(acked))
	}
	left, _ := os.ReadDir(filepath.Join(storage, ".incoming"))
	for _, e := range left {
		if !strings.HasSuffix(e.Name(), ".dij") && !strings.HasSuffix(e.Name(), ".reserve") && e.Name() != "lock" { // these stay
			t.Errorf("leftover in .incoming: %s", e.Name())
		}
	}

	// The command-line views agree with the index.
	out, err := command(ctx, "studies", "--storage", storage, "--json").Output()
	if err != nil {
		t.Fatalf("studies: %v", err)
	}
	var studies []index.Study
	if err := json.Unmarshal(out, &studies); err != nil || len(studies) != tot.Studies {
		t.Fatalf("studies --json: %d studies (%v), want %d", len(studies), err, tot.Studies)
	}
	db.Close()
	out, err = command(ctx, "reindex", "--storage", storage).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d instances", tot.Instances)) {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
}
