package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
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
	e := &Engine{log: log, hub: NewHub(), cfg: cfg, studies: NewStudyTracker(time.Duration(cfg.StudyCompleteAfter), 0)}
	e.storage.want = cfg
	e.setView(false, "Stopped")
	return e
}

// Events returns the hub that fans out the engine's events.
func (e *Engine) Events() *Hub { return e.hub }

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
	if err := e.startLocked(); err != nil {
		e.setView(false, "Not listening: "+err.Error())
		return err
	}
	e.startWatchLocked()
	e.setView(true, fmt.Sprintf("Listening as %s on port %d", e.cfg.AETitle, e.addr.(*net.TCPAddr).Port))
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
	h := &storeHandler{store: st, minFree: cfg.MinFreeMB << 20, log: e.log, refs: &e.refs}
	srv, err := scp.NewServer(scp.Config{
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
	})
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
	e.srv, e.addr, e.done = srv, l.Addr(), make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, scp.ErrServerClosed) {
			e.log.Error("listener stopped", "err", err)
		}
	}(e.done)
	e.log.Info("listening", "ae_title", cfg.AETitle, "addr", l.Addr().String(), "storage", cfg.StorageDir)
	return nil
}

// describeListenError turns a listen failure into a sentence a user can act on.
func describeListenError(port int, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("port %d is already in use by another program", port)
	case errors.Is(err, syscall.EACCES):
		if port < 1024 {
			return fmt.Errorf("port %d needs administrator rights (ports below 1024 are privileged)", port)
		}
		return fmt.Errorf("permission denied for port %d", port)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("the listen address is not an address of this computer: %w", err)
	}
	return fmt.Errorf("cannot listen on port %d: %w", port, err)
}

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

// Apply replaces the configuration. When the engine was running it is
// restarted gracefully (bounded by ctx) with the new settings. A changed
// storage folder (or another setting the store is opened with) is reopened
// at the next use.
func (e *Engine) Apply(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	wasRunning := e.srv != nil
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
	if wasRunning {
		return e.Start()
	}
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
