package app

// Tests against real DCMTK 3.6.7 peers (echoscu, storescu, storescp,
// dcmqrscp): the engine must interoperate with the reference implementation,
// not only with our own SCU.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
)

// dcmtkTimeout bounds every DCMTK client run.
const dcmtkTimeout = 45 * time.Second

// TestDCMTKEcho: echoscu with the right called AE succeeds; with a wrong one
// it is rejected, and the receiver keeps serving afterwards.
func TestDCMTKEcho(t *testing.T) {
	echoscu := apptest.Tool(t, "echoscu")
	e, addr := startEngine(t, testConfig(t))
	port := portOf(t, addr)
	events, unsub := e.Events().Subscribe(256)
	defer unsub()

	out, err := apptest.RunCmd(t, dcmtkTimeout, echoscu, "-v", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", port)
	if err != nil || !strings.Contains(out, "Received Echo Response (Success)") {
		t.Fatalf("echoscu to INBOX: %v\n%s", err, out)
	}

	out, err = apptest.RunCmd(t, dcmtkTimeout, echoscu, "-v", "-aec", "WRONG", "-aet", "ECHOSCU", "127.0.0.1", port)
	if err == nil {
		t.Fatalf("echoscu with called AE WRONG succeeded, want a rejection:\n%s", out)
	}
	if !strings.Contains(out, "Association Rejected") || !strings.Contains(out, "Called AE Title Not Recognized") {
		t.Fatalf("echoscu with called AE WRONG: want 'Association Rejected ... Called AE Title Not Recognized', got %v:\n%s", err, out)
	}

	// The rejection did not hurt the listener.
	for i := 0; i < 2; i++ {
		out, err = apptest.RunCmd(t, dcmtkTimeout, echoscu, "-v", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", port)
		if err != nil || !strings.Contains(out, "Received Echo Response (Success)") {
			t.Fatalf("echoscu after the rejection (try %d): %v\n%s", i+1, err, out)
		}
	}
	if !e.Running() {
		t.Fatal("engine not running after a rejected association")
	}

	// The engine reported what happened: 3 accepted, 1 rejected (with the reason).
	var accepted, rejected int
	var reason string
	deadline := time.After(5 * time.Second)
	for accepted < 3 || rejected < 1 {
		select {
		case ev := <-events:
			switch ev.Kind {
			case scp.AssociationAccepted:
				accepted++
			case scp.AssociationRejected:
				rejected++
				reason = ev.Reason
			}
		case <-deadline:
			t.Fatalf("events: %d accepted, %d rejected; want 3 and 1", accepted, rejected)
		}
	}
	if !strings.Contains(reason, "WRONG") {
		t.Errorf("rejection event reason %q does not name the called AE", reason)
	}
}

// TestDCMTKConcurrentStorescu: four storescu processes at once, each sending
// its own share of the corpus on its own association.
func TestDCMTKConcurrentStorescu(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	cfg := testConfig(t)
	e, addr := startEngine(t, cfg)
	port := portOf(t, addr)
	files := apptest.LoadCorpus(t)

	const procs = 4
	groups := make([][]apptest.CorpusFile, procs)
	n := 0
	for _, f := range files {
		if !f.StorescuOK {
			continue
		}
		groups[n%procs] = append(groups[n%procs], f)
		n++
	}
	if n != 33 {
		t.Fatalf("%d corpus files storescu can send, want 33", n)
	}
	dir := t.TempDir()
	type result struct {
		out string
		err error
	}
	results := make([]result, procs)
	var wg sync.WaitGroup
	for i, g := range groups {
		var pcs []pcSpec
		args := []string{"-v"}
		for _, f := range g {
			pcs = append(pcs, pcSpec{f.SOPClassUID, f.TransferSyntax})
		}
		args = append(args, "-xf", writeStorescuConfig(t, dir, pcs...), "P",
			"-aec", "INBOX", "-aet", fmt.Sprintf("STORESCU%d", i), "127.0.0.1", port)
		for _, f := range g {
			args = append(args, f.Path)
		}
		wg.Add(1)
		go func(i int, args []string) {
			defer wg.Done()
			out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, args...)
			results[i] = result{out, err}
		}(i, args)
	}
	wg.Wait()
	for i, r := range results {
		t.Run(fmt.Sprintf("storescu%d", i), func(t *testing.T) {
			apptest.CheckStorescuOutput(t, r.out, r.err, len(groups[i]))
		})
	}

	root := cfg.StorageDir
	stored := listStored(t, root)
	if len(stored) != n {
		t.Errorf("%d files stored, want %d", len(stored), n)
	}
	for i, g := range groups {
		for _, f := range g {
			got := findStoredByUID(t, root, f.SOPInstanceUID)
			if len(got) != 1 {
				t.Errorf("%s: %d stored files with SOP Instance UID %s, want 1", f.Name, len(got), f.SOPInstanceUID)
				continue
			}
			p := readPart10(t, filepath.Join(root, got[0]))
			if ae := p.metaString(tagSourceAETitle); ae != fmt.Sprintf("STORESCU%d", i) {
				t.Errorf("%s: Source AE %q, want STORESCU%d", f.Name, ae, i)
			}
		}
	}
	checkIncomingEmpty(t, root)
	if a := e.ActiveAssociations(); a != 0 {
		// Each storescu released before it exited, and the server counts an
		// association until its goroutine ends; give it a moment.
		deadline := time.Now().Add(5 * time.Second)
		for e.ActiveAssociations() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if a := e.ActiveAssociations(); a != 0 {
			t.Errorf("%d associations still active after all storescu exited", a)
		}
	}
}

// TestDCMTKEcho covers the DCMTK side; TestEchoCommand covers app.Echo, the
// code behind `dicominbox echo`, against our engine, a closed port and a
// DCMTK node that rejects us.
func TestEchoCommand(t *testing.T) {
	_, addr := startEngine(t, testConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("engine", func(t *testing.T) {
		res, err := Echo(ctx, addr, "ECHOSCU", "INBOX")
		if err != nil {
			t.Fatalf("Echo: %v", err)
		}
		if res.Status != 0 {
			t.Errorf("status %04X, want 0000", res.Status)
		}
		if res.Peer != scp.ImplementationVersionName {
			t.Errorf("peer %q, want %q", res.Peer, scp.ImplementationVersionName)
		}
		if res.Duration <= 0 {
			t.Errorf("duration %v", res.Duration)
		}
	})

	t.Run("wrong-called-ae", func(t *testing.T) {
		_, err := Echo(ctx, addr, "ECHOSCU", "WRONG")
		var rej *scp.RejectedError
		if !errors.As(err, &rej) || !strings.Contains(err.Error(), "called AE title not recognized") {
			t.Fatalf("Echo to WRONG: %v; want a rejection naming the called AE title", err)
		}
	})

	t.Run("closed-port", func(t *testing.T) {
		closed := net.JoinHostPort("127.0.0.1", freePort(t))
		_, err := Echo(ctx, closed, "ECHOSCU", "INBOX")
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("Echo to a closed port: %v; want an error saying refused", err)
		}
	})

	// DCMTK storescp answers whatever called AE title it is given (it has no
	// called-AE check; storescp -aet OTHER accepts "INBOX"), so the DCMTK node
	// that rejects an unknown called AE is dcmqrscp, whose AE table knows
	// only OTHER.
	t.Run("dcmqrscp-other", func(t *testing.T) {
		dcmqrscp := apptest.Tool(t, "dcmqrscp")
		dir := t.TempDir()
		port := freePort(t)
		db := filepath.Join(dir, "db")
		if err := os.Mkdir(db, 0o755); err != nil {
			t.Fatal(err)
		}
		cfgPath := filepath.Join(dir, "dcmqrscp.cfg")
		cfgText := fmt.Sprintf(`NetworkTCPPort  = %s
MaxPDUSize      = 16384
MaxAssociations = 4
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
OTHER  %s  RW (10, 64mb) ANY
AETable END
`, port, db)
		if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startBackground(t, 60*time.Second, dcmqrscp, "-c", cfgPath, "--single-process", port)
		other := net.JoinHostPort("127.0.0.1", port)
		waitListening(t, other, p)

		_, err := Echo(ctx, other, "ECHOSCU", "INBOX")
		var rej *scp.RejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("Echo to dcmqrscp as INBOX: %v; want an association rejection", err)
		}
		if !strings.Contains(err.Error(), "called AE title not recognized") {
			t.Fatalf("rejection %q does not say 'called AE title not recognized'", err)
		}
		// The same node answers when called by its own title.
		if _, err := Echo(ctx, other, "ECHOSCU", "OTHER"); err != nil {
			t.Fatalf("Echo to dcmqrscp as OTHER: %v", err)
		}
	})

	// storescp --refuse rejects every association without a reason.
	t.Run("storescp-refuse", func(t *testing.T) {
		storescp := apptest.Tool(t, "storescp")
		port := freePort(t)
		p := startBackground(t, 60*time.Second, storescp, "-aet", "OTHER", "--refuse", port)
		other := net.JoinHostPort("127.0.0.1", port)
		waitListening(t, other, p)
		_, err := Echo(ctx, other, "ECHOSCU", "INBOX")
		var rej *scp.RejectedError
		if !errors.As(err, &rej) || !strings.Contains(err.Error(), "rejection") {
			t.Fatalf("Echo to storescp --refuse: %v; want a rejection in words", err)
		}
	})
}

