package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// fileMeta is what readFileMeta takes from a Part-10 file's meta group.
type fileMeta struct {
	sopClassUID, sopInstanceUID, transferSyntaxUID string
	sourceAE, receivingAE                          string
	remoteAddr                                     string // from the Sending Presentation Address
	dataOffset                                     int64  // where the data set starts
}

// maxMetaGroupLen bounds the meta group read from a file.
const maxMetaGroupLen = 64 << 10

// readFileMeta reads the preamble, "DICM" and the File Meta Information group
// (Explicit VR Little Endian) of a Part-10 file.
func readFileMeta(r io.ReaderAt) (fileMeta, error) {
	var head [preambleLen + 4 + 12]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return fileMeta{}, fmt.Errorf("read meta header: %w", err)
	}
	if string(head[preambleLen:preambleLen+4]) != "DICM" {
		return fileMeta{}, errors.New("not a Part-10 file: no DICM prefix")
	}
	g := head[preambleLen+4:]
	if tag := uint32(binary.LittleEndian.Uint16(g))<<16 | uint32(binary.LittleEndian.Uint16(g[2:])); tag != tagMetaGroupLength || string(g[4:6]) != "UL" {
		return fileMeta{}, errors.New("meta group does not start with its group length")
	}
	groupLen := binary.LittleEndian.Uint32(g[8:])
	if groupLen > maxMetaGroupLen {
		return fileMeta{}, fmt.Errorf("meta group length %d too large", groupLen)
	}
	start := int64(len(head))
	body := make([]byte, groupLen)
	if _, err := r.ReadAt(body, start); err != nil {
		return fileMeta{}, fmt.Errorf("read meta group: %w", err)
	}
	m := fileMeta{dataOffset: start + int64(groupLen)}
	for len(body) > 0 {
		if len(body) < 8 {
			return m, errors.New("truncated meta element")
		}
		tag := uint32(binary.LittleEndian.Uint16(body))<<16 | uint32(binary.LittleEndian.Uint16(body[2:]))
		vr := string(body[4:6])
		var vl uint32
		hdr := 8
		if longVR(vr) {
			if len(body) < 12 {
				return m, errors.New("truncated meta element")
			}
			vl, hdr = binary.LittleEndian.Uint32(body[8:]), 12
		} else {
			vl = uint32(binary.LittleEndian.Uint16(body[6:]))
		}
		if uint64(vl) > uint64(len(body)-hdr) {
			return m, fmt.Errorf("meta element (%04x,%04x) overruns the group", tag>>16, tag&0xffff)
		}
		v := strings.Trim(string(body[hdr:hdr+int(vl)]), " \x00")
		switch tag {
		case tagMediaSOPClass:
			m.sopClassUID = v
		case tagMediaSOPInstance:
			m.sopInstanceUID = v
		case tagTransferSyntax:
			m.transferSyntaxUID = v
		case tagSourceAETitle:
			m.sourceAE = v
		case tagReceivingAETitle:
			m.receivingAE = v
		case tagSendingAddress:
			m.remoteAddr = remoteAddrOf(v)
		}
		body = body[hdr+int(vl):]
	}
	if m.transferSyntaxUID == "" {
		return m, errors.New("meta group has no transfer syntax")
	}
	return m, nil
}
