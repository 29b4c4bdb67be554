package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dicominbox/dicominbox/store"
)

// The storage folder can go away under the receiver: a USB or network disk
// unplugged or unmounted, the folder deleted or moved in a file manager.
// The open store's files then belong to a folder that is no longer at its
// path, and every instance would fail with A700 for as long as the
// receiver runs. So the engine's watcher (studywatch.go) checks the open
// store's folder every second (store.CheckFolder: two stat
// calls), and each new association is checked too (storeHandler.admit).
//
// When the folder is gone, the engine stops the listener, closes the store
// and says so in its status ("Not listening: storage folder … was
// removed, replaced or unmounted"); catalog queries fail with the same
// sentence instead of creating an empty folder in its place. When a
// storage folder is back at that path (one that a DICOM Inbox has used:
// store.IsStorageFolder; not an empty mount point), the listener starts
// again by itself if it was running. Start, or settings that name another
// folder, end the wait at once (Start creates the folder anew if needed).

// folderCheckEvery is how often the watcher checks the storage folder
// (Engine.folderEvery; tests shorten it).
const folderCheckEvery = time.Second

// folderLostDrain bounds how long the associations running when the folder
// went away may go on before they are aborted (they cannot store anything).
const folderLostDrain = 5 * time.Second

// lostFolder is the engine's state while its storage folder is gone
// (Engine.lost, guarded by e.mu).
type lostFolder struct {
	configDir string // Config.StorageDir when it went
	root      string // the store's absolute root
	resume    bool   // the listener ran: start it again when the folder is back
	err       error  // what Status and the catalog say
}

// checkFolder is the watcher's periodic check.
func (e *Engine) checkFolder() {
	e.mu.Lock()
	lost := e.lost
	e.mu.Unlock()
	if lost != nil {
		if store.IsStorageFolder(lost.root) {
			e.folderBack(lost)
		}
		return
	}
	e.stMu.RLock()
	st := e.store
	e.stMu.RUnlock()
	if st == nil {
		return
	}
	if err := st.CheckFolder(); err != nil {
		e.folderLost(st, err)
	}
}

// folderLost stops the listener and closes st, whose folder is gone
// (cause), and waits for the folder to come back.
func (e *Engine) folderLost(st *store.Store, cause error) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	wasRunning := e.srv != nil
	configDir := e.cfg.StorageDir
	e.mu.Unlock()
	lostErr := folderLostError(st.Root(), wasRunning, cause)
	e.log.Error("storage folder lost", "dir", st.Root(), "err", cause, "listening_stopped", wasRunning)
	if wasRunning {
		ctx, cancel := context.WithTimeout(context.Background(), folderLostDrain)
		if err := e.Stop(ctx); err != nil {
			e.log.Warn("associations aborted: the storage folder is gone", "err", err)
		}
		cancel()
	}
	e.stMu.Lock()
	if e.store == st && !e.storage.listening {
		e.closeStoreLocked()
	}
	e.stMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil || e.closing { // started again meanwhile (Start)
		return
	}
	e.lost = &lostFolder{configDir: configDir, root: st.Root(), resume: wasRunning, err: lostErr}
	e.setView(false, "Not listening: "+lostErr.Error())
}

// folderLostError says that the storage folder dir went away and what
// happens next.
func folderLostError(dir string, resume bool, cause error) error {
	next := "start listening to create it anew"
	if resume {
		next = "listening starts again when it is back, or start listening to create it anew"
	}
	return &describedError{fmt.Sprintf("storage folder %s was removed, replaced or unmounted while in use "+
		"(a disk unplugged?); %s", dir, next), cause}
}

// folderBack ends the wait for lost: the listener starts again if it ran.
func (e *Engine) folderBack(lost *lostFolder) {
	e.mu.Lock()
	if e.lost != lost {
		e.mu.Unlock()
		return
	}
	e.lost = nil
	if !lost.resume {
		e.setView(false, "Stopped")
	}
	e.mu.Unlock()
	e.log.Info("storage folder is back", "dir", lost.root, "listening", lost.resume)
	if lost.resume {
		if err := e.Start(); err != nil {
			e.log.Error("could not start listening again", "err", err)
		}
	}
}

// lostErr is the error of the storage folder that went away, or nil. e.mu
// must not be held.
func (e *Engine) lostErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lost == nil {
		return nil
	}
	return e.lost.err
}

// endWaitLocked ends the wait for a lost folder (Start, and Apply with
// another folder) and reports whether the listener was to start again.
// e.mu held.
func (e *Engine) endWaitLocked() (resume bool) {
	if e.lost == nil {
		return false
	}
	resume = e.lost.resume
	e.lost = nil
	return resume
}
