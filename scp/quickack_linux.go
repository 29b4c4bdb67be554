package scp

import (
	"io"
	"net"
	"syscall"
)

// quickAckReader re-arms TCP_QUICKACK after every read from a TCP
// connection. Linux clears the flag by itself; without it, our delayed ACKs
// meet the sender's Nagle algorithm and a sender that did not set
// TCP_NODELAY (many modalities, stock storescu) stalls ~40 ms per message.
type quickAckReader struct {
	r  io.Reader
	rc syscall.RawConn
}

func newQuickAckReader(c net.Conn) io.Reader {
	tcp := c
	if w, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn: its socket
		tcp = w.NetConn()
	}
	tc, ok := tcp.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckReader{r: c, rc: rc}
}

func (q *quickAckReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if n > 0 {
		q.rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
