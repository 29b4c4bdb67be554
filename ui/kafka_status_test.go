package ui

// The Kafka part of the status line over a real app.Engine and a real Kafka
// protocol broker (kfake, in process on 127.0.0.1), with DCMTK storescu as
// the sender. The window's pump and poll are off: the test refreshes the
// window on its own goroutine (the test driver's UI goroutine) and polls the
// label with a generous deadline; nothing asserts on wall time.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
)

const kafkaTestTopic = "dicom.instances"

// startBroker starts a one-broker kfake cluster with the instance topic on
// 127.0.0.1:port (0: any) and closes it when the test ends (closing it
// twice is harmless).
func startBroker(t *testing.T, port int) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(1, kafkaTestTopic))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// newKafkaWindow builds the window over a stopped engine that forwards to
// broker, and starts it with the toggle. It returns the window and the
// DICOM port.
func newKafkaWindow(t *testing.T, broker string) (*realWindow, string) {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir = "127.0.0.1", 0, t.TempDir()
	cfg.MinFreeMB, cfg.NoSync = 0, true
	cfg.Kafka = app.KafkaConfig{Enabled: true, Brokers: []string{broker}, Topic: kafkaTestTopic,
		ClientID: "dicominbox-ui-test", NodeID: "ui-test"}
	e := app.NewEngine(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		e.Close(ctx)
	})
	opDone := make(chan struct{}, 1)
	opts := testOptions(func() { opDone <- struct{}{} })
	opts.now = time.Now
	w := newMainWindow(test.NewTempApp(t), e, opts)
	t.Cleanup(w.win.Close)
	r := &realWindow{mainWindow: w, engine: e, opDone: opDone}
	return r, r.start(t)
}

// statusLineUntil refreshes the window until the stats part of the status
// line satisfies ok, and returns it; it fails the test after 2 minutes
// (the relay's backoff grows to 30 s while a broker is down).
func (r *realWindow) statusLineUntil(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r.stats.reload() // the numbers from the index (inline in the tests)
		r.refresh()      // the live parts: reads engine.Kafka() into the line
		text := r.stats.label.Text
		if ok(text) {
			t.Logf("status line: %q", text)
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("status line never showed %s; it shows %q (engine: %+v)", what, text, r.engine.Kafka())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendFiles sends corpus files with storescu and fails the test unless
// every one of them got a success response.
func sendFiles(t *testing.T, port string, files ...string) {
	t.Helper()
	args := []string{"-v", "-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", port}
	for _, f := range files {
		args = append(args, apptest.CorpusPath(t, f))
	}
	out, err := run(t, "storescu", args...)
	apptest.CheckStorescuOutput(t, out, err, len(files))
}

func TestKafkaStatusConnected(t *testing.T) {
	_, broker := startBroker(t, 0)
	r, port := newKafkaWindow(t, broker)
	r.statusLineUntil(t, "Kafka: connected", func(s string) bool { return strings.HasSuffix(s, " · Kafka: connected") })

	sendFiles(t, port, "01_ct_implicit_le.dcm", "33_ct_gb18030_chinese.dcm")
	text := r.statusLineUntil(t, "connected with an empty backlog after two instances", func(s string) bool {
		return strings.HasSuffix(s, " · Kafka: connected") && r.engine.Kafka().Backlog == 0
	})
	if strings.Contains(text, "backlog") || strings.Contains(text, "error") {
		t.Errorf("status line %q", text)
	}
}

func TestKafkaStatusBrokerRefuses(t *testing.T) {
	broker := fmt.Sprintf("127.0.0.1:%d", apptest.FreePort(t)) // nothing listens there
	r, port := newKafkaWindow(t, broker)
	sendFiles(t, port, "01_ct_implicit_le.dcm", "33_ct_gb18030_chinese.dcm") // C-STOREs succeed without Kafka
	want := "Kafka: error: cannot reach broker " + broker + ": connection refused (backlog 2)"
	text := r.statusLineUntil(t, want, func(s string) bool { return strings.Contains(s, want) })
	if strings.Contains(text, "connected") {
		t.Errorf("status line %q", text)
	}
	// Receiving goes on; the backlog grows.
	sendFiles(t, port, "25_charset_gb18030.dcm")
	r.statusLineUntil(t, "backlog 3", func(s string) bool {
		return strings.Contains(s, "Kafka: error: cannot reach broker "+broker+": connection refused (backlog 3)")
	})
	if !r.engine.Running() {
		t.Errorf("the receiver stopped: %s", r.status.Text)
	}
}

func TestKafkaStatusBacklogWhileBrokerDown(t *testing.T) {
	port := apptest.FreePort(t)
	c, broker := startBroker(t, port)
	r, dicomPort := newKafkaWindow(t, broker)
	r.statusLineUntil(t, "Kafka: connected", func(s string) bool { return strings.HasSuffix(s, " · Kafka: connected") })

	c.Close()
	sendFiles(t, dicomPort, "01_ct_implicit_le.dcm")
	text := r.statusLineUntil(t, "backlog 1", func(s string) bool { return strings.Contains(s, "backlog 1") })
	if !strings.Contains(text, "Kafka: ") || strings.HasSuffix(text, "Kafka: connected") {
		t.Errorf("status line while the broker is down: %q", text)
	}

	// The broker comes back on the same port: the backlog drains.
	startBroker(t, port)
	r.statusLineUntil(t, "connected again with the backlog drained", func(s string) bool {
		return strings.HasSuffix(s, " · Kafka: connected") && !strings.Contains(s, "backlog")
	})
	if b := r.engine.Kafka().Backlog; b != 0 {
		t.Errorf("backlog %d after the drain", b)
	}
}
