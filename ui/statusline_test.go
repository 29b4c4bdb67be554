package ui

// The status line's reasons why the listener could not start, each provoked
// for real on 127.0.0.1: a port in use (and by whom), a privileged port, a
// bad storage folder.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store"
)

// listenBusy holds a free loopback port in this process until the test ends.
func listenBusy(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// applyConfig changes the real engine's configuration (it is stopped).
func (r *realWindow) applyConfig(t *testing.T, change func(*app.Config)) {
	t.Helper()
	cfg := r.engine.Config()
	change(&cfg)
	if err := r.engine.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestPortOwnerNamesThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp on this system (%v): the owner lookup is Linux-only", err)
	}
	port := listenBusy(t)
	got := portOwner(procRoot, port)
	want := fmt.Sprintf(", PID %d", os.Getpid())
	if !strings.HasSuffix(got, want) || !strings.HasPrefix(got, processName(procRoot, os.Getpid())) {
		t.Errorf("portOwner(%d) = %q, want the test binary's name and %q", port, got, want)
	}
}

// writeFile writes a file of the fake /proc tree.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPortOwnerFromProcFiles(t *testing.T) {
	root := t.TempDir()
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	// Port 11112 = 0x2B68: one connection (01, ignored) and one listener (0A,
	// inode 5555) of user 0; port 104 = 0x0068 listens in tcp6 (inode 7777).
	writeFile(t, filepath.Join(root, "net", "tcp"), header+
		"   0: 0100007F:2B68 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 20 4 30 10 -1\n"+
		"   1: 00000000:2B68 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0\n")
	writeFile(t, filepath.Join(root, "net", "tcp6"), header+
		"   0: 00000000000000000000000000000000:0068 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1234        0 7777 1 0000000000000000 100 0 0 10 0\n")
	writeFile(t, filepath.Join(root, "4242", "comm"), "storescp\n")
	writeFile(t, filepath.Join(root, "4242", "fd", "0"), "")
	if err := os.Symlink("socket:[4444]", filepath.Join(root, "4242", "fd", "3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[5555]", filepath.Join(root, "4242", "fd", "4")); err != nil {
		t.Fatal(err)
	}
	if got := portOwner(root, 11112); got != "storescp, PID 4242" {
		t.Errorf("port 11112: %q, want %q", got, "storescp, PID 4242")
	}
	// The listener on 104 belongs to no process we can see: its user is named.
	want := "a program of user ID 1234"
	if u, err := user.LookupId("1234"); err == nil {
		want = "a program of user " + u.Username
	}
	if got := portOwner(root, 104); got != want {
		t.Errorf("port 104: %q, want %q", got, want)
	}
	if got := portOwner(root, 4000); got != "" {
		t.Errorf("port 4000 (no listener): %q, want nothing", got)
	}
	if got := portOwner(filepath.Join(root, "missing"), 11112); got != "" {
		t.Errorf("without /proc: %q, want nothing", got)
	}
}

func TestStatusSaysWhoHoldsThePort(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp on this system (%v): the owner lookup is Linux-only", err)
	}
	r := newRealWindow(t)
	port := listenBusy(t)
	r.applyConfig(t, func(c *app.Config) { c.Port = port })
	test.Tap(r.toggle)
	wait(t, r.opDone, "failed start")
	want := fmt.Sprintf("port %d is already in use by another program (%s, PID %d)", port,
		processName(procRoot, os.Getpid()), os.Getpid())
	if !strings.Contains(r.status.Text, want) || r.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q (importance %v), want it to contain %q in the error colour", r.status.Text, r.status.Importance, want)
	}
	checkToggle(t, r.mainWindow, "Start", true)

	// Once the port is free, a start works and the owner is gone from the line.
	r.applyConfig(t, func(c *app.Config) { c.Port = 0 })
	port2 := r.start(t)
	if want := "Listening as INBOX on port " + port2; r.status.Text != want {
		t.Errorf("status = %q, want %q", r.status.Text, want)
	}
}

func TestStatusBadStorageFolder(t *testing.T) {
	r := newRealWindow(t)
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.applyConfig(t, func(c *app.Config) { c.StorageDir = file })
	test.Tap(r.toggle)
	wait(t, r.opDone, "failed start")
	if !strings.HasPrefix(r.status.Text, "Not listening: storage folder "+file+": ") || r.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q (importance %v), want the storage folder and why", r.status.Text, r.status.Importance)
	}
	if r.engine.Running() {
		t.Error("the engine runs on a file as its storage folder")
	}
	checkToggle(t, r.mainWindow, "Start", true)
}

