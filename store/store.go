package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dicominbox/dicominbox/store/index"
)

// Defaults written into the File Meta Information group.
const (
	// DefaultImplementationClassUID identifies DICOM Inbox (a UUID-derived
	// 2.25 UID, PS3.5 B.2).
	DefaultImplementationClassUID = "2.25.184604382036183931407233633429712466651"
	// DefaultImplementationVersionName is written as (0002,0013). Both equal
	// scp.ImplementationClassUID/VersionName: files and the network agree.
	DefaultImplementationVersionName = "DICOMINBOX_010"
)

// Options configure a Store. Start from DefaultOptions: the zero value has
// Sync off.
type Options struct {
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// Sync makes Ingest fsync the file and the directories it changed before
	// it returns. Turn it off only for tests and benchmarks.
	Sync bool
	// ImplementationClassUID and ImplementationVersionName go into the meta
	// group of every file; empty means the defaults above.
	ImplementationClassUID, ImplementationVersionName string
	// DuplicatePolicy says what a second copy of a SOP Instance UID does
	// (default DuplicateReplace).
	DuplicatePolicy DuplicatePolicy
	// SpareTempFiles is how many empty temp files a background goroutine
	// keeps ready (0: none, files are created when an instance arrives).
	SpareTempFiles int
	// IndexSynchronous is SQLite's synchronous setting for the index
	// ("NORMAL" by default: see docs/index-schema.md).
	IndexSynchronous string
	// Outbox, when set, builds the outbox event of every instance that gets
	// stored (by Ingest or by the reconcile at Open), written in the same
	// transaction as its index row; nil writes no events. Reindex never
	// writes events.
	Outbox index.OutboxFunc
	// JournalBytes is the size of each of the two journal files that make
	// small instances durable with one shared fdatasync (see the package
	// comment); 0 means 32 MiB, a negative value turns the journal off
	// (every instance is then fsynced with its folder). Only with Sync.
	JournalBytes int64
	// JournalMaxInstance is the largest file that goes through the journal
	// (0: 96 KiB; at most a quarter of JournalBytes); larger ones are fsynced
	// on their own, where the fsync costs little next to the transfer.
	JournalMaxInstance int64
	// OutboxReady is called (it must not block) when outbox events become
	// readable, to wake the relay that publishes them.
	OutboxReady func()
	// KeepPageCache keeps the pages of stored files in the page cache. By
	// default a stored file's clean pages are dropped once its data is on
	// disk (dropbehind.go).
	KeepPageCache bool
	// Progress, when set, is called during the reconcile at Open (and so
	// during Reindex) with the number of stored files looked at so far:
	// every reconcileProgressEvery files and once at the end. It runs on
	// the opening goroutine and must be quick.
	Progress func(files int)
}

// DefaultOptions returns the options for production use: Sync on, default
// implementation identification, slog.Default().
func DefaultOptions() Options {
	return Options{
		Sync:                      true,
		ImplementationClassUID:    DefaultImplementationClassUID,
		ImplementationVersionName: DefaultImplementationVersionName,
	}
}

// Store is a file tree of received instances. It is safe for concurrent use.
type Store struct {
	root     string // absolute, cleaned
	incoming string // root/.incoming
	opt      Options
	log      *slog.Logger
	dirs     dirCache
	dsync    *dirSyncer
	idx      *index.DB
	spares   *spareFiles // nil unless Options.SpareTempFiles > 0
	drops    *dropper    // nil unless dropBehind()
	jr       *journal    // nil when the journal is off
	bufs     sync.Pool   // *[]byte of copyBufSize
	sopLocks keyLocks    // one Ingest at a time per SOP Instance UID
	// placing is held for reading by an Ingest from before its index row is
	// queued until its file is in the tree (or known not to be), and for
	// writing by a delete: so a delete finds every committed row's file in
	// place, and no row commits under the study or series it deletes.
	placing sync.RWMutex
	// keepDuplicates is the duplicate policy (Options.DuplicatePolicy,
	// SetDuplicatePolicy): true for DuplicateKeep.
	keepDuplicates atomic.Bool
	mtimeGrain     time.Duration // of the file system's modification times; 0: unknown (mtime.go)

	// faultHook, when set (tests only), is called before each file system
	// operation named op ("create", "write", "sync", "close", "mkdir",
	// "rename", "dirsync", "delete" at the start of a delete); an error it
	// returns is used as that operation's.
	faultHook atomic.Pointer[func(op string) error]

	lock  *storageLock   // root's lock, released by Close (nil: none)
	ident folderIdentity // what CheckFolder compares (folder.go)
}

// copyBufSize is the size of the buffer a data set is copied through.
const copyBufSize = 256 << 10

