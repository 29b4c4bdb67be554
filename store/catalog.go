package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dicominbox/dicominbox/store/index"
)

// IndexFile is the name of the SQLite index inside the storage root.
const IndexFile = "index.db"

// DuplicatePolicy says what Ingest does with a SOP Instance UID that is
// already stored. Whatever the policy, identical content (same data set
// bytes) is a no-op, and there is never more than one row or one file per
// SOP Instance UID.
type DuplicatePolicy string

// Duplicate policies.
const (
	// DuplicateReplace (the default): the newer copy replaces the older one,
	// file and row; the older file is removed when it lived elsewhere.
	DuplicateReplace DuplicatePolicy = "replace"
	// DuplicateKeep: the first copy stays; a newer one is discarded (and
	// answered with success, as the instance is stored).
	DuplicateKeep DuplicatePolicy = "keep"
)

// Valid reports whether p is a known policy ("" counts as the default).
func (p DuplicatePolicy) Valid() bool {
	return p == "" || p == DuplicateReplace || p == DuplicateKeep
}

// SetDuplicatePolicy makes p the duplicate policy of the instances stored
// from now on (an Ingest already running may follow either policy). An
// unknown policy is refused and changes nothing.
func (s *Store) SetDuplicatePolicy(p DuplicatePolicy) error {
	if !p.Valid() {
		return fmt.Errorf("store: unknown duplicate policy %q (want replace or keep)", p)
	}
	s.keepDuplicates.Store(p == DuplicateKeep)
	return nil
}

// DuplicatePolicy returns the duplicate policy in force.
func (s *Store) DuplicatePolicy() DuplicatePolicy {
	if s.keepDuplicates.Load() {
		return DuplicateKeep
	}
	return DuplicateReplace
}

// Duplicate tells what happened to an instance that was already stored.
type Duplicate int

// Outcomes of Ingest for an already stored SOP Instance UID.
const (
	NotDuplicate       Duplicate = iota
	DuplicateReplaced            // the newer copy replaced the older one
	DuplicateIdentical           // same bytes as the stored copy: nothing changed
	DuplicateKept                // DuplicateKeep policy: the newer copy was discarded
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// contentHash names a data set's bytes by their CRC-32C and length. It only
// detects a change: a match is confirmed byte by byte before it counts.
func contentHash(crc uint32, size int64) string {
	return fmt.Sprintf("crc32c:%08x:%d", crc, size)
}

// Index returns the catalogue of the stored instances (for queries).
func (s *Store) Index() *index.DB { return s.idx }

// Close closes the index and releases the folder's lock. Ingest must not
// be called afterwards.
func (s *Store) Close() error {
	defer s.lock.release()
	s.stopSpares()
	s.stopDropper()
	jerr := s.jr.close()
	if jerr != nil {
		s.log.Error("store: journal checkpoint at close failed; the next start restores from it", "err", jerr)
	}
	if s.idx == nil {
		return jerr
	}
	if err := s.idx.Close(); err != nil {
		return err
	}
	return jerr
}

// duplicateOutcome decides what an earlier copy (prev) of the instance just
// received means: DuplicateKept under the keep policy, DuplicateIdentical
// when its data set bytes equal those of the temp file (whose data set starts
// at dataOff), NotDuplicate when the new copy replaces it.
func (s *Store) duplicateOutcome(prev *index.Instance, hash, rel, tempPath string, dataOff int64) Duplicate {
	switch {
	case prev == nil:
		return NotDuplicate
	case s.keepDuplicates.Load():
		return DuplicateKept
	case prev.ContentHash == hash && prev.Path == rel &&
		s.sameDataSet(filepath.Join(s.root, filepath.FromSlash(prev.Path)), tempPath, dataOff):
		return DuplicateIdentical
	}
	return NotDuplicate
}

// sameDataSet compares the data set bytes of a stored file with those of the
// temp file (whose data set starts at dataOff).
func (s *Store) sameDataSet(storedPath, tempPath string, dataOff int64) bool {
	a, err := os.Open(storedPath)
	if err != nil {
		return false
	}
	defer a.Close()
	m, err := readFileMeta(a)
	if err != nil {
		return false
	}
	b, err := os.Open(tempPath)
	if err != nil {
		return false
	}
	defer b.Close()
	fa, _ := a.Stat()
	fb, _ := b.Stat()
	if fa == nil || fb == nil || fa.Size()-m.dataOffset != fb.Size()-dataOff {
		return false
	}
	ra := io.NewSectionReader(a, m.dataOffset, fa.Size()-m.dataOffset)
	rb := io.NewSectionReader(b, dataOff, fb.Size()-dataOff)
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(ra, bufA)
		nb, eb := io.ReadFull(rb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return errors.Is(ea, io.EOF) || errors.Is(ea, io.ErrUnexpectedEOF)
		}
	}
}

// record builds the index row of a stored instance. NUL bytes, which SQLite
// text cannot hold, become U+FFFD.
func record(h Header, in Instance, rel string, size int64, hash string, mtime int64) index.Instance {
	h = h.withoutNUL()
	return index.Instance{
		SOPInstanceUID: h.SOPInstanceUID, SOPClassUID: h.SOPClassUID,
		StudyInstanceUID: h.StudyInstanceUID, SeriesInstanceUID: h.SeriesInstanceUID,
		PatientID: h.PatientID, PatientName: h.PatientName, PatientBirthDate: h.PatientBirthDate, PatientSex: h.PatientSex,
		StudyDate: h.StudyDate, StudyTime: h.StudyTime, StudyDescription: h.StudyDescription,
		AccessionNumber: h.AccessionNumber, StudyID: h.StudyID, ReferringPhysician: h.ReferringPhysicianName,
		SeriesNumber: atoi(h.SeriesNumber), SeriesDescription: h.SeriesDescription, Modality: h.Modality,
		BodyPart: h.BodyPartExamined, InstanceNumber: atoi(h.InstanceNumber), NumberOfFrames: atoi(h.NumberOfFrames),
		SpecificCharacterSet: h.SpecificCharacterSet, TransferSyntaxUID: in.TransferSyntaxUID,
		Path: rel, SizeBytes: size, ContentHash: hash,
		CallingAE: in.CallingAE, CalledAE: in.CalledAE, SourceIP: hostOf(in.RemoteAddr),
		ReceivedAt: unixNanoTime(mtime),
	}
}

// atoi parses an IS value; anything unparsable is 0.
func atoi(s string) int {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\\'); i >= 0 {
		s = s[:i]
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil {
		return 0
	}
	return n
}

// hostOf returns the IP of an "ip:port" peer address (the address itself
// when it has no port).
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// withoutNUL returns h with every NUL byte replaced by U+FFFD.
func (h Header) withoutNUL() Header {
	for i := range headerFields {
		p := headerFields[i].field(&h)
		*p = strings.ReplaceAll(*p, "\x00", "\uFFFD")
	}
	return h
}

// undoPut takes back the row Put committed for an instance whose file did
// not make it into the tree (or that changed nothing, a duplicate): the
// previous row comes back, or the row goes, and the outbox event of the Put
// goes with it, so no event announces an instance that was not stored.
func (s *Store) undoPut(sop string, out index.Outcome) {
	if err := s.idx.Restore(context.Background(), sop, out); err != nil {
		s.log.Warn("store: could not take back the index row of a failed instance; reconcile at the next start fixes it",
			"sop_instance", sop, "err", err)
	}
}
