package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/forward"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store/index"
)

// indexRows returns the engine's index rows by SOP Instance UID.
func indexRows(t testing.TB, e *Engine) map[string]index.Instance {
	t.Helper()
	rows := map[string]index.Instance{}
	e.mu.Lock()
	st := e.store
	e.mu.Unlock()
	if err := st.Index().ForEachInstance(context.Background(), func(in index.Instance) error {
		rows[in.SOPInstanceUID] = in
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func drained(e *Engine) func() bool {
	return func() bool { s := e.Kafka(); return s.Connected && s.Backlog == 0 && s.LastError == "" }
}

// TestKafkaCorpusEvents: the corpus sent with storescu gives exactly one
// event per stored instance (after de-duplication by id), keyed by the Study
// Instance UID, with the index row's values, valid against the JSON Schema,
// with the CloudEvents headers, read back with a kafka-go Reader.
func TestKafkaCorpusEvents(t *testing.T) {
	files := apptest.LoadCorpus(t)
	_, broker := startKfake(t, 0)
	cfg := kafkaConfig(t, broker)
	e, addr := startKafkaEngine(t, cfg, time.Second, nil)
	sent := sendCorpus(t, portOf(t, addr), files)
	waitFor(t, 60*time.Second, "drained", drained(e), stateOf(e))

	rows := indexRows(t, e)
	if len(rows) != len(sent) {
		t.Fatalf("%d index rows, %d instances sent", len(rows), len(sent))
	}
	byID, dups := dedupe(t, drainTopic(t, broker, testTopic))
	t.Logf("%d events, %d duplicates", len(byID), dups)
	if len(byID) != len(rows) {
		t.Errorf("%d distinct events, want one per stored instance (%d)", len(byID), len(rows))
	}
	expected := map[string]apptest.CorpusFile{}
	for _, f := range sent {
		expected[f.SOPInstanceUID] = f
	}
	schema := schemaValidator(t, "instance-event.v1.json")
	partitionOf := map[string]int{}
	seen := map[string]int{}
	for id, m := range byID {
		checkAgainstSchema(t, schema, "instance-event.v1.json", m.Value)
		var ev forward.InstanceEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.SOPInstanceUID]++
		row, ok := rows[ev.SOPInstanceUID]
		if !ok {
			t.Errorf("event %s for %s, which has no index row", id, ev.SOPInstanceUID)
			continue
		}
		if string(m.Key) != row.StudyInstanceUID {
			t.Errorf("%s: key %q, want the Study Instance UID %q", ev.SOPInstanceUID, m.Key, row.StudyInstanceUID)
		}
		if p, ok := partitionOf[string(m.Key)]; ok && p != m.Partition {
			t.Errorf("study %s on partitions %d and %d: the key must pick one", m.Key, p, m.Partition)
		}
		partitionOf[string(m.Key)] = m.Partition
		wantHeaders := map[string]string{"ce_specversion": "1.0", "ce_id": ev.EventID, "ce_type": forward.TypeInstanceStored,
			"ce_source": "/dicominbox/test-node", "content-type": "application/json", "ce_subject": ev.SOPInstanceUID}
		for k, v := range wantHeaders {
			if got := header(m, k); got != v {
				t.Errorf("%s: header %s = %q, want %q", ev.SOPInstanceUID, k, got, v)
			}
		}
		if ct, err := time.Parse(time.RFC3339Nano, header(m, "ce_time")); err != nil || !ct.Equal(row.ReceivedAt) {
			t.Errorf("%s: ce_time %q (%v), want %v", ev.SOPInstanceUID, header(m, "ce_time"), err, row.ReceivedAt)
		}
		if ev.EventType != forward.TypeInstanceStored || ev.SchemaVersion != 1 || ev.NodeID != "test-node" ||
			ev.Tenant != "tenant-a" || ev.SourceAE != "STORESCU" || ev.CalledAE != "INBOX" || ev.SourceIP != "127.0.0.1" {
			t.Errorf("%s: envelope %+v", ev.SOPInstanceUID, ev)
		}
		want := forward.InstanceEvent{
			PatientID: row.PatientID, PatientName: row.PatientName, StudyInstanceUID: row.StudyInstanceUID,
			SeriesInstanceUID: row.SeriesInstanceUID, SOPInstanceUID: row.SOPInstanceUID, SOPClassUID: row.SOPClassUID,
			AccessionNumber: row.AccessionNumber, StudyDate: row.StudyDate, StudyDescription: row.StudyDescription,
			SeriesNumber: row.SeriesNumber, InstanceNumber: row.InstanceNumber, Modality: row.Modality,
			NumberOfFrames: row.NumberOfFrames, TransferSyntaxUID: row.TransferSyntaxUID,
			FilePath: row.Path, FilePathAbsolute: filepath.Join(cfg.StorageDir, filepath.FromSlash(row.Path)),
			SizeBytes: row.SizeBytes,
		}
		got := ev
		got.EventID, got.EventType, got.SchemaVersion, got.EventTime, got.NodeID, got.Tenant = "", "", 0, "", "", ""
		got.SourceAE, got.SourceIP, got.CalledAE, got.ReceivedAt = "", "", "", ""
		if got != want {
			t.Errorf("%s: event values differ from the index row:\n got %+v\nwant %+v", ev.SOPInstanceUID, got, want)
		}
		if ra, err := time.Parse(time.RFC3339Nano, ev.ReceivedAt); err != nil || !ra.Equal(row.ReceivedAt.Truncate(time.Millisecond)) {
			t.Errorf("%s: received_at %q, index %v", ev.SOPInstanceUID, ev.ReceivedAt, row.ReceivedAt)
		}
		if fi, err := os.Stat(ev.FilePathAbsolute); err != nil || fi.Size() != ev.SizeBytes {
			t.Errorf("%s: file_path_absolute %s: %v (size %d in the event)", ev.SOPInstanceUID, ev.FilePathAbsolute, err, ev.SizeBytes)
		}
		// The values pydicom decodes (expected.jsonl), not only our own index.
		f := expected[ev.SOPInstanceUID]
		if f.Expected.PatientName != nil && ev.PatientName != *f.Expected.PatientName {
			t.Errorf("%s: patient_name %q, expected.jsonl %q", f.Name, ev.PatientName, *f.Expected.PatientName)
		}
		if f.StudyInstanceUID != "" && ev.StudyInstanceUID != f.StudyInstanceUID {
			t.Errorf("%s: study_instance_uid %q, expected.jsonl %q", f.Name, ev.StudyInstanceUID, f.StudyInstanceUID)
		}
	}
	for sop := range rows {
		if seen[sop] != 1 {
			t.Errorf("%s: %d events, want exactly 1", sop, seen[sop])
		}
	}
	// Sending the same files again stores nothing new: no new events.
	sendCorpus(t, portOf(t, addr), files)
	waitFor(t, 30*time.Second, "drained", drained(e), stateOf(e))
	if again, _ := dedupe(t, drainTopic(t, broker, testTopic)); len(again) != len(byID) {
		t.Errorf("identical re-send: %d distinct events, want still %d", len(again), len(byID))
	}
}

// TestKafkaBrokerDownAndBack: while the broker is down every C-STORE still
// answers 0000 and the backlog grows; when it is back (a new broker on the
// same port with the same data) the backlog drains, nothing is lost, and a
// study's events keep their order.
func TestKafkaBrokerDownAndBack(t *testing.T) {
	port, _ := strconv.Atoi(freePort(t))
	dataDir := t.TempDir()
	first, broker := startKfake(t, port, kfake.DataDir(dataDir))
	var log lockedBuffer
	e, addr := startKafkaEngine(t, kafkaConfig(t, broker), 500*time.Millisecond, &log)

	before := sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.1", 5)
	waitFor(t, 30*time.Second, "drained", drained(e), stateOf(e))

	first.Close()
	during := sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.2", 20) // fails the test unless all 0000
	wantErr := "cannot reach broker " + broker + ": connection refused"
	waitFor(t, 30*time.Second, "backlog 20 with the error in words", func() bool {
		s := e.Kafka()
		return s.Backlog == 20 && s.LastError == wantErr && !s.Connected
	}, stateOf(e))
	if !strings.Contains(log.String(), wantErr) {
		t.Errorf("the log does not say %q:\n%s", wantErr, log.String())
	}
	if s := e.Kafka().String(); !strings.Contains(s, "backlog 20") || !strings.Contains(s, "connection refused") {
		t.Errorf("indicator text %q", s)
	}

	startKfake(t, port, kfake.DataDir(dataDir))
	waitFor(t, 30*time.Second, "drained after the broker came back", drained(e), stateOf(e))
	// The relay logs it when it next finds the outbox empty.
	waitFor(t, 5*time.Second, "logged that the backlog drained", func() bool {
		return strings.Contains(log.String(), "kafka: backlog drained")
	}, log.String)

	msgs := drainTopic(t, broker, testTopic)
	byID, dups := dedupe(t, msgs)
	t.Logf("%d events, %d duplicates", len(byID), dups)
	got := map[string]int{}
	for _, m := range byID {
		var ev forward.InstanceEvent
		json.Unmarshal(m.Value, &ev)
		got[ev.SOPInstanceUID]++
	}
	for _, sop := range append(slices.Clone(before), during...) {
		if got[sop] != 1 {
			t.Errorf("%s: %d events, want 1", sop, got[sop])
		}
	}
	if len(got) != 25 {
		t.Errorf("%d instances announced, want 25", len(got))
	}
	// Order within the study sent while the broker was down.
	seen := map[string]bool{}
	var order []string
	for _, m := range msgs { // partition, then offset order
		var ev forward.InstanceEvent
		json.Unmarshal(m.Value, &ev)
		if string(m.Key) == "1.2.826.0.1.3680043.10.2" && !seen[ev.EventID] {
			seen[ev.EventID] = true
			order = append(order, ev.SOPInstanceUID)
		}
	}
	if !slices.Equal(order, during) {
		t.Errorf("study order on its partition:\n got %v\nwant %v", order, during)
	}
}

// TestKafkaBadBrokerAddress: nothing listens at the broker address: the
// error is in words in the log and the state, and receiving goes on.
func TestKafkaBadBrokerAddress(t *testing.T) {
	broker := "127.0.0.1:" + freePort(t)
	var log lockedBuffer
	e, addr := startKafkaEngine(t, kafkaConfig(t, broker), 500*time.Millisecond, &log)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.3", 5)
	wantErr := "cannot reach broker " + broker + ": connection refused"
	waitFor(t, 20*time.Second, "the error in the state", func() bool {
		s := e.Kafka()
		return s.LastError == wantErr && s.Backlog == 5 && !s.LastErrorAt.IsZero()
	}, stateOf(e))
	if !strings.Contains(log.String(), wantErr) {
		t.Errorf("the log does not say %q:\n%s", wantErr, log.String())
	}
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.4", 3) // still receiving
	waitFor(t, 10*time.Second, "backlog 8", func() bool { return e.Kafka().Backlog == 8 }, stateOf(e))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := TestKafkaConnection(ctx, kafkaConfig(t, broker).Kafka); err == nil || err.Error() != wantErr {
		t.Errorf("TestKafkaConnection: %v, want %q", err, wantErr)
	}
}

// TestKafkaWrongCredentials: a SASL/SCRAM broker and a wrong password: the
// state and the log say authentication failed, receiving goes on; the
// connection test tells right from wrong credentials and a missing topic.
func TestKafkaWrongCredentials(t *testing.T) {
	_, broker := startKfake(t, 0, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "inbox", "right"),
		kfake.Superuser("PLAIN", "plainuser", "plainpass"))
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "inbox", Password: "wrong"}
	var log lockedBuffer
	e, addr := startKafkaEngine(t, cfg, 500*time.Millisecond, &log)
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.5", 4)
	waitFor(t, 20*time.Second, "authentication failed in the state", func() bool {
		s := e.Kafka()
		return strings.HasPrefix(s.LastError, "authentication failed") && s.Backlog == 4
	}, stateOf(e))
	if !strings.Contains(log.String(), "authentication failed") {
		t.Errorf("the log does not say authentication failed:\n%s", log.String())
	}
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.6", 2)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := cfg.Kafka
	if err := TestKafkaConnection(ctx, k); err == nil || !strings.HasPrefix(err.Error(), "authentication failed") {
		t.Errorf("wrong password: %v", err)
	}
	k.SASL.Password = "right"
	if err := TestKafkaConnection(ctx, k); err != nil {
		t.Errorf("right SCRAM credentials: %v", err)
	}
	k.SASL = KafkaSASL{Mechanism: "PLAIN", Username: "plainuser", Password: "plainpass"}
	if err := TestKafkaConnection(ctx, k); err != nil {
		t.Errorf("right PLAIN credentials: %v", err)
	}
	k.Topic = "no.such.topic"
	if err := TestKafkaConnection(ctx, k); err == nil || err.Error() != `topic "no.such.topic" does not exist` {
		t.Errorf("missing topic: %v", err)
	}

	// The right password from the environment: the backlog drains.
	cfg.Kafka.SASL.Password = ""
	t.Setenv(PasswordEnv, "right")
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := e.Apply(sctx, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "drained with the right password", drained(e), stateOf(e))
	if n := e.kafka.relay.Load().Published(); n != 6 {
		t.Errorf("%d events acknowledged after the fix, want 6", n)
	}
}

