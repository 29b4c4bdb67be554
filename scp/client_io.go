package scp

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
)

// maxSendFragment caps one data fragment when the peer allows unlimited PDUs.
const maxSendFragment = 4 << 20

// sendMessage sends a command set and, when data is not nil, the data set
// read from data, fragmented to the peer's maximum PDU length.
func (c *Client) sendMessage(ctxID byte, cmd *dimse.Command, data io.Reader) error {
	if data == nil {
		cmd.CommandDataSetType = dimse.NoDataSet
	}
	c.buf = appendCommandPDUs(c.buf[:0], ctxID, cmd.Append(nil), c.peerMax)
	if _, err := c.conn.Write(c.buf); err != nil {
		return fmt.Errorf("send command: %w", err)
	}
	if data == nil {
		return nil
	}
	return c.sendDataSet(ctxID, data)
}

// sendDataSet reads one fragment ahead so that the last one carries the
// last-fragment bit, and writes header and payload with one writev.
func (c *Client) sendDataSet(ctxID byte, data io.Reader) error {
	size := maxSendFragment
	if c.peerMax > 0 && int(c.peerMax)-6 < size {
		size = int(c.peerMax) - 6
	}
	if size < 1 {
		return fmt.Errorf("peer max PDU length %d too small", c.peerMax)
	}
	cur, next := make([]byte, size), make([]byte, size)
	n, err := io.ReadFull(data, cur)
	last := readDone(err)
	if err != nil && !last {
		return fmt.Errorf("read data set: %w", err)
	}
	var hdr []byte
	for {
		var m int
		if !last {
			m, err = io.ReadFull(data, next)
			if err != nil && !readDone(err) {
				return fmt.Errorf("read data set: %w", err)
			}
			if m == 0 && readDone(err) {
				last = true
			}
		}
		hdr = pdu.AppendPDataHeader(hdr[:0], ctxID, false, last, n)
		bufs := net.Buffers{hdr, cur[:n]}
		if _, werr := bufs.WriteTo(c.conn); werr != nil {
			return fmt.Errorf("send data set: %w", werr)
		}
		if last {
			return nil
		}
		cur, next, n = next, cur, m
		if readDone(err) {
			last = true
		}
	}
}

func readDone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readResponse reads one command set (responses carry no data set here).
func (c *Client) readResponse() (*dimse.Command, error) {
	var cmdBuf []byte
	for {
		p, err := c.rd.Next(MaxMaxPDULength)
		if err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		switch p := p.(type) {
		case *pdu.PDataTF:
			for _, pdv := range p.Items {
				if !pdv.Command {
					continue
				}
				cmdBuf = append(cmdBuf, pdv.Data...)
				if len(cmdBuf) > DefaultMaxCommandSetSize {
					return nil, errors.New("response command set too long")
				}
				if pdv.Last {
					return dimse.Decode(cmdBuf)
				}
			}
		case *pdu.Abort:
			return nil, &AbortedError{*p}
		default:
			return nil, fmt.Errorf("unexpected PDU type %#02x while waiting for a response", byte(p.Type()))
		}
	}
}
