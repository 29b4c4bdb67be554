package scp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or Close.
var ErrServerClosed = errors.New("scp: server closed")

// Server accepts DICOM associations and answers C-ECHO and C-STORE, in the
// shape of net/http's Server: build it with NewServer, run Serve or
// ListenAndServe, stop it with Shutdown (graceful) or Close (abort all).
type Server struct {
	// cfg is the configuration new associations get (Reconfigure swaps it).
	cfg atomic.Pointer[Config]
	log *slog.Logger
	// rejects throttles the log lines of rejected associations (logthrottle.go).
	rejects *logThrottle

	nextID  atomic.Uint64
	active  atomic.Int64 // associations counted against MaxAssociations
	closing atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	assocs    map[*association]struct{}
	wg        sync.WaitGroup
	ready     chan struct{} // closed once the first listener is serving
	readyOnce sync.Once
	addr      net.Addr
}

// NewServer validates cfg, applies defaults and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("scp: config: %w", err)
	}
	s := &Server{
		log:       c.Logger,
		rejects:   newLogThrottle(c.Logger, rejectLogPeriod),
		listeners: make(map[net.Listener]struct{}),
		assocs:    make(map[*association]struct{}),
		ready:     make(chan struct{}),
	}
	s.cfg.Store(&c)
	return s, nil
}

// Config returns the effective configuration (defaults applied): the one
// new associations get.
func (s *Server) Config() Config { return *s.cfg.Load() }

// Reconfigure validates cfg, applies defaults and makes it the
// configuration of the associations accepted from now on, without closing
// the listener: AE titles, the calling AE list, limits, timeouts, PDU size,
// the handler and the hooks. Running associations keep the configuration
// they were accepted with (what they negotiated stays valid). The server's
// own logger (accept errors) is not replaced. On error nothing changes.
//
// MaxAssociations is compared, for each new connection, with the number of
// connections then open, so lowering it turns new peers away until enough
// running associations have ended; none is aborted.
func (s *Server) Reconfigure(cfg Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return fmt.Errorf("scp: config: %w", err)
	}
	s.cfg.Store(&c)
	return nil
}

// ListenAndServe listens on the TCP address addr ("host:port") and serves.
// A failure to listen is returned as is (e.g. the port is in use).
func (s *Server) ListenAndServe(addr string) error {
	if s.closing.Load() {
		return ErrServerClosed
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Ready is closed once Serve is accepting connections; Addr is then valid.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address of the listener being served, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ActiveAssociations returns the number of connections being served.
func (s *Server) ActiveAssociations() int { return int(s.active.Load()) }

// Serve accepts connections on l, one goroutine per association, until
// Shutdown or Close. It always returns a non-nil error: ErrServerClosed after
// Shutdown/Close, otherwise the accept error.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	if s.addr == nil {
		s.addr = l.Addr()
	}
	s.mu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("scp: accept: %w", err)
		}
		backoff = 0
		a := newAssociation(s, conn)
		if !s.track(a) {
			conn.Close()
			return ErrServerClosed
		}
		go a.serve()
	}
}

func (s *Server) track(a *association) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.assocs[a] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(a *association) {
	s.mu.Lock()
	delete(s.assocs, a)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting new connections, then waits for running
// associations to end by themselves (release or abort by the peer). When ctx
// is done first, the remaining associations are aborted and ctx.Err() is
// returned. Associations that are still negotiating or idle between messages
// are not interrupted until then.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	defer s.rejects.flush()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.abortAll("receiver shutting down")
		<-done
		return ctx.Err()
	}
}

// Close stops accepting and aborts every association at once (A-ABORT), then
// waits for their goroutines to finish.
func (s *Server) Close() error {
	s.closeListeners()
	defer s.rejects.flush()
	s.abortAll("receiver closed")
	s.wg.Wait()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	s.readyOnce.Do(func() { close(s.ready) })
}

func (s *Server) abortAll(why string) {
	s.mu.Lock()
	list := make([]*association, 0, len(s.assocs))
	for a := range s.assocs {
		list = append(list, a)
	}
	s.mu.Unlock()
	for _, a := range list {
		a.abortFromOutside(why)
	}
}

// emit hands e to the OnEvent hook of the configuration the association
// was accepted with.
func (a *association) emit(e Event) {
	if a.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.cfg.OnEvent(e)
}
