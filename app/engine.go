package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// Engine is the receiver: a storage folder (opened once, see storage.go)
// and a DICOM listener that starts and stops over it. The catalog methods
// (catalog.go) work whether the listener runs or not. It is safe for
// concurrent use.
type Engine struct {
	log  *slog.Logger
	hub  *Hub
	refs studyRefs // study of each instance being stored, for the hub's events
	// studies decides when studies are complete (studywatch.go); the
	// listener's event hook feeds it, the watcher ticks it.
	studies *StudyTracker
	// phases, when set (SetPhaseLog), gets a line per stored instance.
	phases *PhaseLog

	mu   sync.Mutex
	cfg  Config
	srv  *scp.Server
	addr net.Addr
	done chan struct{} // closed when Serve returns
	// closing is set by Close: Start refuses from then on.
	closing bool
	kafka   kafkaLink // Kafka forwarding (kafka.go)
	// The study watcher (studywatch.go): running from the first Start
	// until Close when watchStop is not nil.
	watchStop, watchDone chan struct{}
	// lost is set while the storage folder is gone (folderwatch.go);
	// the watcher checks the folder every folderEvery.
	lost        *lostFolder
	folderEvery time.Duration

	// The storage folder (storage.go), guarded by stMu.
	stMu    sync.RWMutex
	store   *store.Store
	storage storageState

	// view is what Running and Status report; it is read without taking mu
	// so that the window's polling never waits behind a slow Start or Stop.
	view atomic.Pointer[engineView]
}

type engineView struct {
	running bool
	status  string
}

func (e *Engine) setView(running bool, status string) {
	e.view.Store(&engineView{running: running, status: status})
}

// NewEngine returns a stopped engine for cfg.
func NewEngine(cfg Config, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	// Complete studies need not be remembered: instances that arrive later
	// start the study afresh whether it is remembered or not.
	e := &Engine{log: log, hub: NewHub(), cfg: cfg, studies: NewStudyTracker(time.Duration(cfg.StudyCompleteAfter), 0),
		folderEvery: folderCheckEvery}
	e.storage.want = cfg
	e.setView(false, "Stopped")
	return e
}

// SetPhaseLog makes the listeners started from now on write a line per
// stored instance to l (nil: none). The caller closes l once the engine is
// closed.
func (e *Engine) SetPhaseLog(l *PhaseLog) {
	e.mu.Lock()
	e.phases = l
	e.mu.Unlock()
}

// Events returns the hub that fans out the engine's events.
func (e *Engine) Events() *Hub { return e.hub }

// StudyProgress returns the engine's own view of a study it follows (the
// one that decides when a study is complete), for a window that may have
// missed events.
func (e *Engine) StudyProgress(studyUID string) (StudyProgress, bool) {
	return e.studies.Get(studyUID, time.Now())
}

// Config returns the current configuration.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// Start opens the storage folder (unless it is open) and starts listening. The error says in
// words why it could not start (port in use, permission, bad folder); Status
// says it too. Reporting it is the caller's job.
func (e *Engine) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return nil
	}
	if e.closing {
		return ErrClosed
	}
	e.endWaitLocked() // a folder that went away is created anew
	if err := e.startLocked(); err != nil {
		e.setView(false, "Not listening: "+err.Error())
		return err
	}
	e.startWatchLocked()
	e.setView(true, listeningStatus(e.cfg, e.addr))
	return nil
}

func (e *Engine) startLocked() error {
	cfg := e.cfg
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid settings: %w", err)
	}
	st, err := e.storeForListener()
	if err != nil {
		return err
	}
	srv, err := scp.NewServer(e.serverConfig(cfg, st))
	if err != nil {
		e.listenerDone()
		return err
	}
	addr := net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		e.listenerDone()
		return describeListenError(cfg.Port, err)
	}
	if l, err = cfg.TLS.wrap(l, e.log); err != nil {
		e.listenerDone()
		return err
	}
	e.srv, e.addr, e.done = srv, l.Addr(), make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, scp.ErrServerClosed) {
			e.log.Error("listener stopped", "err", err)
		}
	}(e.done)
	e.log.Info("listening", "ae_title", cfg.AETitle, "addr", l.Addr().String(), "storage", cfg.StorageDir, "tls", cfg.TLS.Enabled())
	return nil
}

