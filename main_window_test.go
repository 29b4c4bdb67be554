package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
)

// The window, started as from a desktop menu (here on a private Xvfb),
// writes its log to the log file in the user's state folder: the start, the
// listener, each association, the signal that ends it. A second launch
// brings the running window to the front and exits instead of opening a
// second one.
func TestWindowLogFileAndSecondLaunch(t *testing.T) {
	xvfbRun := apptest.Tool(t, "xvfb-run")
	home := t.TempDir()
	port := apptest.FreePort(t)
	config := filepath.Join(home, ".config", "dicominbox", "config.json")
	cfg := app.DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir, cfg.MinFreeMB = "127.0.0.1", port, filepath.Join(home, "storage"), 0
	cfg.NotifyStudyComplete = false
	if err := app.SaveConfig(config, cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := command(ctx, "-a", "-s", "-screen 0 1024x768x24", os.Args[0])
	cmd.Path, cmd.Args[0] = xvfbRun, xvfbRun // xvfb-run starts this test binary as the window
	runtimeDir := filepath.Join(home, "run") // not the session's: a window of the user's own must not answer
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_STATE_HOME=", "XDG_RUNTIME_DIR=" + runtimeDir}
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	logPath := filepath.Join(home, ".local", "state", "dicominbox", "dicominbox.log")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		ectx, ecancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := app.Echo(ectx, addr, "LOGTEST", cfg.AETitle)
		ecancel()
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the window exited at start (%v):\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no C-ECHO answer from the window after 90 s (%v):\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A second launch (no display needed: it ends before it would open one).
	second := command(ctx)
	second.Env = append(second.Env, env...)
	second.Env = append(second.Env, "DISPLAY=:none")
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running; its window was brought to the front") {
		t.Errorf("second launch: %v\n%s", err, out)
	}

	for asked := time.Now().Add(10 * time.Second); !bytes.Contains(readLog(t, logPath), []byte("another launch asked")); {
		if time.Now().After(asked) {
			t.Fatalf("the window did not log the second launch's request:\n%s", readLog(t, logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The window's PID, from its own first line: xvfb-run is its parent.
	m := regexp.MustCompile(`msg="DICOM Inbox started" .*pid=(\d+)`).FindSubmatch(readLog(t, logPath))
	if m == nil {
		t.Fatalf("no start line in %s:\n%s", logPath, readLog(t, logPath))
	}
	pid, _ := strconv.Atoi(string(m[1]))
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to the window (PID %d): %v", pid, err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the window did not exit cleanly: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the window did not exit within 60 s of SIGTERM:\n%s", stderr.String())
	}
	log := string(readLog(t, logPath))
	for _, want := range []string{`msg="DICOM Inbox started"`, `msg=listening`, `msg="association accepted"`,
		`calling=LOGTEST`, `msg="another launch asked for the window; bringing it to the front"`,
		`msg="signal received, closing"`, `msg="storage folder closed"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log file lacks %s:\n%s", want, log)
		}
	}
	if !strings.Contains(stderr.String(), `msg="association accepted"`) {
		t.Errorf("stderr no longer gets the log:\n%s", stderr.String())
	}
}

func readLog(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}
