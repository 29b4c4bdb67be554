package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// A journal file is a run of records, each one stored file's whole content
// (Part-10, as it is written to the tree) with its path and modification
// time:
//
//	offset  size  field
//	0       4     magic: "DIJ2" live, "DIX2" withdrawn (the file must not be restored)
//	4       4     path length (bytes, at most journalMaxPath)
//	8       8     data length (bytes)
//	16      8     fill: random number of the run of records this one belongs to
//	24      8     seq: when that run started (Unix ns); orders the runs of two files
//	32      8     mtime: the file's modification time, its received time (Unix ns; 0: none)
//	40      4     CRC-32C of bytes 4..39, the path and the data
//	44      4     zero
//	48      ...   path (relative to the storage root, slash-separated), then data,
//	              then zeros up to a multiple of 8 bytes
//
// The header is written after the path and data, and the checksum covers
// them all but the magic, so a torn or half-written record fails the check
// and withdrawing a record (rewriting its magic) keeps the chain readable.
// A run ends at the first record whose magic, lengths, fill or checksum do
// not fit: records left from earlier runs carry another fill.
//
// Records of the first version ("DIJ1", "DIJX": a 40-byte header without
// the mtime field, the checksum at 32) are still read, so that a journal
// left by a power cut before an upgrade is restored by the new version;
// they are never written.
const (
	journalMagicLive      = "DIJ2"
	journalMagicWithdrawn = "DIX2"
	journalHeaderLen      = 48
	journalMaxPath        = 4096

	journalMagicLiveV1      = "DIJ1"
	journalMagicWithdrawnV1 = "DIJX"
	journalHeaderLenV1      = 40
)

// journalRecord is the header of one record and where it sits.
type journalRecord struct {
	off     int64 // of the header in the file
	hdrLen  int64 // journalHeaderLen, or journalHeaderLenV1 for a first-version record
	live    bool
	path    string
	dataLen int64
	fill    uint64
	seq     int64
	mtime   int64 // Unix ns; 0 when the record has none
}

// dataOff is the offset of the record's data in the file.
func (r journalRecord) dataOff() int64 { return r.off + r.hdrLen + int64(len(r.path)) }

// end is the offset just after the record (where the next one starts).
func (r journalRecord) end() int64 {
	return r.off + (r.hdrLen+int64(len(r.path))+r.dataLen+7)&^7
}

// journalRecordLen is the bytes a record with this path and data takes.
func journalRecordLen(pathLen int, dataLen int64) int64 {
	return (journalHeaderLen + int64(pathLen) + dataLen + 7) &^ 7
}

// encodeJournalHeader fills h (journalHeaderLen bytes) for a live record;
// sum is the CRC-32C of the path and data, which is folded into the header's
// own checksum.
func encodeJournalHeader(h []byte, pathLen int, dataLen int64, fill uint64, seq, mtime int64, pathAndData uint32) {
	copy(h[0:4], journalMagicLive)
	binary.LittleEndian.PutUint32(h[4:8], uint32(pathLen))
	binary.LittleEndian.PutUint64(h[8:16], uint64(dataLen))
	binary.LittleEndian.PutUint64(h[16:24], fill)
	binary.LittleEndian.PutUint64(h[24:32], uint64(seq))
	binary.LittleEndian.PutUint64(h[32:40], uint64(mtime))
	binary.LittleEndian.PutUint32(h[40:44], journalSum(h[4:40], pathAndData))
	binary.LittleEndian.PutUint32(h[44:48], 0)
}

// journalSum combines the checksum of the header fields with that of the
// path and data (computed first, while the data was copied).
func journalSum(fields []byte, pathAndData uint32) uint32 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], pathAndData)
	return crc32.Update(crc32.Checksum(fields, castagnoli), castagnoli, b[:])
}

var errJournalEnd = errors.New("end of journal run")

// decodeJournalHeader parses the header at off of a file of size bytes (h
// holds journalHeaderLen bytes, or the rest of the file when that is less).
// It returns the record (path still empty), the checksum its header
// carries and the header fields that checksum covers, or errJournalEnd when
// no record of the run starts there (bad magic, lengths that do not fit,
// another fill when wantFill is not 0).
func decodeJournalHeader(h []byte, off, size int64, wantFill uint64) (r journalRecord, sum uint32, fields []byte, err error) {
	if len(h) < 4 {
		return journalRecord{}, 0, nil, errJournalEnd
	}
	r = journalRecord{off: off, hdrLen: journalHeaderLen}
	switch string(h[0:4]) {
	case journalMagicLive:
		r.live = true
	case journalMagicWithdrawn:
	case journalMagicLiveV1:
		r.live, r.hdrLen = true, journalHeaderLenV1
	case journalMagicWithdrawnV1:
		r.hdrLen = journalHeaderLenV1
	default:
		return journalRecord{}, 0, nil, errJournalEnd
	}
	if int64(len(h)) < r.hdrLen || size-off < r.hdrLen {
		return journalRecord{}, 0, nil, errJournalEnd
	}
	pathLen := int64(binary.LittleEndian.Uint32(h[4:8]))
	dataLen := binary.LittleEndian.Uint64(h[8:16])
	r.fill = binary.LittleEndian.Uint64(h[16:24])
	r.seq = int64(binary.LittleEndian.Uint64(h[24:32]))
	sumAt := r.hdrLen - 8
	if r.hdrLen == journalHeaderLen {
		r.mtime = int64(binary.LittleEndian.Uint64(h[32:40]))
	}
	room := size - off - r.hdrLen
	if pathLen == 0 || pathLen > journalMaxPath || pathLen > room || dataLen > uint64(room-pathLen) ||
		r.fill == 0 || (wantFill != 0 && r.fill != wantFill) || binary.LittleEndian.Uint32(h[sumAt+4:sumAt+8]) != 0 {
		return journalRecord{}, 0, nil, errJournalEnd
	}
	r.dataLen = int64(dataLen)
	return r, binary.LittleEndian.Uint32(h[sumAt : sumAt+4]), h[4:sumAt], nil
}

// scanJournal returns the records of the run that starts at offset 0 of f
// (size bytes), live and withdrawn, each with a verified checksum, in order.
// buf is scratch space (at least journalMaxPath bytes). Only read errors are
// returned: a record that does not check out ends the run.
func scanJournal(f io.ReaderAt, size int64, buf []byte) ([]journalRecord, error) {
	var recs []journalRecord
	var fill uint64
	for off := int64(0); ; {
		var h [journalHeaderLen]byte
		k, err := f.ReadAt(h[:], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		r, want, fields, err := decodeJournalHeader(h[:k], off, size, fill)
		if err != nil {
			return recs, nil
		}
		pathLen := int(binary.LittleEndian.Uint32(h[4:8]))
		path := make([]byte, pathLen)
		if _, err := f.ReadAt(path, off+r.hdrLen); err != nil {
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		crc := crc32.Checksum(path, castagnoli)
		sum, err := crcOf(f, off+r.hdrLen+int64(pathLen), r.dataLen, crc, buf)
		if err != nil {
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		if journalSum(fields, sum) != want {
			return recs, nil
		}
		r.path = string(path)
		recs = append(recs, r)
		fill = r.fill
		off = r.end()
	}
}

// crcOf continues crc over n bytes of f from off, reading through buf.
func crcOf(f io.ReaderAt, off, n int64, crc uint32, buf []byte) (uint32, error) {
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.ReadAt(buf[:k], off); err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, castagnoli, buf[:k])
		off, n = off+k, n-k
	}
	return crc, nil
}