// serverConfig is the listener's configuration for cfg, storing into st.
func (e *Engine) serverConfig(cfg Config, st *store.Store) scp.Config {
	h := &storeHandler{store: st, minFree: cfg.MinFreeMB << 20, log: e.log, refs: &e.refs, phases: e.phases}
	return scp.Config{
		AETitle:                 cfg.AETitle,
		AcceptAnyCalledAE:       !cfg.CheckCalledAE,
		AllowedCallingAEs:       cfg.AllowedCallingAEs,
		MaxAssociations:         cfg.MaxAssociations,
		MaxPDULength:            cfg.MaxPDULength,
		AcceptUnknownSOPClasses: cfg.AcceptUnknownSOPClasses,
		ARTIMTimeout:            time.Duration(cfg.ARTIMTimeout),
		IdleTimeout:             time.Duration(cfg.IdleTimeout),
		Handler:                 h,
		Admit:                   h.admit,
		OnEvent:                 e.publish,
		Logger:                  e.log,
	}
}

// listeningStatus is Status while the listener runs.
func listeningStatus(cfg Config, addr net.Addr) string {
	s := fmt.Sprintf("Listening as %s on port %d", cfg.AETitle, addr.(*net.TCPAddr).Port)
	if cfg.TLS.Enabled() {
		s += " (TLS)"
	}
	return s
}

// describeListenError turns a listen failure into a sentence a user can act
// on (a describedError). The sentence is the error's text; the listen error stays in its chain,
// so errors.Is(err, syscall.EADDRINUSE) holds for a port in use.
func describeListenError(port int, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return &describedError{fmt.Sprintf("port %d is already in use by another program", port), err}
	case errors.Is(err, syscall.EACCES):
		if port < 1024 {
			return &describedError{fmt.Sprintf("port %d needs administrator rights (ports below 1024 are privileged)", port), err}
		}
		return &describedError{fmt.Sprintf("permission denied for port %d", port), err}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("the listen address is not an address of this computer: %w", err)
	}
	return fmt.Errorf("cannot listen on port %d: %w", port, err)
}

// describedError is a failure described in words a user can act on (msg,
// its whole text) that wraps the failure itself.
type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }

// Stop stops accepting, lets running associations finish until ctx is done,
// then aborts the rest. The storage folder stays open (see Close).
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	srv, done := e.srv, e.done
	e.srv = nil
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	e.setView(true, "Stopping: waiting for running associations")
	err := srv.Shutdown(ctx)
	<-done
	e.listenerDone()
	e.setView(false, "Stopped")
	e.log.Info("listener stopped")
	return err
}

// Running reports whether the listener is up. It never blocks.
func (e *Engine) Running() bool { return e.view.Load().running }

// Status describes the listener in one line, e.g. "Listening as INBOX on
// port 11112", "Stopped" or why it could not start. It never blocks.
func (e *Engine) Status() string { return e.view.Load().status }

// Addr returns the listening address, or nil when stopped.
func (e *Engine) Addr() net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv == nil {
		return nil
	}
	return e.addr
}

// ActiveAssociations returns the number of associations being served.
func (e *Engine) ActiveAssociations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv == nil {
		return 0
	}
	return e.srv.ActiveAssociations()
}

