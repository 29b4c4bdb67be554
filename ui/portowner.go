package ui

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procRoot is where the kernel's process information is mounted (Linux).
const procRoot = "/proc"

// portOwner says who listens on a TCP port, as far as this machine tells:
// "storescp, PID 4242" when the listening socket belongs to a process whose
// file descriptors we may read, "a program of user bob" when we may not,
// and "" when nothing is known (not Linux, or no listener found). It reads
// root/net/tcp and tcp6 for listening sockets on the port, then looks for
// the socket's inode among root/<pid>/fd. Best effort, and it can take a few
// milliseconds: call it off the UI goroutine.
func portOwner(root string, port int) string {
	inodes, uids := listeningInodes(root, port)
	if len(inodes) == 0 {
		return ""
	}
	if pid, ok := socketProcess(root, inodes); ok {
		name := processName(root, pid)
		if name == "" {
			return fmt.Sprintf("PID %d", pid)
		}
		return fmt.Sprintf("%s, PID %d", name, pid)
	}
	if len(uids) == 0 {
		return ""
	}
	if u, err := user.LookupId(uids[0]); err == nil {
		return "a program of user " + u.Username
	}
	return "a program of user ID " + uids[0]
}

// listeningInodes returns the inodes (and owner user IDs) of the sockets
// that listen on port, from root/net/tcp and root/net/tcp6.
func listeningInodes(root string, port int) (inodes map[string]bool, uids []string) {
	inodes = map[string]bool{}
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(root, "net", name))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header line
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
			fld := strings.Fields(sc.Text())
			if len(fld) < 10 || fld[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			i := strings.LastIndexByte(fld[1], ':')
			if i < 0 {
				continue
			}
			p, err := strconv.ParseUint(fld[1][i+1:], 16, 16)
			if err != nil || int(p) != port || fld[9] == "0" {
				continue
			}
			inodes[fld[9]] = true
			uids = append(uids, fld[7])
		}
		f.Close()
	}
	return inodes, uids
}

// socketProcess finds a process holding one of the socket inodes open.
func socketProcess(root string, inodes map[string]bool) (int, bool) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return 0, false
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid <= 0 {
			continue
		}
		fdDir := filepath.Join(root, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil { // gone, or another user's process
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				return pid, true
			}
		}
	}
	return 0, false
}

// processName is the command name of a process ("" if unknown).
func processName(root string, pid int) string {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errPortBusyText is how app.Engine words a port in use ("port 11112 is
// already in use by another program"); the status line adds the owner.
const errPortBusyText = "is already in use"

// portBusy reports whether the port is in use: err (the last Start's error,
// nil if none) wraps EADDRINUSE, or the status line (the engine's Status,
// a string even when the app started the engine itself) says so.
func portBusy(err error, status string) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(status, errPortBusyText)
}