// Open opens the storage tree at root, creating root and root/.incoming
// (0o755) when needed, removes the *.part files an earlier run left in
// .incoming, and checks that the root is a writable directory. The folder
// stays locked until Close: while it is open, another Open of it (in any
// process) fails with ErrInUse.
func Open(root string, opt Options) (*Store, error) {
	return open(root, opt, nil)
}

// open is Open; lock, when not nil, is root's lock, already taken by the
// caller (Reindex). The store releases it at Close, or at once when open
// fails.
func open(root string, opt Options, lock *storageLock) (_ *Store, err error) {
	defer func() {
		if err != nil {
			lock.release() // the caller's, or the one taken below
		}
	}()
	if root == "" {
		return nil, errors.New("store: open: empty root path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", root, err)
	}
	if opt.ImplementationClassUID == "" {
		opt.ImplementationClassUID = DefaultImplementationClassUID
	}
	if opt.ImplementationVersionName == "" {
		opt.ImplementationVersionName = DefaultImplementationVersionName
	}
	if err := checkUID(opt.ImplementationClassUID); err != nil {
		return nil, fmt.Errorf("store: open: implementation class UID: %w", err)
	}
	if err := checkSH(opt.ImplementationVersionName); err != nil {
		return nil, fmt.Errorf("store: open: implementation version name: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if !opt.DuplicatePolicy.Valid() {
		return nil, fmt.Errorf("store: open: unknown duplicate policy %q (want replace or keep)", opt.DuplicatePolicy)
	}
	s := &Store{root: abs, incoming: filepath.Join(abs, incomingDir), opt: opt, log: opt.Logger, dsync: newDirSyncer()}
	s.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	s.keepDuplicates.Store(opt.DuplicatePolicy == DuplicateKeep)

	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("store: open %s: create root: %w", abs, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("store: open %s: not a directory", abs)
	}
	if lock == nil {
		if lock, err = lockStorage(abs); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", abs, err)
		}
	}
	s.lock = lock
	if err := s.identifyFolder(); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	removed, err := s.removeLeftovers()
	if err != nil {
		return nil, fmt.Errorf("store: open %s: clean %s: %w", abs, incomingDir, err)
	}
	if removed > 0 {
		s.log.Info("store: removed unfinished files from an earlier run", "dir", s.incoming, "count", removed)
	}
	f, name, err := s.createTemp(partExt)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: root is not writable: %w", abs, err)
	}
	f.Close()
	s.mtimeGrain = probeMtimeGrain(name)
	if err := os.Remove(name); err != nil {
		return nil, fmt.Errorf("store: open %s: root is not writable: %w", abs, err)
	}
	s.jr, err = s.openJournal()
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.idx, err = index.Open(filepath.Join(abs, IndexFile), index.Options{Logger: s.log, Synchronous: opt.IndexSynchronous,
		Outbox: opt.Outbox, OutboxReady: opt.OutboxReady})
	if err != nil {
		s.jr.close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	if err := s.reconcileIndex(context.Background()); err != nil {
		s.jr.close()
		s.idx.Close()
		return nil, fmt.Errorf("store: open %s: reconcile: %w", abs, err)
	}
	if opt.SpareTempFiles > 0 {
		s.startSpares(opt.SpareTempFiles)
	}
	if s.dropBehind() {
		s.startDropper()
	}
	return s, nil
}

// Root returns the absolute path of the storage root.
func (s *Store) Root() string { return s.root }

// removeLeftovers deletes the *.part files in .incoming.
func (s *Store) removeLeftovers() (int, error) {
	entries, err := os.ReadDir(s.incoming)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), partExt) && !strings.HasSuffix(e.Name(), spareExt) {
			continue
		}
		if err := os.Remove(filepath.Join(s.incoming, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// setFaultHook sets (nil: clears) the test hook; safe while the store's
// goroutines run.
func (s *Store) setFaultHook(h func(op string) error) {
	if h == nil {
		s.faultHook.Store(nil)
		return
	}
	s.faultHook.Store(&h)
}

// fault returns the error the test hook injects for op, if any.
func (s *Store) fault(op string) error {
	if h := s.faultHook.Load(); h != nil {
		return (*h)(op)
	}
	return nil
}

// checkUID checks the syntax of a UID (PS3.5 9.1).
func checkUID(u string) error {
	if u == "" || len(u) > maxUILen {
		return fmt.Errorf("%q: want 1 to 64 characters", u)
	}
	for _, part := range strings.Split(u, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" || (len(part) > 1 && part[0] == '0') {
			return fmt.Errorf("%q: want dot-separated numbers without leading zeros", u)
		}
	}
	return nil
}

// checkSH checks a Short String value written into the meta group.
func checkSH(v string) error {
	if len(v) > maxSHLen {
		return fmt.Errorf("%q: want at most %d characters", v, maxSHLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return fmt.Errorf("%q: want printable ASCII without '\\'", v)
		}
	}
	return nil
}