// Apply replaces the configuration. While the listener runs, a change that
// needs no new socket and no reopened storage folder (AE title, called and
// calling AE checks, limits, timeouts, PDU size, duplicate policy,
// free-space floor, study idle time, the window's settings) applies to the
// associations accepted from now on, without a restart; running
// associations keep what they negotiated. A changed listen address, port
// or TLS setting, or a changed setting the storage folder is opened with
// (the folder, the sync mode, keeping the page cache, Kafka forwarding),
// restarts the listener gracefully (bounded by ctx). While stopped, the
// storage folder is reopened at the next use when needed.
func (e *Engine) Apply(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	srv := e.srv
	// Settings that name another folder end the wait for a lost one: the
	// listener starts on the new folder if it was to start again.
	resume := false
	if e.lost != nil && e.lost.configDir != cfg.StorageDir {
		if resume = e.endWaitLocked(); !resume {
			e.setView(false, "Stopped")
		}
	}
	if srv != nil && !needsRestart(e.cfg, cfg) {
		err := e.reconfigureLocked(srv, cfg)
		if err == nil {
			e.mu.Unlock()
			e.studies.SetTimes(time.Duration(cfg.StudyCompleteAfter), 0)
			return nil
		}
		e.log.Warn("settings could not be applied to the running listener; restarting it", "err", err)
	}
	wasRunning := srv != nil
	e.mu.Unlock()
	if wasRunning {
		if err := e.Stop(ctx); err != nil {
			e.log.Warn("associations aborted by the restart", "err", err)
		}
	}
	e.mu.Lock()
	e.cfg = cfg
	e.wantStore(cfg)
	e.mu.Unlock()
	e.studies.SetTimes(time.Duration(cfg.StudyCompleteAfter), 0)
	if wasRunning || resume {
		return e.Start()
	}
	return nil
}

// RebuildIndex rebuilds the index of the storage folder from its files, as
// `dicominbox reindex` does (a damaged index, or one that disagrees with
// the files). A running listener is stopped for it (running associations
// get until ctx ends to finish, then are aborted) and started again
// afterwards; the rebuild itself is not bounded by ctx. progress, when not
// nil, gets the number of files read so far now and then (on the calling
// goroutine). It returns what the new index holds.
func (e *Engine) RebuildIndex(ctx context.Context, progress func(files int)) (index.Totals, error) {
	if err := e.lostErr(); err != nil {
		return index.Totals{}, err
	}
	wasRunning := e.Running()
	if wasRunning {
		if err := e.Stop(ctx); err != nil {
			e.log.Warn("associations aborted to rebuild the index", "err", err)
		}
	}
	e.stMu.Lock()
	tot, err := e.rebuildIndexLocked(progress)
	e.stMu.Unlock()
	if err != nil {
		e.log.Error("index rebuild failed", "err", err)
	} else {
		e.log.Info("index rebuilt from the files", "studies", tot.Studies, "instances", tot.Instances)
	}
	if wasRunning {
		if serr := e.Start(); serr != nil && err == nil {
			err = serr
		}
	}
	return tot, err
}

// needsRestart reports whether going from old to cfg needs a new listener:
// the listen address or TLS changed, or a setting the storage folder is
// opened with (storeKey).
func needsRestart(old, cfg Config) bool {
	return old.Bind != cfg.Bind || old.Port != cfg.Port || old.TLS != cfg.TLS || !reflect.DeepEqual(keyOf(old), keyOf(cfg))
}

// reconfigureLocked hands cfg to the running listener srv for the
// associations it accepts from now on and makes it the engine's. e.mu held.
func (e *Engine) reconfigureLocked(srv *scp.Server, cfg Config) error {
	e.stMu.RLock()
	st := e.store
	e.stMu.RUnlock()
	if st == nil {
		return errStoreClosed
	}
	if err := srv.Reconfigure(e.serverConfig(cfg, st)); err != nil {
		return fmt.Errorf("reconfigure the listener: %w", err)
	}
	e.cfg = cfg
	e.wantStore(cfg)
	e.setView(true, listeningStatus(cfg, e.addr))
	e.log.Info("settings applied to the running listener", "ae_title", cfg.AETitle, "addr", e.addr.String())
	return nil
}

// Close stops the listener (as Stop, bounded by ctx), stops looking for
// complete studies and closes the storage folder, for the end of the
// program. Every method fails with ErrClosed afterwards, Start included.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	err := e.Stop(ctx)
	e.stopWatch()
	e.closeStorage()
	return err
}

// Kafka reports the state of Kafka forwarding. It never blocks.
func (e *Engine) Kafka() KafkaState {
	return e.kafka.state(e.Config().Kafka.Enabled)
}