// A storage folder that another receiver has open (here a store this test
// process opens) is refused with a sentence that says so and names it.
func TestStatusStorageFolderInUse(t *testing.T) {
	r := newRealWindow(t)
	dir := filepath.Join(t.TempDir(), "taken")
	holder, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	r.applyConfig(t, func(c *app.Config) { c.StorageDir = dir })
	test.Tap(r.toggle)
	wait(t, r.opDone, "failed start")
	want := fmt.Sprintf("Not listening: storage folder %s is in use by another DICOM Inbox (process %d); a folder takes one receiver at a time",
		dir, os.Getpid())
	if r.status.Text != want || r.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q (importance %v), want %q in the error colour", r.status.Text, r.status.Importance, want)
	}
	checkToggle(t, r.mainWindow, "Start", true)
}

// unprivilegedEnv marks the child process of TestStatusPrivilegedPort.
const unprivilegedEnv = "DICOMINBOX_UI_TEST_UNPRIVILEGED"

// privilegedPort is below 1024 and (almost surely) free on 127.0.0.1.
const privilegedPort = 1001

// TestStatusPrivilegedPort starts the listener on a port below 1024 without
// the right to: the status line must say so. Run as root, the test runs
// itself again as user nobody (root may bind any port).
func TestStatusPrivilegedPort(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n <= privilegedPort {
			t.Skipf("this machine lets any user bind ports from %d: port %d is not privileged here", n, privilegedPort)
		}
	}
	if os.Geteuid() == 0 && os.Getenv(unprivilegedEnv) == "" {
		runAsNobody(t, "^TestStatusPrivilegedPort$")
		return
	}
	r := newRealWindow(t)
	r.applyConfig(t, func(c *app.Config) { c.Port = privilegedPort })
	test.Tap(r.toggle)
	wait(t, r.opDone, "failed start")
	want := fmt.Sprintf("Not listening: port %d needs administrator rights (ports below 1024 are privileged)", privilegedPort)
	if r.status.Text != want || r.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q (importance %v), want %q in the error colour", r.status.Text, r.status.Importance, want)
	}
	checkToggle(t, r.mainWindow, "Start", true)
}

// runAsNobody runs the tests matching pattern in a copy of this test binary
// as user nobody (65534) and fails if they fail.
func runAsNobody(t *testing.T, pattern string) {
	t.Helper()
	bin := apptest.UnprivilegedCopy(t, "ui.test")
	cmd := exec.CommandContext(t.Context(), bin, "-test.run", pattern, "-test.count=1", "-test.v")
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "HOME="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as user nobody: %v\n%s", pattern, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: ") {
		t.Fatalf("%s as user nobody ran no test:\n%s", pattern, out)
	}
	t.Logf("as user nobody:\n%s", out)
}

// A storage folder whose disk goes away while listening: the status line
// says so in the error colour, the toggle offers Start, and the study list
// shows the same reason; when the disk is back, listening resumes.
func TestStatusStorageFolderLost(t *testing.T) {
	r := newRealWindow(t)
	disk := filepath.Join(t.TempDir(), "disk")
	dir := filepath.Join(disk, "inbox")
	r.applyConfig(t, func(c *app.Config) { c.StorageDir = dir })
	r.start(t)
	if err := os.Rename(disk, disk+".unplugged"); err != nil {
		t.Fatal(err)
	}
	want := "Not listening: storage folder " + dir + " was removed, replaced or unmounted while in use"
	r.statusUntil(t, "the lost folder", func(s string) bool { return strings.HasPrefix(s, want) })
	if r.status.Importance != widget.DangerImportance {
		t.Errorf("status %q not in the error colour", r.status.Text)
	}
	checkToggle(t, r.mainWindow, "Start", true)
	r.studies.reloadNow()
	if v := r.studies; !strings.Contains(v.empty.Text, "was removed, replaced or unmounted") || !v.empty.Visible() {
		t.Errorf("study list: %q (shown %v), want the lost folder", v.empty.Text, v.empty.Visible())
	}

	if err := os.Rename(disk+".unplugged", disk); err != nil {
		t.Fatal(err)
	}
	r.statusUntil(t, "listening again", func(s string) bool { return strings.HasPrefix(s, "Listening as INBOX") })
	checkToggle(t, r.mainWindow, "Stop", true)
}

// statusUntil refreshes the window until its status line satisfies ok;
// it fails the test after 20 s.
func (r *realWindow) statusUntil(t *testing.T, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.refresh(); !ok(r.status.Text); r.refresh() {
		if time.Now().After(deadline) {
			t.Fatalf("status line never showed %s; it shows %q", what, r.status.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("status line: %q", r.status.Text)
}
