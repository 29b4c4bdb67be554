//go:build !linux

package scp

import (
	"io"
	"net"
)

// newQuickAckReader returns c unchanged: TCP_QUICKACK exists only on Linux.
func newQuickAckReader(c net.Conn) io.Reader { return c }
