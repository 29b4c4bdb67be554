package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// A journal file is a run of records, each one stored file's whole content
// (Part-10, as it is written to the tree) with its path:
//
//	offset  size  field
//	0       4     magic: "DIJ1" live, "DIJX" withdrawn (the file must not be restored)
//	4       4     path length (bytes, at most journalMaxPath)
//	8       8     data length (bytes)
//	16      8     fill: random number of the run of records this one belongs to
//	24      8     seq: when that run started (Unix ns); orders the runs of two files
//	32      4     CRC-32C of bytes 4..31, the path and the data
//	36      4     zero
//	40      ...   path (relative to the storage root, slash-separated), then data,
//	              then zeros up to a multiple of 8 bytes
//
// The header is written after the path and data, and the checksum covers
// them all but the magic, so a torn or half-written record fails the check
// and withdrawing a record (rewriting its magic) keeps the chain readable.
// A run ends at the first record whose magic, lengths, fill or checksum do
// not fit: records left from earlier runs carry another fill.
const (
	journalMagicLive      = "DIJ1"
	journalMagicWithdrawn = "DIJX"
	journalHeaderLen      = 40
	journalMaxPath        = 4096
)

// journalRecord is the header of one record and where it sits.
type journalRecord struct {
	off     int64 // of the header in the file
	live    bool
	path    string
	dataLen int64
	fill    uint64
	seq     int64
}

// dataOff is the offset of the record's data in the file.
func (r journalRecord) dataOff() int64 { return r.off + journalHeaderLen + int64(len(r.path)) }

// journalRecordLen is the bytes a record with this path and data takes.
func journalRecordLen(pathLen int, dataLen int64) int64 {
	return (journalHeaderLen + int64(pathLen) + dataLen + 7) &^ 7
}

// encodeJournalHeader fills h (journalHeaderLen bytes) for a live record;
// sum is the CRC-32C of the path and data, which is folded into the header's
// own checksum.
func encodeJournalHeader(h []byte, pathLen int, dataLen int64, fill uint64, seq int64, pathAndData uint32) {
	copy(h[0:4], journalMagicLive)
	binary.LittleEndian.PutUint32(h[4:8], uint32(pathLen))
	binary.LittleEndian.PutUint64(h[8:16], uint64(dataLen))
	binary.LittleEndian.PutUint64(h[16:24], fill)
	binary.LittleEndian.PutUint64(h[24:32], uint64(seq))
	binary.LittleEndian.PutUint32(h[32:36], journalSum(h[4:32], pathAndData))
	binary.LittleEndian.PutUint32(h[36:40], 0)
}

// journalSum combines the checksum of the header fields with that of the
// path and data (computed first, while the data was copied).
func journalSum(fields []byte, pathAndData uint32) uint32 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], pathAndData)
	return crc32.Update(crc32.Checksum(fields, castagnoli), castagnoli, b[:])
}

var errJournalEnd = errors.New("end of journal run")

// decodeJournalHeader parses the header at off of a file of size bytes. It
// returns errJournalEnd when no record of the run starts there (bad magic,
// lengths that do not fit, another fill when wantFill is not 0).
func decodeJournalHeader(h []byte, off, size int64, wantFill uint64) (journalRecord, uint32, error) {
	if len(h) < journalHeaderLen || size-off < journalHeaderLen {
		return journalRecord{}, 0, errJournalEnd
	}
	magic := string(h[0:4])
	if magic != journalMagicLive && magic != journalMagicWithdrawn {
		return journalRecord{}, 0, errJournalEnd
	}
	pathLen := int64(binary.LittleEndian.Uint32(h[4:8]))
	dataLen := binary.LittleEndian.Uint64(h[8:16])
	r := journalRecord{off: off, live: magic == journalMagicLive, fill: binary.LittleEndian.Uint64(h[16:24]),
		seq: int64(binary.LittleEndian.Uint64(h[24:32]))}
	room := size - off - journalHeaderLen
	if pathLen == 0 || pathLen > journalMaxPath || pathLen > room || dataLen > uint64(room-pathLen) ||
		r.fill == 0 || (wantFill != 0 && r.fill != wantFill) || binary.LittleEndian.Uint32(h[36:40]) != 0 {
		return journalRecord{}, 0, errJournalEnd
	}
	r.dataLen = int64(dataLen)
	return r, binary.LittleEndian.Uint32(h[32:36]), nil
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
		if _, err := f.ReadAt(h[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return recs, nil
			}
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		r, want, err := decodeJournalHeader(h[:], off, size, fill)
		if err != nil {
			return recs, nil
		}
		pathLen := int(binary.LittleEndian.Uint32(h[4:8]))
		path := make([]byte, pathLen)
		if _, err := f.ReadAt(path, off+journalHeaderLen); err != nil {
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		crc := crc32.Checksum(path, castagnoli)
		sum, err := crcOf(f, off+journalHeaderLen+int64(pathLen), r.dataLen, crc, buf)
		if err != nil {
			return recs, fmt.Errorf("read journal at %d: %w", off, err)
		}
		if journalSum(h[4:32], sum) != want {
			return recs, nil
		}
		r.path = string(path)
		recs = append(recs, r)
		fill = r.fill
		off += journalRecordLen(pathLen, r.dataLen)
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
