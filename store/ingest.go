package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Instance describes one received instance as the network layer knows it
// (from the C-STORE command and the association).
type Instance struct {
	SOPClassUID, SOPInstanceUID string // Affected SOP Class/Instance UID of the C-STORE-RQ
	TransferSyntaxUID           string // accepted transfer syntax of the presentation context
	CallingAE, CalledAE         string
	RemoteAddr                  string // ip:port of the peer
}

// Stored is what Ingest reports about an instance it stored.
type Stored struct {
	Path        string // relative to the storage root, slash-separated
	Size        int64  // bytes of the whole Part-10 file
	DataSetSize int64  // bytes of the data set as received
	Header      Header // header values read from the data set
	// Warning is non-empty when the instance was stored but deserves a
	// warning status (B007): the data set's SOP Class/Instance UID differs
	// from the command or is missing (the command's is used then), or the
	// data set is malformed within its header.
	Warning string
	// Replaced reports that an earlier instance with the same path (same
	// SOP Instance UID and hierarchy) was replaced.
	Replaced bool
}

const (
	partExt = ".part"
	// headerWindow is how much of the temp file one read of the header scan
	// fetches: the header of almost every data set fits in one read.
	headerWindow = 32 << 10
)

// Ingest stores one instance whose data set (no preamble, no meta group,
// encoded in in.TransferSyntaxUID) is read from data up to io.EOF.
//
// The data set is streamed through a fixed buffer into a temp file behind a
// new meta group, its header is read back, the file is fsynced and renamed
// into the tree and its directory fsynced; only then does Ingest return nil.
// On any error nothing is left in the tree or in .incoming. The errors are
// classified with ErrOutOfResources and ErrCannotUnderstand; an error from
// data (or ctx) is returned wrapped as it is. See the package comment for the
// status each deserves. Ingest is safe for concurrent use.
func (s *Store) Ingest(ctx context.Context, in Instance, data io.Reader) (Stored, error) {
	start := time.Now()
	id := trimUID(in.SOPInstanceUID)
	ts := trimUID(in.TransferSyntaxUID)
	if ts == "" {
		return Stored{}, fmt.Errorf("store %s: no transfer syntax", id)
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp

	meta := metaInfo{
		SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID, TransferSyntaxUID: ts,
		ImplementationClassUID:    s.opt.ImplementationClassUID,
		ImplementationVersionName: s.opt.ImplementationVersionName,
		CallingAE:                 in.CallingAE, CalledAE: in.CalledAE,
	}
	metaLen := int64(len(appendFileMeta(buf[:0], meta)))

	t, err := s.newTemp()
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: create temp file: %w: %w", id, ErrOutOfResources, err)
	}
	defer func() { t.discard(s) }() // no-op once renamed

	n, rerr, werr := s.copyIn(ctx, t.f, buf, int(metaLen), data)
	if rerr != nil {
		return Stored{}, fmt.Errorf("store %s: receive data set: %w", id, rerr)
	}
	if werr != nil {
		return Stored{}, fmt.Errorf("store %s: write: %w: %w", id, ErrOutOfResources, werr)
	}

	hdr, res, err := readHeader(t.f, metaLen, n, ts, buf[:headerWindow])
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}
	warning, rewrite := reconcile(&hdr, in, res)
	if hdr.SOPInstanceUID == "" {
		return Stored{}, fmt.Errorf("store: %w: no SOP Instance UID in the command or the data set", ErrCannotUnderstand)
	}
	id = hdr.SOPInstanceUID
	if rewrite { // the meta group must name the data set's own UIDs
		meta.SOPClassUID, meta.SOPInstanceUID = hdr.SOPClassUID, hdr.SOPInstanceUID
		nt, ml, err := s.rewrite(t, meta, metaLen, n)
		if err != nil {
			return Stored{}, fmt.Errorf("store %s: rewrite meta group: %w: %w", id, ErrOutOfResources, err)
		}
		t.discard(s)
		t, metaLen = nt, ml
	}

	if s.opt.Sync {
		if err := s.do("sync", t.f.Sync); err != nil {
			return Stored{}, fmt.Errorf("store %s: sync: %w: %w", id, ErrOutOfResources, err)
		}
	}
	t.closed = true
	if err := s.do("close", t.f.Close); err != nil {
		return Stored{}, fmt.Errorf("store %s: close: %w: %w", id, ErrOutOfResources, err)
	}

	comps := layout(hdr)
	abs, rel, err := resolve(s.root, comps[:])
	if err != nil {
		return Stored{}, fmt.Errorf("store %s: %w", id, err)
	}
	if err := s.ensureDir(comps[:3]); err != nil {
		return Stored{}, fmt.Errorf("store %s: create directory: %w: %w", id, ErrOutOfResources, err)
	}
	_, statErr := os.Lstat(abs)
	if err := s.rename(t.name, abs, comps[:3]); err != nil {
		return Stored{}, fmt.Errorf("store %s: rename: %w: %w", id, ErrOutOfResources, err)
	}
	t.name = "" // in the tree now: nothing to discard
	if s.opt.Sync {
		// The file is complete and fsynced; only its directory entry may not be
		// durable. It stays (it may have replaced an older copy); the caller
		// answers a failure and the sender's retry replaces it.
		if err := s.syncDir(filepath.Dir(abs)); err != nil {
			return Stored{}, fmt.Errorf("store %s: sync directory: %w: %w", id, ErrOutOfResources, err)
		}
	}

	st := Stored{Path: rel, Size: metaLen + n, DataSetSize: n, Header: hdr, Warning: warning, Replaced: statErr == nil}
	if warning != "" {
		s.log.Warn("store: stored with warning", "path", rel, "calling_ae", in.CallingAE, "remote", in.RemoteAddr, "warning", warning)
	}
	s.log.Debug("store: stored", "path", rel, "bytes", st.Size, "replaced", st.Replaced, "took", time.Since(start))
	return st, nil
}

