// Package instance keeps one window per user: the first window listens on
// a Unix socket; a later launch asks it to show its window and exits
// instead of opening a second one, which could not receive anyway (the
// port and the storage folder are the first one's).
package instance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrRunning is Claim's error when another window runs: it was asked to
// show itself.
var ErrRunning = errors.New("DICOM Inbox is already running")

// Owner is the claim of the running window; Requests delivers the show
// requests of later launches.
type Owner struct {
	l        net.Listener
	requests chan struct{}
	done     chan struct{}
}

// ioTimeout bounds each exchange on the socket, maxRequest the bytes read
// of a request ("show\n").
const (
	ioTimeout  = 2 * time.Second
	maxRequest = 64
)

// DefaultPath is the socket of the user's window: in $XDG_RUNTIME_DIR (a
// folder only the user can enter) when set, else in the temporary folder,
// named with the user's ID.
func DefaultPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "dicominbox.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("dicominbox-%d.sock", os.Getuid()))
}

// Claim makes this process the window at path: it returns an Owner, or
// ErrRunning after the window that owns path was asked to show itself. A
// socket left by a window that ended without removing it is taken over.
func Claim(path string) (*Owner, error) {
	for attempt := 0; ; attempt++ {
		err := askToShow(path)
		switch {
		case err == nil:
			return nil, ErrRunning
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ECONNREFUSED):
			return nil, fmt.Errorf("instance: %s does not answer as a DICOM Inbox window: %w", path, err)
		}
		if errors.Is(err, syscall.ECONNREFUSED) { // nobody listens: a leftover
			if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return nil, fmt.Errorf("instance: remove the stale socket: %w", rerr)
			}
		}
		l, lerr := net.Listen("unix", path)
		if lerr == nil {
			if err := os.Chmod(path, 0o600); err != nil { // the user's own windows only
				l.Close()
				return nil, fmt.Errorf("instance: %w", err)
			}
			o := &Owner{l: l, requests: make(chan struct{}, 1), done: make(chan struct{})}
			go o.serve()
			return o, nil
		}
		if !errors.Is(lerr, syscall.EADDRINUSE) || attempt == 2 {
			return nil, fmt.Errorf("instance: %w", lerr)
		}
		// Another launch listened first: ask it.
	}
}

// askToShow asks the window listening at path to show itself.
func askToShow(path string) error {
	c, err := net.DialTimeout("unix", path, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write([]byte("show\n")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || reply != "ok\n" {
		return fmt.Errorf("instance: unexpected answer %q: %w", reply, err)
	}
	return nil
}

// serve answers the show requests until Close.
func (o *Owner) serve() {
	defer close(o.done)
	defer close(o.requests)
	for {
		c, err := o.l.Accept()
		if err != nil {
			return // closed
		}
		c.SetDeadline(time.Now().Add(ioTimeout))
		// Anyone of this user can connect: the request is read within
		// maxRequest bytes (a longer one is no request of ours).
		line, err := bufio.NewReader(io.LimitReader(c, maxRequest)).ReadString('\n')
		if err == nil && strings.TrimSpace(line) == "show" {
			select {
			case o.requests <- struct{}{}:
			default: // one pending request is enough
			}
			c.Write([]byte("ok\n"))
		}
		c.Close()
	}
}

// Requests delivers a value for each later launch (several at once may
// come as one); it is closed by Close.
func (o *Owner) Requests() <-chan struct{} { return o.requests }

// Close gives up the claim and removes the socket.
func (o *Owner) Close() error {
	err := o.l.Close()
	<-o.done
	return err
}
