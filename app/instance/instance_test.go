package instance

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The first Claim owns the socket; a second one gets ErrRunning, and the
// first is asked to show its window; after Close the socket is free again.
func TestSecondLaunchAsksTheFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.sock")
	first, err := Claim(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600: the user's own windows only", fi.Mode().Perm(), err)
	}
	for range 2 {
		if o, err := Claim(path); !errors.Is(err, ErrRunning) || o != nil {
			t.Fatalf("second Claim: %v, %v; want ErrRunning", o, err)
		}
		select {
		case <-first.Requests():
		case <-time.After(5 * time.Second):
			t.Fatal("the first window was not asked to show itself")
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Claim(path)
	if err != nil {
		t.Fatalf("Claim after the first closed: %v", err)
	}
	again.Close()
}

// A socket left by a window that ended without removing it (a crash) is
// taken over.
func TestStaleSocketIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the stale socket file is not there: %v", err)
	}
	o, err := Claim(path)
	if err != nil {
		t.Fatalf("Claim over a stale socket: %v", err)
	}
	defer o.Close()
	if _, err := Claim(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("Claim after the takeover: %v, want ErrRunning", err)
	}
}

// Something that is not a window at the socket, which accepts and says
// nothing, does not hang a launch: it fails in bounded time.
func TestSilentPeerDoesNotHang(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent
		}
	}()
	o, err := Claim(path)
	if err == nil || errors.Is(err, ErrRunning) {
		o.Close()
		t.Fatalf("Claim next to a silent peer: %v, want a failure", err)
	}
	t.Log(err)
}

// A connection that sends an endless line is cut off after a few bytes
// and does not stop the owner from answering the next launch.
func TestEndlessRequestIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.sock")
	o, err := Claim(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junk := make([]byte, 1<<20)
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for range 64 { // 64 MiB unless the owner stops reading
		if _, err := c.Write(junk); err != nil {
			break
		}
	}
	if _, err := Claim(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("Claim after the endless request: %v, want ErrRunning", err)
	}
	select {
	case <-o.Requests():
	case <-time.After(5 * time.Second):
		t.Fatal("the later launch's request did not arrive")
	}
}
