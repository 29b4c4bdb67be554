package app

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// The storage folder (file tree + index) has a life of its own, longer than
// the listener's: it is opened once, at the first Start or the first catalog
// query, and stays open while the listener is stopped, so that the window can
// browse, search and delete at any time. It is closed only by Close, or when
// Apply changed a setting it was opened with (then it is reopened at the next
// use). Everything that opens or closes it is in this file: openStoreLocked
// and closeStoreLocked are the only places, and Kafka forwarding (which reads
// the store's outbox) starts and stops with them.
//
// Locking: e.stMu guards the fields below. Catalog queries hold it for
// reading while they run, so the store is never closed under them. Lock
// order: e.mu before e.stMu, never the reverse.

// ErrClosed is returned by every method of an Engine after Close.
var ErrClosed = errors.New("the receiver is closed")

// storageState is what the engine's storage folder (Engine.store) was
// opened with and who uses it.
type storageState struct {
	// openedWith is the configuration the store was opened with; want is the one
	// it should have (the latest Apply). They differ in storeKey only
	// between an Apply and the reopen.
	openedWith, want Config
	// listening is true while a listener writes into st: it is then never
	// closed, whatever Apply says (the reopen waits for Stop).
	listening bool
	closed    bool
}

// storeKey is the part of cfg the store is opened with: a change in it
// needs a reopen. (The duplicate policy is not part of it: the open store
// takes a new one at once, see wantStore.)
type storeKey struct {
	dir       string
	noSync    bool
	keepCache bool
	kafka     KafkaConfig
}

func keyOf(c Config) storeKey {
	return storeKey{dir: c.StorageDir, noSync: c.NoSync, keepCache: c.KeepPageCache, kafka: c.Kafka}
}

// staleLocked reports whether the open store was opened with settings Apply
// has changed since. e.stMu must be held.
func (e *Engine) staleLocked() bool {
	return e.store != nil && !reflect.DeepEqual(keyOf(e.storage.openedWith), keyOf(e.storage.want))
}

// openStoreLocked opens the store with e.storage.want unless it is open and
// current. A stale store is closed first when no listener uses it. e.stMu
// must be held for writing.
func (e *Engine) openStoreLocked() (*store.Store, error) {
	s := &e.storage
	if s.closed {
		return nil, ErrClosed
	}
	if e.staleLocked() && !s.listening {
		e.closeStoreLocked()
	}
	if e.store != nil {
		return e.store, nil
	}
	cfg := s.want
	foreign := ForeignEntries(cfg.StorageDir)
	st, err := store.Open(cfg.StorageDir, e.kafka.storeOptions(cfg, e.storeOptions(cfg)))
	if err != nil {
		return nil, describeStoreError(cfg.StorageDir, err)
	}
	if foreign > 0 {
		e.log.Warn("the storage folder held other files before; its DICOM files are indexed as received, and deleting a study deletes its files",
			"dir", st.Root(), "entries", foreign)
	}
	e.kafka.start(st.Index(), e.log)
	e.store, s.openedWith = st, cfg
	e.log.Info("storage folder opened", "dir", st.Root())
	return st, nil
}

// storeOptions are the options the store of cfg is opened with (Kafka
// forwarding aside).
func (e *Engine) storeOptions(cfg Config) store.Options {
	return store.Options{
		Logger:                    e.log,
		Sync:                      !cfg.NoSync,
		ImplementationClassUID:    scp.ImplementationClassUID,
		ImplementationVersionName: scp.ImplementationVersionName,
		DuplicatePolicy:           store.DuplicatePolicy(cfg.DuplicatePolicy),
		SpareTempFiles:            4,
		KeepPageCache:             cfg.KeepPageCache,
	}
}

// rebuildIndexLocked closes the store (no listener may use it) and
// rebuilds the index of its folder from the files (store.Reindex). The
// store is reopened at the next use. e.stMu must be held for writing.
func (e *Engine) rebuildIndexLocked(progress func(files int)) (index.Totals, error) {
	switch {
	case e.storage.closed:
		return index.Totals{}, ErrClosed
	case e.storage.listening: // started again meanwhile (Start, Apply)
		return index.Totals{}, errors.New("the listener is running: stop it to rebuild the index")
	}
	e.closeStoreLocked()
	cfg := e.storage.want
	opt := e.storeOptions(cfg)
	opt.Progress = progress
	tot, err := store.Reindex(cfg.StorageDir, opt)
	if err != nil {
		return tot, describeStoreError(cfg.StorageDir, err)
	}
	return tot, nil
}

