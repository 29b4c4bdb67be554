package store

import (
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// source hands the header scanner the bytes of a data set. Slices returned by
// read are valid until the next call.
type source interface {
	// read returns the next n bytes (n <= maxRead). It returns io.EOF only when
	// no byte at all was left, io.ErrUnexpectedEOF when fewer than n were.
	read(n int) ([]byte, error)
	// skip consumes n bytes.
	skip(n int64) error
	// offset is the number of bytes consumed so far.
	offset() int64
	// remaining is the number of bytes left, or -1 when unknown (deflate).
	remaining() int64
}

// maxRead is the most a single read call may ask for.
const maxRead = maxValueLen + 16

// atSource reads a section of a file through ReadAt and a caller-provided
// buffer; skipping is free (no read), so a large element costs nothing.
type atSource struct {
	r         io.ReaderAt
	base, end int64 // absolute section bounds
	off       int64 // absolute offset of the next unread byte
	buf       []byte
	bufAt     int64 // absolute offset of buf[0]
	bufLen    int   // valid bytes in buf
}

func newAtSource(r io.ReaderAt, base, size int64, buf []byte) *atSource {
	return &atSource{r: r, base: base, end: base + size, off: base, buf: buf, bufAt: -1}
}

func (s *atSource) read(n int) ([]byte, error) {
	left := s.end - s.off
	if left == 0 {
		return nil, io.EOF
	}
	if int64(n) > left {
		return nil, io.ErrUnexpectedEOF
	}
	if s.bufAt < 0 || s.off < s.bufAt || s.off+int64(n) > s.bufAt+int64(s.bufLen) {
		m := int64(len(s.buf))
		if m > left {
			m = left
		}
		k, err := s.r.ReadAt(s.buf[:m], s.off)
		if k < n {
			s.bufAt = -1
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		s.bufAt, s.bufLen = s.off, k
	}
	i := int(s.off - s.bufAt)
	s.off += int64(n)
	return s.buf[i : i+n], nil
}

func (s *atSource) skip(n int64) error {
	if n < 0 || n > s.end-s.off {
		return io.ErrUnexpectedEOF
	}
	s.off += n
	return nil
}

func (s *atSource) offset() int64    { return s.off - s.base }
func (s *atSource) remaining() int64 { return s.end - s.off }

// flateSource inflates a deflated data set (PS3.5 A.5: raw deflate, no zlib
// header) and stops after maxInflated bytes so that a small "deflate bomb"
// cannot make the scanner work forever.
type flateSource struct {
	br  *bufio.Reader
	off int64
}

// maxInflated bounds how many inflated bytes the header scan may consume.
const maxInflated = 64 << 20

func newFlateSource(r io.Reader) *flateSource {
	return &flateSource{br: bufio.NewReaderSize(flate.NewReader(r), 2*maxRead)}
}

func (s *flateSource) read(n int) ([]byte, error) {
	if s.off+int64(n) > maxInflated {
		return nil, fmt.Errorf("header region exceeds %d inflated bytes", maxInflated)
	}
	b, err := s.br.Peek(n)
	if len(b) < n {
		if len(b) == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	_, _ = s.br.Discard(n)
	s.off += int64(n)
	return b, nil
}

func (s *flateSource) skip(n int64) error {
	if n < 0 || s.off+n > maxInflated {
		return fmt.Errorf("header region exceeds %d inflated bytes", maxInflated)
	}
	for n > 0 {
		chunk := n
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		k, err := s.br.Discard(int(chunk))
		s.off += int64(k)
		n -= int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (s *flateSource) offset() int64    { return s.off }
func (s *flateSource) remaining() int64 { return -1 }
