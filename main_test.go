package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
)

// The tests re-run this test binary as the dicominbox command.
func TestMain(m *testing.M) {
	if os.Getenv("DICOMINBOX_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DICOMINBOX_RUN_MAIN=1")
	return cmd
}

func TestServePortInUseIsOneLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--config", "/nonexistent", "--bind", "127.0.0.1", "--port", fmt.Sprint(port),
		"--storage", t.TempDir(), "--log-level", "error"}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "already in use") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--config", "/nonexistent", "--aet", "MUCH_TOO_LONG_AE_TITLE"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "AE title") {
		t.Errorf("the error does not name the field:\n%s", stderr.String())
	}
}

// echo's TLS files without --tls are a mistake, not silently plain DICOM;
// a bad serve TLS setting is refused before anything starts.
func TestTLSFlagMistakes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"echo", "--tls-ca", "ca.pem", "127.0.0.1:1"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "need --tls") {
		t.Errorf("echo --tls-ca without --tls: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"serve", "--config", "/nonexistent", "--tls-cert", "inbox.crt"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "needs its key file") {
		t.Errorf("serve --tls-cert without --tls-key: exit %d\n%s", code, stderr.String())
	}
}

func TestHelpDocumentsEveryServeFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"-aet", "-port", "-bind", "-storage", "-max-associations", "-max-pdu", "-artim-timeout",
		"-idle-timeout", "-shutdown-timeout", "-accept-unknown-sop-classes", "-allowed-calling-aets", "-log-level", "(default"} {
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("serve --help does not mention %s", flag)
		}
	}
}

func TestServeEchoAndSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	port := apptest.FreePort(t)
	storage := filepath.Join(t.TempDir(), "inbox")
	srv := command(ctx, "serve", "--config", "/nonexistent", "--aet", "CLITEST", "--bind", "127.0.0.1",
		"--port", fmt.Sprint(port), "--storage", storage, "--log-level", "warn")
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := command(ctx, "echo", "--called-aet", "CLITEST", addr).CombinedOutput()
		if err == nil {
			if !strings.Contains(string(out), "success") {
				t.Errorf("echo output: %s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			srv.Process.Kill()
			t.Fatalf("serve never answered echo: %v\n%s\nserve stderr:\n%s", err, out, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := command(ctx, "echo", "--called-aet", "WRONG", addr).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "called AE title not recognized") {
		t.Errorf("echo with a wrong called AE: %v\n%s", err, out)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(storage, ".incoming")); err != nil {
		t.Errorf("storage folder not prepared: %v", err)
	}
	if _, err := app.Echo(ctx, addr, "X", "CLITEST"); err == nil {
		t.Error("still answering after SIGTERM")
	}
}

// While `serve` runs in a storage folder, `reindex` of that folder and a
// second `serve` in it (on another port) refuse with one line naming the
// running process, and leave it working; once it has exited, reindex works.
func TestStorageFolderInUse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	storage := filepath.Join(t.TempDir(), "inbox")
	port, pid, stop := startServe(t, ctx, storage)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	holder := fmt.Sprintf("in use by another DICOM Inbox (process %d)", pid)

	var stdout, stderr bytes.Buffer
	if code := run([]string{"reindex", "--storage", storage}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), holder) {
		t.Errorf("reindex: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	code := run([]string{"serve", "--config", "/nonexistent", "--bind", "127.0.0.1", "--port", fmt.Sprint(apptest.FreePort(t)),
		"--storage", storage, "--log-level", "error"}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], holder) {
		t.Errorf("second serve: exit %d, stderr:\n%s", code, stderr.String())
	}
	if _, err := app.Echo(ctx, addr, "X", "INBOX"); err != nil {
		t.Errorf("the running serve stopped answering: %v", err)
	}
	if _, err := os.Stat(filepath.Join(storage, "index.db")); err != nil {
		t.Errorf("the running serve's index is gone: %v", err)
	}

	if err := stop(syscall.SIGTERM); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	stderr.Reset()
	if code := run([]string{"reindex", "--storage", storage}, &stdout, &stderr); code != 0 {
		t.Errorf("reindex after serve exited: exit %d, stderr:\n%s", code, stderr.String())
	}
}

// Under LANG=C.UTF-8 no command prints Fyne's "Error parsing user locale C"
// (app/clocale runs before Fyne reads the locale).
func TestNoLocaleErrorUnderCUTF8(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "serve", "--help")
	var env []string
	for _, kv := range cmd.Env {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES":
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage: dicominbox serve") {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "locale") {
		t.Errorf("output mentions the locale:\n%s", out)
	}
}
