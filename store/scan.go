package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The header scanner frames the received data set itself (tags, VRs, value
// lengths, nested items) and keeps the raw values of the few top-level
// elements the header needs; the dicom library then decodes just those.
//
// Why not hand the library the file? suyashkumar/dicom v1.1.0 allocates every
// value with make([]byte, VL) before it checks VL against the bytes left, so
// a 200-byte data set claiming a 2 GiB value makes it allocate 4 GiB
// (measured). Every length here is checked against what is left before
// anything is read, values above maxValueLen are skipped, nested sequences
// are bounded in depth, and the library only ever sees a few short elements.

const (
	maxValueLen    = 4096       // longest header value kept (UI is 64, PN 3x64 chars)
	maxDepth       = 32         // nesting of sequences and items
	maxElements    = 1 << 20    // elements (all levels) the scan may visit
	undefinedLen   = 0xffffffff // value length of undefined-length SQ/items
	lastHeaderTag  = 0x00280008 // NumberOfFrames: the scan stops after it
	tagItem        = 0xfffee000
	tagItemDelim   = 0xfffee00d
	tagSeqDelim    = 0xfffee0dd
	itemTagsGroup  = 0xfffe
	firstDataGroup = 0x0008
)

// syntax is how a transfer syntax frames its data set.
type syntax struct {
	bo       binary.ByteOrder
	explicit bool
	deflated bool
}

// syntaxOf maps a transfer syntax UID to its framing. Every transfer syntax
// other than Implicit VR Little Endian, Explicit VR Big Endian and the two
// deflated ones encodes its data set as Explicit VR Little Endian (the
// encapsulated ones, including those the dicom library does not know, such
// as HTJ2K 1.2.840.10008.1.2.4.201, or private ones).
func syntaxOf(ts string) syntax {
	switch trimUID(ts) {
	case implicitVRLittleEndian:
		return syntax{bo: binary.LittleEndian}
	case explicitVRBigEndian:
		return syntax{bo: binary.BigEndian, explicit: true}
	case deflatedExplicitVRLE, jpipReferencedDeflate:
		return syntax{bo: binary.LittleEndian, explicit: true, deflated: true}
	}
	return syntax{bo: binary.LittleEndian, explicit: true}
}

// scanResult is what the scanner found.
type scanResult struct {
	values     [numFields][]byte // raw values of the header elements, nil if absent
	understood int               // well-formed top-level elements of a data group
	err        error             // framing error that ended the scan early
	errAt      int64             // data set offset of the element that failed
}

type scanner struct {
	src      source
	bo       binary.ByteOrder
	explicit bool
	elements int
	res      scanResult
}

// scanHeader frames the data set in src up to the first top-level element
// after lastHeaderTag and collects the header values.
func scanHeader(src source, sx syntax) scanResult {
	s := &scanner{src: src, bo: sx.bo, explicit: sx.explicit}
	s.top()
	return s.res
}

func (s *scanner) top() {
	for {
		at := s.src.offset()
		tag, err := s.tag()
		if err == io.EOF {
			return
		}
		if err == nil && tag>>16 == itemTagsGroup {
			err = fmt.Errorf("item tag (%04X,%04X) at top level", tag>>16, tag&0xffff)
		}
		var vr string
		var vl uint32
		if err == nil {
			vr, vl, err = s.header(tag)
		}
		if err != nil {
			s.fail(at, err)
			return
		}
		if tag > lastHeaderTag {
			// Past the header; count it when its length is plausible, so that a
			// data set holding only, say, Pixel Data still counts as parsed.
			if s.plausible(tag, vr, vl) {
				s.res.understood++
			}
			return
		}
		ok := s.plausible(tag, vr, vl) // before the value is consumed
		if err := s.value(tag, vr, vl, 0); err != nil {
			s.fail(at, err)
			return
		}
		if ok {
			s.res.understood++
		}
	}
}

func (s *scanner) fail(at int64, err error) {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	s.res.err, s.res.errAt = err, at
}

// plausible reports whether a top-level element is one a real data set has:
// a data group (not the command, meta or directory groups, not odd groups
// 0001-0007 or FFFF), a known VR when explicit, a length that fits.
func (s *scanner) plausible(tag uint32, vr string, vl uint32) bool {
	g := tag >> 16
	if g < firstDataGroup || g == 0xffff {
		return false
	}
	if s.explicit && !knownVR(vr) {
		return false
	}
	if rem := s.src.remaining(); vl != undefinedLen && rem >= 0 && int64(vl) > rem {
		return false
	}
	return true
}

func (s *scanner) tag() (uint32, error) {
	if s.elements++; s.elements > maxElements {
		return 0, fmt.Errorf("more than %d elements", maxElements)
	}
	b, err := s.src.read(4)
	if err != nil {
		return 0, err
	}
	return uint32(s.bo.Uint16(b))<<16 | uint32(s.bo.Uint16(b[2:])), nil
}

// header reads the VR (explicit syntaxes) and value length of an element
// whose tag was just read.
func (s *scanner) header(tag uint32) (string, uint32, error) {
	if !s.explicit {
		b, err := s.src.read(4)
		if err != nil {
			return "", 0, err
		}
		return "", s.bo.Uint32(b), nil
	}
	b, err := s.src.read(2)
	if err != nil {
		return "", 0, err
	}
	vr := string(b)
	if longVR(vr) {
		b, err := s.src.read(6)
		if err != nil {
			return "", 0, err
		}
		return vr, s.bo.Uint32(b[2:]), nil
	}
	// Unknown VRs (e.g. "  " written by some GE devices) are read with a
	// 2-byte length, as DCMTK does. A 2-byte length of FFFF is a length.
	b, err = s.src.read(2)
	if err != nil {
		return "", 0, err
	}
	return vr, uint32(s.bo.Uint16(b)), nil
}

// value consumes the value of an element, keeping it when the header needs it.
func (s *scanner) value(tag uint32, vr string, vl uint32, depth int) error {
	if vl == undefinedLen {
		if s.explicit && vr != "SQ" && vr != "UN" && vr != "OB" && vr != "OW" {
			return fmt.Errorf("undefined length for VR %q of (%04X,%04X)", vr, tag>>16, tag&0xffff)
		}
		return s.items(depth + 1)
	}
	if rem := s.src.remaining(); rem >= 0 && int64(vl) > rem {
		return fmt.Errorf("value length %d of (%04X,%04X) exceeds the %d bytes left", vl, tag>>16, tag&0xffff, rem)
	}
	if i := fieldIndex(tag); depth == 0 && i >= 0 && vr != "SQ" && vl <= maxValueLen {
		b, err := s.src.read(int(vl))
		if err != nil {
			return err
		}
		s.res.values[i] = append([]byte{}, b...)
		return nil
	}
	return s.src.skip(int64(vl))
}

// items consumes the items of an undefined-length sequence (or of encapsulated
// data) up to and including its sequence delimitation item.
func (s *scanner) items(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("sequences nested deeper than %d", maxDepth)
	}
	for {
		tag, err := s.tag()
		if err != nil {
			return err
		}
		b, err := s.src.read(4) // item tags always have a 4-byte length
		if err != nil {
			return err
		}
		vl := s.bo.Uint32(b)
		switch {
		case tag == tagSeqDelim:
			return nil
		case tag != tagItem:
			return fmt.Errorf("(%04X,%04X) where an item was expected", tag>>16, tag&0xffff)
		case vl == undefinedLen:
			if err := s.itemElements(depth); err != nil {
				return err
			}
		default:
			if err := s.value(tag, "", vl, depth); err != nil {
				return err
			}
		}
	}
}

// itemElements consumes the elements of an undefined-length item up to and
// including its item delimitation item.
func (s *scanner) itemElements(depth int) error {
	for {
		tag, err := s.tag()
		if err != nil {
			return err
		}
		if tag == tagItemDelim {
			_, err := s.src.read(4)
			return err
		}
		if tag>>16 == itemTagsGroup {
			return fmt.Errorf("(%04X,%04X) inside an item", tag>>16, tag&0xffff)
		}
		vr, vl, err := s.header(tag)
		if err != nil {
			return err
		}
		if err := s.value(tag, vr, vl, depth); err != nil {
			return err
		}
	}
}

// knownVR reports whether vr is one of the value representations of PS3.5.
func knownVR(vr string) bool {
	switch vr {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT",
		"OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
		"SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV":
		return true
	}
	return false
}