// closeStoreLocked stops Kafka forwarding and closes the store, if open.
// e.stMu must be held for writing and no listener may use the store.
func (e *Engine) closeStoreLocked() {
	if e.store == nil {
		return
	}
	e.kafka.stop(e.log)
	if err := e.store.Close(); err != nil {
		e.log.Warn("closing the index", "err", err)
	}
	e.log.Info("storage folder closed", "dir", e.store.Root())
	e.store = nil
}

// storeForListener opens (or reuses) the store for a listener that starts.
func (e *Engine) storeForListener() (*store.Store, error) {
	e.stMu.Lock()
	defer e.stMu.Unlock()
	st, err := e.openStoreLocked()
	if err != nil {
		return nil, err
	}
	e.storage.listening = true
	return st, nil
}

// listenerDone is called when a listener has stopped for good: the store
// stays open unless it became stale or the engine was closed meanwhile.
func (e *Engine) listenerDone() {
	e.stMu.Lock()
	defer e.stMu.Unlock()
	e.storage.listening = false
	if e.storage.closed || e.staleLocked() {
		e.closeStoreLocked()
	}
}

// wantStore records the configuration the store should have, gives the
// open store the duplicate policy of cfg, and closes a stale one that no
// listener uses (it is reopened at the next use).
func (e *Engine) wantStore(cfg Config) {
	e.stMu.Lock()
	defer e.stMu.Unlock()
	e.storage.want = cfg
	if e.store != nil {
		if err := e.store.SetDuplicatePolicy(store.DuplicatePolicy(cfg.DuplicatePolicy)); err != nil {
			e.log.Warn("duplicate policy not applied", "err", err) // Validate refuses it first
		}
	}
	if e.staleLocked() && !e.storage.listening {
		e.closeStoreLocked()
	}
}

// withStore runs fn with the open store (opening it when needed), holding
// e.stMu for reading so that the store stays open until fn returns.
func (e *Engine) withStore(fn func(*store.Store) error) error {
	if err := e.watchOrLost(); err != nil { // not an empty folder in its place
		return err
	}
	e.stMu.RLock()
	if s := &e.storage; e.store == nil || s.closed || e.staleLocked() && !s.listening {
		e.stMu.RUnlock()
		e.stMu.Lock()
		_, err := e.openStoreLocked()
		e.stMu.Unlock()
		if err != nil {
			return err
		}
		e.stMu.RLock()
	}
	defer e.stMu.RUnlock()
	st := e.store
	if st == nil { // closed between the two locks
		return ErrClosed
	}
	err := fn(st)
	if index.IsDamaged(err) {
		return damagedIndexError(st.Root(), err)
	}
	return err
}

// closeStorage marks the engine closed and closes the store unless a
// listener still drains into it (listenerDone closes it then).
func (e *Engine) closeStorage() {
	e.stMu.Lock()
	defer e.stMu.Unlock()
	e.storage.closed = true
	if !e.storage.listening {
		e.closeStoreLocked()
	}
}

// describeStoreError says why the storage folder dir could not be opened;
// a folder that another DICOM Inbox has open, and a damaged index, get a
// sentence of their own that says what to do.
func describeStoreError(dir string, err error) error {
	var inUse *store.InUseError
	switch {
	case errors.As(err, &inUse): // "in use by another DICOM Inbox (process N)"
		return &describedError{fmt.Sprintf("storage folder %s is %v; a folder takes one receiver at a time", dir, inUse), err}
	case index.IsDamaged(err):
		return damagedIndexError(dir, err)
	}
	return fmt.Errorf("storage folder %s: %w", dir, err)
}

// damagedIndexError says that the index of storage folder dir is damaged
// (index.IsDamaged(err)) and how to rebuild it.
func damagedIndexError(dir string, err error) error {
	return &describedError{fmt.Sprintf("the index of storage folder %s is damaged (%v); rebuild it from the stored files "+
		"(which are not touched), with no DICOM Inbox running in that folder: dicominbox reindex --storage %q",
		dir, rootCause(err), dir), err}
}

// rootCause is the innermost error of err's chain (through single Unwrap).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
