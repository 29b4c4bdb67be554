package scp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/scp/pdu"
	"github.com/dicominbox/dicominbox/scp/uid"
)

const ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// memHandler keeps a digest of every data set it receives.
type memHandler struct {
	mu     sync.Mutex
	got    map[string][32]byte
	sizes  map[string]int
	status Status
}

func (h *memHandler) Store(_ context.Context, req *StoreRequest, r io.Reader) Status {
	b, err := io.ReadAll(r)
	if err != nil {
		return Status{Code: dimse.StatusProcessingFailure}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got == nil {
		h.got, h.sizes = map[string][32]byte{}, map[string]int{}
	}
	h.got[req.SOPInstanceUID] = sha256.Sum256(b)
	h.sizes[req.SOPInstanceUID] = len(b)
	return h.status
}

// startServer runs a Server on 127.0.0.1 and stops it when the test ends.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Handler == nil {
		cfg.Handler = &memHandler{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe("127.0.0.1:0") }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, srv.Addr().String()
}

func dialStore(t *testing.T, addr string, ts ...string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, DialConfig{CalledAE: "INBOX", Contexts: []ProposedContext{
		{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
		{AbstractSyntax: ctImageStorage, TransferSyntaxes: ts},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEchoAndStoreRoundTrip(t *testing.T) {
	h := &memHandler{}
	_, addr := startServer(t, Config{Handler: h, MaxPDULength: MinMaxPDULength})
	c := dialStore(t, addr, uid.ExplicitVRLittleEndian)
	ctx := context.Background()
	if st, err := c.Echo(ctx); err != nil || st != dimse.StatusSuccess {
		t.Fatalf("echo: status %04X, %v", st, err)
	}
	// Sizes around the fragment boundary (4096-6 bytes per PDV) and a large one.
	for i, size := range []int{0, 1, 4089, 4090, 4091, 3*4090 + 7, 1 << 20} {
		data := make([]byte, size)
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		inst := fmt.Sprintf("1.2.3.%d", i+1)
		st, err := c.Store(ctx, ctImageStorage, inst, uid.ExplicitVRLittleEndian, bytes.NewReader(data))
		if err != nil || st.Code != dimse.StatusSuccess {
			t.Fatalf("store %d bytes: %+v %v", size, st, err)
		}
		if h.got[inst] != sha256.Sum256(data) || h.sizes[inst] != size {
			t.Fatalf("store %d bytes: handler got %d bytes, different content", size, h.sizes[inst])
		}
	}
	if err := c.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
}

func TestNegotiationPolicy(t *testing.T) {
	_, addr := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, DialConfig{CalledAE: "INBOX", Contexts: []ProposedContext{
		{AbstractSyntax: ctImageStorage, TransferSyntaxes: []string{"1.2.840.10008.1.2.4.201"}},                           // HTJ2K: storable
		{AbstractSyntax: ctImageStorage, TransferSyntaxes: []string{"1.2.3.4.5.6"}},                                       // private TS
		{AbstractSyntax: "1.2.276.0.19.55.1.5.1.1.1", TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},             // private SOP class
		{AbstractSyntax: ctImageStorage, TransferSyntaxes: []string{uid.ExplicitVRBigEndian, uid.ExplicitVRLittleEndian}}, // LE preferred over BE
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(ctx)
	want := []struct {
		result pdu.PresentationContextResult
		ts     string
	}{
		{pdu.PCAcceptance, "1.2.840.10008.1.2.4.201"},
		{pdu.PCTransferSyntaxesNotSupported, ""},
		{pdu.PCAbstractSyntaxNotSupported, ""},
		{pdu.PCAcceptance, uid.ExplicitVRLittleEndian},
	}
	got := c.Accepted().PresentationContexts
	if len(got) != len(want) {
		t.Fatalf("%d answers, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Result != w.result || (w.result == pdu.PCAcceptance && got[i].TransferSyntax != w.ts) {
			t.Errorf("context %d: got result %d ts %q, want %d %q", got[i].ID, got[i].Result, got[i].TransferSyntax, w.result, w.ts)
		}
	}
}

func TestAcceptUnknownSOPClasses(t *testing.T) {
	_, addr := startServer(t, Config{AcceptUnknownSOPClasses: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	private := "1.2.276.0.19.55.1.5.1.1.1"
	c, err := Dial(ctx, addr, DialConfig{CalledAE: "INBOX", Contexts: []ProposedContext{
		{AbstractSyntax: private, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
		{AbstractSyntax: "1.2.840.10008.5.1.4.1.2.2.1", TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}, // Study Root Q/R FIND: never
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(ctx)
	if _, ok := c.ContextFor(private, uid.ImplicitVRLittleEndian); !ok {
		t.Error("private SOP class not accepted with AcceptUnknownSOPClasses")
	}
	if _, ok := c.ContextFor("1.2.840.10008.5.1.4.1.2.2.1", uid.ImplicitVRLittleEndian); ok {
		t.Error("a query/retrieve SOP class was accepted as if it were storage")
	}
}

func TestAssociationRejections(t *testing.T) {
	_, addr := startServer(t, Config{AllowedCallingAEs: []string{"MODALITY1"}})
	cases := []struct {
		name            string
		calling, called string
		reason          byte
	}{
		{"wrong called AE", "MODALITY1", "OTHER", pdu.RejectReasonCalledAENotRecognized},
		{"calling AE not allowed", "INTRUDER", "INBOX", pdu.RejectReasonCallingAENotRecognized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := Dial(ctx, addr, DialConfig{CallingAE: tc.calling, CalledAE: tc.called, Contexts: []ProposedContext{
				{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
			var rej *RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("got %v, want a rejection", err)
			}
			if rej.RJ.Result != pdu.RejectPermanent || rej.RJ.Source != pdu.RejectSourceUser || rej.RJ.Reason != tc.reason {
				t.Errorf("got %+v, want permanent/user/%d", rej.RJ, tc.reason)
			}
		})
	}
}

func TestMaxAssociations(t *testing.T) {
	_, addr := startServer(t, Config{MaxAssociations: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var open []*Client
	for range 2 {
		open = append(open, dialStore(t, addr, uid.ImplicitVRLittleEndian))
	}
	_, err := Dial(ctx, addr, DialConfig{CalledAE: "INBOX", Contexts: []ProposedContext{
		{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.RJ.Result != pdu.RejectTransient || rej.RJ.Source != pdu.RejectSourceProviderPresentation ||
		rej.RJ.Reason != pdu.RejectReasonLocalLimitExceeded {
		t.Fatalf("third association: got %v, want transient local-limit-exceeded", err)
	}
	for _, c := range open {
		c.Release(ctx)
	}
	// Slots are given back: a new association succeeds once the others ended.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := Dial(ctx, addr, DialConfig{CalledAE: "INBOX", Contexts: []ProposedContext{
			{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
		if err == nil {
			c.Release(ctx)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed after release: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHandlerStatusAndPanic(t *testing.T) {
	calls := 0
	h := HandlerFunc(func(_ context.Context, req *StoreRequest, r io.Reader) Status {
		calls++
		if calls == 1 {
			panic("boom")
		}
		// Return without reading: the server must drain the rest.
		return Status{Code: dimse.StatusWarningDataSetMismatch, Comment: "mismatch"}
	})
	_, addr := startServer(t, Config{Handler: h})
	c := dialStore(t, addr, uid.ImplicitVRLittleEndian)
	ctx := context.Background()
	big := make([]byte, 3<<20)
	st, err := c.Store(ctx, ctImageStorage, "1.2.3.1", uid.ImplicitVRLittleEndian, bytes.NewReader(big))
	if err != nil || st.Code != dimse.StatusOutOfResources {
		t.Fatalf("panicking handler: got %+v %v, want A700", st, err)
	}
	st, err = c.Store(ctx, ctImageStorage, "1.2.3.2", uid.ImplicitVRLittleEndian, bytes.NewReader(big))
	if err != nil || st.Code != dimse.StatusWarningDataSetMismatch || st.Comment != "mismatch" {
		t.Fatalf("warning handler: got %+v %v", st, err)
	}
	if s, err := c.Echo(ctx); err != nil || s != 0 {
		t.Fatalf("echo after drained data set: %04X %v", s, err)
	}
	c.Release(ctx)
}

func TestEventsOfAnAssociation(t *testing.T) {
	var mu sync.Mutex
	var kinds []EventKind
	var stored Event
	_, addr := startServer(t, Config{OnEvent: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind || e.Kind != BytesReceived {
			kinds = append(kinds, e.Kind)
		}
		if e.Kind == InstanceStored {
			stored = e
		}
	}})
	c := dialStore(t, addr, uid.ImplicitVRLittleEndian)
	ctx := context.Background()
	if _, err := c.Store(ctx, ctImageStorage, "1.2.3.4", uid.ImplicitVRLittleEndian, bytes.NewReader(make([]byte, 3<<20))); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	want := []EventKind{AssociationRequested, AssociationAccepted, InstanceStarted, BytesReceived, InstanceStored, AssociationReleased}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := fmt.Sprint(kinds)
		mu.Unlock()
		if got == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if stored.Bytes != 3<<20 || stored.SOPInstanceUID != "1.2.3.4" || stored.Association.CallingAE != "DICOMINBOX" {
		t.Errorf("InstanceStored event: %+v", stored)
	}
}

// TestReconfigure: a new configuration applies to the associations accepted
// afterwards; a running association keeps the one it was accepted with and
// goes on working; the listener is not closed.
func TestReconfigure(t *testing.T) {
	h := &memHandler{}
	srv, addr := startServer(t, Config{Handler: h, AllowedCallingAEs: []string{"OLDSCU"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(calling, called string) (*Client, error) {
		return Dial(ctx, addr, DialConfig{CallingAE: calling, CalledAE: called, Contexts: []ProposedContext{
			{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	}
	running, err := dial("OLDSCU", "INBOX")
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.Reconfigure(Config{Handler: h, AETitle: "NEWAE"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reconfigure(Config{Handler: h, AETitle: `BAD\AE`}); err == nil {
		t.Error("an invalid AE title was accepted")
	}
	if got := srv.Config().AETitle; got != "NEWAE" {
		t.Errorf("Config().AETitle = %q after a refused Reconfigure, want NEWAE", got)
	}
	var rj *RejectedError
	if _, err := dial("OLDSCU", "INBOX"); !errors.As(err, &rj) {
		t.Errorf("old called AE: %v, want a rejection", err)
	}
	c, err := dial("ANYONE", "NEWAE")
	if err != nil {
		t.Fatalf("new called AE, calling AE no longer restricted: %v", err)
	}
	if st, err := c.Echo(ctx); err != nil || st != dimse.StatusSuccess {
		t.Errorf("echo on a new association: %04X %v", st, err)
	}
	if err := c.Release(ctx); err != nil {
		t.Error(err)
	}
	// The association accepted before keeps working.
	if st, err := running.Echo(ctx); err != nil || st != dimse.StatusSuccess {
		t.Errorf("echo on the association accepted before: %04X %v", st, err)
	}
	if err := running.Release(ctx); err != nil {
		t.Error(err)
	}
}
