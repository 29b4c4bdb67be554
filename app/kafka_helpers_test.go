package app

// Helpers for the Kafka tests: an in-process broker (kfake, a real Kafka
// protocol implementation) on 127.0.0.1, a kafka-go Reader that drains a
// topic, a C-STORE client sending generated CT instances, and the JSON Schema
// check of events.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
)

const (
	testTopic          = "dicom.instances"
	testLifecycleTopic = "dicom.lifecycle"
	testPartitions     = 3
)

// startKfake starts a one-broker kfake cluster with the test topics on
// 127.0.0.1 (port 0: any) and closes it when the test ends.
func startKfake(t testing.TB, port int, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port),
		kfake.SeedTopics(testPartitions, testTopic, testLifecycleTopic)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// kafkaConfig is testConfig with Kafka enabled towards brokers.
func kafkaConfig(t testing.TB, brokers ...string) Config {
	cfg := testConfig(t)
	cfg.Kafka = KafkaConfig{Enabled: true, Brokers: brokers, Topic: testTopic, ClientID: "dicominbox-test",
		NodeID: "test-node", Tenants: map[string]string{"STORESCU": "tenant-a"}}
	return cfg
}

// startKafkaEngine starts an engine whose relay backs off at most maxBackoff
// (the production cap of 30 s would make the tests slow), logging into log
// as well as into the test log.
func startKafkaEngine(t testing.TB, cfg Config, maxBackoff time.Duration, log *lockedBuffer) (*Engine, string) {
	t.Helper()
	l := testLogger(t, slog.LevelInfo)
	if log != nil {
		l = slog.New(slog.NewTextHandler(&teeWriter{a: log, b: &testLogWriter{t: t}}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	e := NewEngine(cfg, l)
	e.kafka.maxBackoff = maxBackoff
	if err := e.Start(); err != nil {
		t.Fatalf("engine start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return e, e.Addr().String()
}

type teeWriter struct {
	a *lockedBuffer
	b *testLogWriter
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.a.Write(p)
	return w.b.Write(p)
}

// waitFor polls cond until it holds or fails the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v still not %s; %s", timeout, what, state())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drainTopic reads every message of topic from every partition with a
// kafka-go Reader, in partition then offset order.
func drainTopic(t testing.TB, broker, topic string) []kafka.Message {
	t.Helper()
	return drainTopicWith(t, kafka.DefaultDialer, broker, topic)
}

// drainTopicWith is drainTopic through dialer (TLS, SASL).
func drainTopicWith(t testing.TB, dialer *kafka.Dialer, broker, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := dialer.DialContext(ctx, "tcp", broker)
	if err != nil {
		t.Fatalf("dial %s: %v", broker, err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range parts {
		lc, err := dialer.DialLeader(ctx, "tcp", broker, topic, p.ID)
		if err != nil {
			t.Fatalf("leader of %s/%d: %v", topic, p.ID, err)
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			t.Fatalf("last offset of %s/%d: %v", topic, p.ID, err)
		}
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p.ID,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond, Dialer: dialer})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset >= last-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

// header returns a message header's value.
func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// dedupe keeps the first message of every event id (consumers do the same).
func dedupe(t testing.TB, msgs []kafka.Message) (map[string]kafka.Message, int) {
	t.Helper()
	byID := map[string]kafka.Message{}
	dups := 0
	for _, m := range msgs {
		var ev struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(m.Value, &ev); err != nil || ev.EventID == "" {
			t.Fatalf("message at %s/%d@%d: no event id (%v): %s", m.Topic, m.Partition, m.Offset, err, m.Value)
		}
		if _, ok := byID[ev.EventID]; ok {
			dups++
			continue
		}
		byID[ev.EventID] = m
	}
	return byID, dups
}

// schemaValidator compiles a JSON Schema file of docs/schema.
func schemaValidator(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "docs", "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// checkAgainstSchema validates an event against the schema and checks that
// it carries no field the schema does not document.
func checkAgainstSchema(t testing.TB, s *jsonschema.Schema, schemaFile string, value []byte) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(value))
	if err != nil {
		t.Fatalf("event is not JSON: %v: %s", err, value)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("event does not validate against %s: %v\n%s", schemaFile, err, value)
	}
	raw, err := os.ReadFile(filepath.Join("..", "docs", "schema", schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	obj := inst.(map[string]any)
	for k := range obj {
		if _, ok := doc.Properties[k]; !ok {
			t.Errorf("event field %q is not documented in %s", k, schemaFile)
		}
	}
	return obj
}

// ctDataSet is a small CT data set (Implicit VR Little Endian) with the
// given identity; n orders instance numbers.
func ctDataSet(sop, study, series, patient string, n int) []byte {
	return apptest.CT{SOPInstanceUID: sop, StudyInstanceUID: study, SeriesInstanceUID: series, PatientID: patient,
		PatientName: "Kafka^Test", StudyDate: "20250301", AccessionNumber: "ACC-" + study, InstanceNumber: n,
		PixelBytes: 4096}.DataSet()
}

// sendCT sends count generated CT instances of one study on one association
// and fails the test unless every C-STORE answers 0000. It returns the SOP
// Instance UIDs in the order sent.
func sendCT(t testing.TB, addr, callingAE, study string, count int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := scp.Dial(ctx, addr, scp.DialConfig{CallingAE: callingAE, CalledAE: "INBOX", Contexts: []scp.ProposedContext{
		{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	released := false
	defer func() {
		if !released {
			c.Abort()
		}
	}()
	var sops []string
	for i := range count {
		sop := fmt.Sprintf("%s.%d", study, i+1)
		st, err := c.Store(ctx, apptest.CTImageStorage, sop, uid.ImplicitVRLittleEndian,
			bytes.NewReader(ctDataSet(sop, study, study+".1", "PK", i+1)))
		if err != nil {
			t.Fatalf("C-STORE %s: %v", sop, err)
		}
		if st.Code != 0 {
			t.Fatalf("C-STORE %s answered %04X, want 0000", sop, st.Code)
		}
		sops = append(sops, sop)
	}
	released = true
	if err := c.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	return sops
}

// sendCorpus sends the 33 corpus files storescu can send on one association
// (calling AE STORESCU) and checks that every one answered Success.
func sendCorpus(t testing.TB, port string, files []apptest.CorpusFile) []apptest.CorpusFile {
	t.Helper()
	storescu := apptest.Tool(t, "storescu")
	var sent []apptest.CorpusFile
	var pcs []pcSpec
	for _, f := range files {
		if f.StorescuOK {
			sent = append(sent, f)
			pcs = append(pcs, pcSpec{f.SOPClassUID, f.TransferSyntax})
		}
	}
	args := []string{"-v", "-xf", writeStorescuConfig(t, t.TempDir(), pcs...), "P",
		"-aec", "INBOX", "-aet", "STORESCU", "127.0.0.1", port}
	for _, f := range sent {
		args = append(args, f.Path)
	}
	out, err := apptest.RunCmd(t, 2*dcmtkTimeout, storescu, args...)
	apptest.CheckStorescuOutput(t, out, err, len(sent))
	return sent
}

// stateOf formats the engine's Kafka state for failure messages.
func stateOf(e *Engine) func() string {
	return func() string { return fmt.Sprintf("state %+v (%s)", e.Kafka(), e.Kafka()) }
}