// tempFile is a file being written in .incoming.
type tempFile struct {
	f      *os.File
	name   string // "" once renamed into the tree
	closed bool
}

// newTemp creates a new file with a random name in .incoming (O_EXCL).
func (s *Store) newTemp() (*tempFile, error) {
	f, name, err := s.createTemp()
	if err != nil {
		return nil, err
	}
	return &tempFile{f: f, name: name}, nil
}

func (s *Store) createTemp() (*os.File, string, error) {
	var err error
	for range 4 {
		var rb [16]byte
		_, _ = rand.Read(rb[:])
		name := filepath.Join(s.incoming, hex.EncodeToString(rb[:])+partExt)
		if err = s.fault("create"); err != nil {
			return nil, "", err
		}
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", err
}

// discard closes and removes a temp file that did not make it into the tree.
func (t *tempFile) discard(s *Store) {
	if t == nil || t.name == "" {
		return
	}
	if !t.closed {
		t.f.Close()
		t.closed = true
	}
	if err := os.Remove(t.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("store: cannot remove temp file", "file", t.name, "err", err)
	}
	t.name = ""
}

// copyIn writes buf[:fill] (the meta group) and then everything read from r
// to f, through buf, in writes of len(buf) bytes. It returns the number of
// bytes read from r and either a read error (from r or ctx) or a write error.
func (s *Store) copyIn(ctx context.Context, f *os.File, buf []byte, fill int, r io.Reader) (n int64, rerr, werr error) {
	for {
		if err := ctx.Err(); err != nil {
			return n, err, nil
		}
		k, err := r.Read(buf[fill:])
		if k < 0 || k > len(buf)-fill {
			return n, fmt.Errorf("reader returned invalid count %d", k), nil
		}
		n += int64(k)
		fill += k
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err, nil
		}
		if fill == len(buf) || (err != nil && fill > 0) {
			if werr := s.do("write", func() error { _, e := f.Write(buf[:fill]); return e }); werr != nil {
				return n, nil, werr
			}
			fill = 0
		}
		if err != nil {
			return n, nil, nil
		}
	}
}

// rewrite copies the data set of t behind a new meta group into a new temp
// file (copy_file_range where the kernel has it). It returns the new file and
// the new meta group length.
func (s *Store) rewrite(t *tempFile, meta metaInfo, oldMetaLen, n int64) (*tempFile, int64, error) {
	head := appendFileMeta(nil, meta)
	nt, err := s.newTemp()
	if err != nil {
		return nil, 0, err
	}
	err = s.do("write", func() error {
		if _, err := nt.f.Write(head); err != nil {
			return err
		}
		if _, err := t.f.Seek(oldMetaLen, io.SeekStart); err != nil {
			return err
		}
		c, err := io.Copy(nt.f, io.LimitReader(t.f, n))
		if err == nil && c != n {
			err = io.ErrShortWrite
		}
		return err
	})
	if err != nil {
		nt.discard(s)
		return nil, 0, err
	}
	return nt, int64(len(head)), nil
}

// rename moves the temp file into the tree. When the target directory has
// vanished (removed behind the store's back), it forgets the cached
// directories, creates them again and retries once.
func (s *Store) rename(from, to string, dirComps []string) error {
	err := s.do("rename", func() error { return os.Rename(from, to) })
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Stat(from); serr != nil {
		return err
	}
	for i := range dirComps {
		s.dirs.forget(filepath.Join(append([]string{s.root}, dirComps[:i+1]...)...))
	}
	if err := s.ensureDir(dirComps); err != nil {
		return err
	}
	return s.do("rename", func() error { return os.Rename(from, to) })
}

// do runs a file system operation unless the test hook injects a failure.
func (s *Store) do(op string, f func() error) error {
	if err := s.fault(op); err != nil {
		return err
	}
	return f()
}

// reconcile fills in the SOP UIDs the data set lacks from the command and
// returns the warning to report and whether the meta group written from the
// command must be rewritten with the data set's own UIDs.
func reconcile(h *Header, in Instance, res scanResult) (warning string, rewrite bool) {
	var w []string
	for _, u := range []struct {
		name string
		ds   *string
		cmd  string
	}{
		{"SOP Class UID", &h.SOPClassUID, trimUID(in.SOPClassUID)},
		{"SOP Instance UID", &h.SOPInstanceUID, trimUID(in.SOPInstanceUID)},
	} {
		switch {
		case *u.ds == "":
			*u.ds = u.cmd
			w = append(w, fmt.Sprintf("data set has no %s; the command's %q is used", u.name, u.cmd))
		case *u.ds != u.cmd:
			w = append(w, fmt.Sprintf("data set %s %q differs from the command's %q", u.name, *u.ds, u.cmd))
			rewrite = true
		}
	}
	if res.err != nil {
		w = append(w, fmt.Sprintf("data set is malformed at byte %d: %v", res.errAt, res.err))
	}
	return strings.Join(w, "; "), rewrite
}
