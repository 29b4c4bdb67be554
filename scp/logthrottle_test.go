package scp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp/uid"
)

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A peer rejected over and over is logged once per period, then summed up
// in one line; another reason is logged on its own; every rejection still
// reaches the event hook.
func TestRejectionLogThrottled(t *testing.T) {
	var out lockedBuffer
	var rejected atomic.Int64
	const repeats = 20
	srv, addr := startServer(t, Config{
		AllowedCallingAEs: []string{"MODALITY1"},
		Logger:            slog.New(slog.NewTextHandler(&out, nil)),
		OnEvent: func(e Event) {
			if e.Kind == AssociationRejected {
				rejected.Add(1)
			}
		},
	})
	srv.rejects.setPeriod(300 * time.Millisecond)
	dial := func(calling string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := Dial(ctx, addr, DialConfig{CallingAE: calling, CalledAE: "INBOX", Contexts: []ProposedContext{
			{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
		var rej *RejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("%s: got %v, want a rejection\n%s", calling, err, out.String())
		}
	}
	for range repeats {
		dial("INTRUDER")
	}
	dial("STRANGER")
	if n := rejected.Load(); n != repeats+1 {
		t.Errorf("%d rejection events, want %d (one per rejection)", n, repeats+1)
	}

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "more associations rejected") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	log := out.String()
	if n := strings.Count(log, `msg="association rejected"`); n != 2 {
		t.Errorf("%d full rejection lines, want 2 (one per reason):\n%s", n, log)
	}
	if !strings.Contains(log, "count=19") || !strings.Contains(log, "INTRUDER") || !strings.Contains(log, "peer_host=127.0.0.1") {
		t.Errorf("no summary of the 19 held-back rejections:\n%s", log)
	}
	if strings.Count(log, "more associations rejected") != 1 {
		t.Errorf("want one summary line (STRANGER was rejected once):\n%s", log)
	}
	// After the period the next rejection is logged in full again.
	dial("INTRUDER")
	if n := strings.Count(out.String(), `msg="association rejected"`); n != 3 {
		t.Errorf("%d full rejection lines after the period, want 3", n)
	}
}

// Shutdown logs the summaries of periods still open, so that they are not
// lost when the process exits within the minute.
func TestRejectionLogFlushedAtShutdown(t *testing.T) {
	var out lockedBuffer
	cfg := Config{AllowedCallingAEs: []string{"MODALITY1"}, Logger: slog.New(slog.NewTextHandler(&out, nil)),
		Handler: &memHandler{}}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe("127.0.0.1:0") }()
	<-srv.Ready()
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Dial(ctx, srv.Addr().String(), DialConfig{CallingAE: "INTRUDER", CalledAE: "INBOX", Contexts: []ProposedContext{
			{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
		cancel()
		var rej *RejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("got %v, want a rejection", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-errc
	if log := out.String(); !strings.Contains(log, "more associations rejected") || !strings.Contains(log, "count=2") {
		t.Errorf("no summary of the 2 held-back rejections at shutdown:\n%s", log)
	}
}