// TestKafkaLifecycleEvents: rejected and aborted associations and a study
// the engine found complete become lifecycle events on the lifecycle topic.
func TestKafkaLifecycleEvents(t *testing.T) {
	_, broker := startKfake(t, 0)
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.LifecycleTopic = testLifecycleTopic
	cfg.StudyCompleteAfter = Duration(200 * time.Millisecond)
	e, addr := startKafkaEngine(t, cfg, time.Second, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if _, err := scp.Dial(ctx, addr, scp.DialConfig{CallingAE: "STORESCU", CalledAE: "WRONG", Contexts: []scp.ProposedContext{
		{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}}); err == nil {
		t.Fatal("association with a wrong called AE was accepted")
	}
	c, err := scp.Dial(ctx, addr, scp.DialConfig{CallingAE: "ABORTER", CalledAE: "INBOX", Contexts: []scp.ProposedContext{
		{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	if err != nil {
		t.Fatal(err)
	}
	c.Abort()
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.7", 2)
	var lc []kafka.Message
	waitFor(t, 30*time.Second, "the three kinds of lifecycle events", func() bool {
		if e.Kafka().Backlog != 0 {
			return false
		}
		lc = drainTopic(t, broker, testLifecycleTopic)
		kinds := map[string]bool{}
		for _, m := range lc {
			kinds[header(m, "ce_type")] = true
		}
		return kinds[forward.TypeAssociationRejected] && kinds[forward.TypeAssociationAborted] && kinds[forward.TypeStudyComplete]
	}, stateOf(e))
	byID, dups := dedupe(t, lc)
	t.Logf("%d lifecycle events, %d duplicates", len(byID), dups)
	schema := schemaValidator(t, "lifecycle-event.v1.json")
	types := map[string]forward.LifecycleEvent{}
	complete := 0
	for _, m := range byID {
		checkAgainstSchema(t, schema, "lifecycle-event.v1.json", m.Value)
		var ev forward.LifecycleEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if header(m, "ce_type") != ev.EventType || header(m, "ce_id") != ev.EventID || header(m, "ce_specversion") != "1.0" {
			t.Errorf("headers %v for %+v", m.Headers, ev)
		}
		types[ev.EventType] = ev
		if ev.EventType == forward.TypeStudyComplete {
			complete++
			if string(m.Key) != "1.2.826.0.1.3680043.10.7" {
				t.Errorf("study complete keyed %q", m.Key)
			}
		}
	}
	if r, ok := types[forward.TypeAssociationRejected]; !ok || r.CallingAE != "STORESCU" || r.Tenant != "tenant-a" ||
		!strings.Contains(r.Reason, "WRONG") || r.SourceIP != "127.0.0.1" {
		t.Errorf("rejected event: %+v (present %v)", r, ok)
	}
	if a, ok := types[forward.TypeAssociationAborted]; !ok || a.CallingAE != "ABORTER" {
		t.Errorf("aborted event: %+v (present %v)", a, ok)
	}
	if s, ok := types[forward.TypeStudyComplete]; !ok || s.InstanceCount != 2 || s.SeriesCount != 1 || s.PatientName != "Kafka^Test" ||
		s.PatientID != "PK" || s.StudyDate != "20250301" || s.AccessionNumber != "ACC-1.2.826.0.1.3680043.10.7" ||
		!slices.Equal(s.Modalities, []string{"CT"}) || s.CallingAE != "MODALITY" || s.Tenant != "MODALITY" || s.SizeBytes <= 2*4096 {
		t.Errorf("study complete event: %+v (present %v)", s, ok)
	}
	if complete != 1 {
		t.Errorf("%d study-complete events, want 1", complete)
	}
	// Instance events still went to the instance topic only.
	if inst, _ := dedupe(t, drainTopic(t, broker, testTopic)); len(inst) != 2 {
		t.Errorf("%d instance events, want 2", len(inst))
	}
}

// TestKafkaOff: without Kafka nothing is written to the outbox, not even
// when a study completes, and the state says off.
func TestKafkaOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.StudyCompleteAfter = Duration(100 * time.Millisecond)
	e, addr := startEngine(t, cfg)
	events, unsub := e.Events().Subscribe(1024)
	defer unsub()
	sendCT(t, addr, "MODALITY", "1.2.826.0.1.3680043.10.8", 3)
	waitEvent(t, events, 30*time.Second, "the study to complete", func(ev Event) bool {
		return ev.Kind == StudyCompleted && ev.Completed.StudyInstanceUID == "1.2.826.0.1.3680043.10.8"
	})
	if s := e.Kafka(); s != (KafkaState{}) || s.String() != "off" {
		t.Errorf("Kafka() = %+v (%s)", s, s)
	}
	e.mu.Lock()
	n := e.store.Index().OutboxLen()
	e.mu.Unlock()
	if n != 0 {
		t.Errorf("%d outbox events without Kafka", n)
	}
}