// TestDCMTKShutdownDrains: Stop while storescu sends a 25 MB instance lets
// the transfer finish with success, then the port is closed.
func TestDCMTKShutdownDrains(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	cfg := testConfig(t)
	cfg.ShutdownTimeout = Duration(30 * time.Second)
	e, addr := startEngine(t, cfg)
	port := portOf(t, addr)
	var big apptest.CorpusFile
	for _, f := range apptest.LoadCorpus(t) {
		if f.Name == "34_xa_multiframe_96f_native_25MB.dcm" {
			big = f
		}
	}
	if big.Name == "" {
		t.Fatal("corpus has no 34_xa_multiframe_96f_native_25MB.dcm")
	}
	events, unsub := e.Events().Subscribe(4096)
	defer unsub()

	cfgFile := writeStorescuConfig(t, t.TempDir(), pcSpec{big.SOPClassUID, big.TransferSyntax})
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, "-v", "-xf", cfgFile, "P",
			"-aec", "INBOX", "-aet", "STORESCU", "127.0.0.1", port, big.Path)
		done <- result{out, err}
	}()

	// Wait until the data set is on its way.
	deadline := time.After(20 * time.Second)
wait:
	for {
		select {
		case ev := <-events:
			if ev.Kind == scp.InstanceStarted || ev.Kind == scp.BytesReceived {
				break wait
			}
		case r := <-done:
			t.Fatalf("storescu ended before its data set started: %v\n%s", r.err, r.out)
		case <-deadline:
			t.Fatal("no C-STORE started within 20s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stopErr error
	stopped := make(chan struct{})
	stopCalled := time.Now()
	go func() { stopErr = e.Stop(ctx); close(stopped) }()

	var r result
	select {
	case r = <-done:
	case <-time.After(dcmtkTimeout + 5*time.Second):
		t.Fatal("storescu did not end")
	}
	<-stopped
	if stopErr != nil {
		t.Fatalf("Stop: %v (the running association should have drained)", stopErr)
	}
	apptest.CheckStorescuOutput(t, r.out, r.err, 1)

	// Prove that Stop really came while the data set was arriving: the
	// instance was stored after Stop had been called.
	var storedAt time.Time
	for storedAt.IsZero() {
		select {
		case ev := <-events:
			if ev.Kind == scp.InstanceStored {
				storedAt = ev.Time
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no instance-stored event")
		}
	}
	if !storedAt.After(stopCalled) {
		t.Fatalf("the instance was stored at %v, before Stop was called at %v: the test did not exercise draining", storedAt, stopCalled)
	}

	// Stop has returned: nothing listens any more.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Stop", addr)
	}
	if e.Running() || e.Addr() != nil {
		t.Error("engine says it runs after Stop")
	}

	got := findStoredByUID(t, cfg.StorageDir, big.SOPInstanceUID)
	if len(got) != 1 {
		t.Fatalf("%d stored files for the large instance, want 1", len(got))
	}
	p := readPart10(t, filepath.Join(cfg.StorageDir, got[0]))
	if want := corpusDataSet(t, big); string(p.Data) != string(want) {
		// The manifest says storescu sends this file unchanged.
		t.Fatalf("stored data set differs from the file's: %s", firstDiff(p.Data, want))
	}
	checkIncomingEmpty(t, cfg.StorageDir)
}
