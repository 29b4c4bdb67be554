package charset

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// This file is a small test-only DICOM reader: it returns the raw value bytes
// of chosen top-level elements, so the decoder is tested on exactly what a
// file holds. It reads the Part-10 meta group (or none), inflates deflated
// data sets, handles implicit/explicit VR, little/big endian, and skips
// sequences of defined and undefined length (items, nested sequences, UN of
// undefined length holding implicit VR LE).

const (
	tagItem          = 0xFFFEE000
	tagItemDelim     = 0xFFFEE00D
	tagSequenceDelim = 0xFFFEE0DD
	undefinedLength  = 0xFFFFFFFF
)

type elemReader struct {
	b        []byte
	pos      int
	explicit bool
	bo       binary.ByteOrder
}

var errTruncated = errors.New("truncated data set")

func (r *elemReader) u16() (uint16, error) {
	if r.pos+2 > len(r.b) {
		return 0, errTruncated
	}
	v := r.bo.Uint16(r.b[r.pos:])
	r.pos += 2
	return v, nil
}

func (r *elemReader) u32() (uint32, error) {
	if r.pos+4 > len(r.b) {
		return 0, errTruncated
	}
	v := r.bo.Uint32(r.b[r.pos:])
	r.pos += 4
	return v, nil
}

// header reads one element header: tag, VR ("" for implicit VR and item
// tags) and value length.
func (r *elemReader) header() (tag uint32, vr string, length uint32, err error) {
	g, err := r.u16()
	if err != nil {
		return 0, "", 0, err
	}
	e, err := r.u16()
	if err != nil {
		return 0, "", 0, err
	}
	tag = uint32(g)<<16 | uint32(e)
	if g == 0xFFFE || !r.explicit {
		length, err = r.u32()
		return tag, "", length, err
	}
	if r.pos+2 > len(r.b) {
		return 0, "", 0, errTruncated
	}
	vr = string(r.b[r.pos : r.pos+2])
	r.pos += 2
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		r.pos += 2 // reserved
		length, err = r.u32()
	default:
		var l16 uint16
		l16, err = r.u16()
		length = uint32(l16)
	}
	return tag, vr, length, err
}

// skip moves past n bytes.
func (r *elemReader) skip(n uint32) error {
	if uint64(r.pos)+uint64(n) > uint64(len(r.b)) {
		return errTruncated
	}
	r.pos += int(n)
	return nil
}

// skipUndefined skips the items of an undefined-length sequence up to and
// including its sequence delimitation item.
func (r *elemReader) skipUndefined(depth int) error {
	if depth > 64 {
		return errors.New("sequences nested too deep")
	}
	for {
		tag, _, length, err := r.header()
		if err != nil {
			return err
		}
		switch {
		case tag == tagSequenceDelim:
			return nil
		case tag == tagItem && length == undefinedLength:
			if err := r.skipElements(depth + 1); err != nil {
				return err
			}
		case tag == tagItem:
			if err := r.skip(length); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected tag %08X in sequence", tag)
		}
	}
}

// skipElements skips the elements of an undefined-length item up to and
// including its item delimitation item.
func (r *elemReader) skipElements(depth int) error {
	for {
		tag, vr, length, err := r.header()
		if err != nil {
			return err
		}
		if tag == tagItemDelim {
			return nil
		}
		if err := r.skipValue(vr, length, depth); err != nil {
			return err
		}
	}
}

// skipValue skips one element value; an undefined length means a sequence
// (or UN holding one, encoded in implicit VR little endian).
func (r *elemReader) skipValue(vr string, length uint32, depth int) error {
	if length != undefinedLength {
		return r.skip(length)
	}
	if vr == "UN" {
		sub := &elemReader{b: r.b, pos: r.pos, bo: binary.LittleEndian}
		err := sub.skipUndefined(depth + 1)
		r.pos = sub.pos
		return err
	}
	return r.skipUndefined(depth + 1)
}

// readTopLevel returns the raw values of the wanted top-level data set
// elements present in the file at path, stopping after the largest one. Only
// the first MiB is read: header elements come long before the pixel data.
func readTopLevel(path string, want ...uint32) (map[uint32][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	ds, explicit, bo, err := dataSet(b)
	if err != nil {
		return nil, err
	}
	last := uint32(0)
	for _, t := range want {
		last = max(last, t)
	}
	found := map[uint32][]byte{}
	r := &elemReader{b: ds, explicit: explicit, bo: bo}
	for r.pos < len(r.b) {
		tag, vr, length, err := r.header()
		if err != nil {
			return nil, err
		}
		if tag > last {
			break
		}
		start := r.pos
		if err := r.skipValue(vr, length, 0); err != nil {
			return nil, fmt.Errorf("element %08X: %w", tag, err)
		}
		for _, t := range want {
			if t == tag && length != undefinedLength {
				found[tag] = ds[start:r.pos]
			}
		}
	}
	return found, nil
}

// dataSet strips the preamble and meta group and returns the data set bytes
// and their encoding. A file without "DICM" is a bare data set whose VR
// encoding is guessed from its first element.
func dataSet(b []byte) (ds []byte, explicit bool, bo binary.ByteOrder, err error) {
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		explicit = len(b) > 6 && b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z'
		return b, explicit, binary.LittleEndian, nil
	}
	meta := &elemReader{b: b, pos: 132, explicit: true, bo: binary.LittleEndian}
	ts := ""
	for meta.pos+2 <= len(b) && binary.LittleEndian.Uint16(b[meta.pos:]) == 0x0002 {
		tag, _, length, err := meta.header()
		if err != nil {
			return nil, false, nil, err
		}
		start := meta.pos
		if err := meta.skip(length); err != nil {
			return nil, false, nil, err
		}
		if tag == 0x00020010 {
			ts = string(bytes.TrimRight(b[start:meta.pos], " \x00"))
		}
	}
	rest := b[meta.pos:]
	switch ts {
	case "1.2.840.10008.1.2":
		return rest, false, binary.LittleEndian, nil
	case "1.2.840.10008.1.2.2":
		return rest, true, binary.BigEndian, nil
	case "1.2.840.10008.1.2.1.99":
		inflated, err := io.ReadAll(flate.NewReader(bytes.NewReader(rest)))
		return inflated, true, binary.LittleEndian, err
	}
	return rest, true, binary.LittleEndian, nil
}
