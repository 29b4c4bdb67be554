package ui

// Helpers for the dialog tests that run against a real app.Engine: an engine
// on a free loopback port with a fresh storage folder, and DCMTK's storescu
// sending files of the shared corpus (found with app/apptest).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
)

// dtTestConfig is a valid configuration listening as INBOX on a free
// loopback port with a fresh storage folder.
func dtTestConfig(t testing.TB) app.Config {
	c := app.DefaultConfig()
	c.Bind, c.Port = "127.0.0.1", 0
	c.StorageDir = t.TempDir()
	c.MinFreeMB = 0
	c.LogLevel = "warn"
	return c
}

// dtStartEngine starts a real engine with cfg, stopped when the test ends,
// and returns it with its port.
func dtStartEngine(t testing.TB, cfg app.Config) (*app.Engine, string) {
	t.Helper()
	e := app.NewEngine(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := e.Start(); err != nil {
		t.Fatalf("engine start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	_, port, err := net.SplitHostPort(e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return e, port
}

// dtStorescu sends files to 127.0.0.1:port (called AE INBOX) with DCMTK
// storescu on one association and fails unless every one is stored.
func dtStorescu(t testing.TB, port string, files ...apptest.CorpusFile) {
	t.Helper()
	args := []string{"-v", "-aet", "STORESCU", "-aec", "INBOX", "127.0.0.1", port}
	for _, f := range files {
		args = append(args, f.Path)
	}
	out, err := apptest.RunCmd(t, 45*time.Second, apptest.Tool(t, "storescu"), args...)
	apptest.CheckStorescuOutput(t, out, err, len(files))
}

// dtFilesWithUID lists the .dcm files under root whose name is the SOP
// Instance UID (the storage layout names files so).
func dtFilesWithUID(t testing.TB, root, sopUID string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.IsDir() && de.Name() == sopUID+".dcm" {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return found
}

// uiRunner stands in for the UI goroutine in tests of dialogs whose
// background queries hand results back with a do func: the results queue
// up and the test goroutine runs them (the test driver's fyne.Do would run
// them inline, concurrently, on the queries' goroutines).
type uiRunner struct {
	q    chan func()
	seen map[string]int // applied results by name; test goroutine only
}

func newUIRunner() *uiRunner { return &uiRunner{q: make(chan func(), 64), seen: map[string]int{}} }

// do queues f for the test goroutine.
func (r *uiRunner) do(f func()) { r.q <- f }

// applied records a result by name; it runs inside a queued func.
func (r *uiRunner) applied(what string) { r.seen[what]++ }

// waitFor runs queued funcs until every name in want has been applied (once
// per mention), then consumes those.
func (r *uiRunner) waitFor(t testing.TB, want ...string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		need := map[string]int{}
		for _, w := range want {
			need[w]++
		}
		done := true
		for w, n := range need {
			if r.seen[w] < n {
				done = false
			}
		}
		if done {
			for w, n := range need {
				r.seen[w] -= n
			}
			return
		}
		select {
		case f := <-r.q:
			f()
		case <-timeout:
			t.Fatalf("timed out waiting for %v (applied so far: %v)", want, fmt.Sprint(r.seen))
		}
	}
}
