package app

// Study completion decided by the engine, without a window: `serve`
// (RunHeadless) with DCMTK storescu as the sender and an in-process kfake
// broker; and the watcher's life across Stop and Start.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/app/forward"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// waitEvent reads events until cond holds, or fails the test after timeout.
func waitEvent(t testing.TB, events <-chan Event, timeout time.Duration, what string, cond func(Event) bool) Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event channel closed while waiting for %s", what)
			}
			if cond(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("after %v still no event: %s", timeout, what)
		}
	}
}

// explicitElement appends one Explicit VR Little Endian element of the file
// meta group (UI values padded with NUL, OB and UL as given).
func explicitElement(b []byte, tag uint32, vr string, value []byte) []byte {
	if len(value)%2 == 1 {
		value = append(value, 0)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(tag>>16))
	b = binary.LittleEndian.AppendUint16(b, uint16(tag))
	b = append(b, vr...)
	if vr == "OB" {
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(value)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	}
	return append(b, value...)
}

// writeCTFiles writes count Part-10 files of one generated CT study (Implicit
// VR Little Endian data sets from ctDataSet, alternating between two series)
// for storescu, and returns their paths.
func writeCTFiles(t testing.TB, dir, study string, count int) []string {
	t.Helper()
	var paths []string
	for i := range count {
		sop := fmt.Sprintf("%s.%d", study, i+1)
		series := fmt.Sprintf("%s.%d", study, 100+i%2)
		var meta []byte
		meta = explicitElement(meta, 0x00020001, "OB", []byte{0, 1})
		meta = explicitElement(meta, 0x00020002, "UI", []byte(apptest.CTImageStorage))
		meta = explicitElement(meta, 0x00020003, "UI", []byte(sop))
		meta = explicitElement(meta, 0x00020010, "UI", []byte(uid.ImplicitVRLittleEndian))
		meta = explicitElement(meta, 0x00020012, "UI", []byte("1.2.826.0.1.3680043.10.999"))
		var b []byte
		b = append(b, make([]byte, 128)...)
		b = append(b, "DICM"...)
		b = explicitElement(b, 0x00020000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(meta))))
		b = append(b, meta...)
		b = append(b, ctDataSet(sop, study, series, "PK", i+1)...)
		p := filepath.Join(dir, fmt.Sprintf("ct%03d.dcm", i+1))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// lifecycleOfType returns the distinct lifecycle events (by event id) of
// type typ on the lifecycle topic, with their messages.
func lifecycleOfType(t testing.TB, broker, typ string) ([]forward.LifecycleEvent, []kafka.Message) {
	t.Helper()
	byID, _ := dedupe(t, drainTopic(t, broker, testLifecycleTopic))
	var evs []forward.LifecycleEvent
	var msgs []kafka.Message
	for _, m := range byID {
		var ev forward.LifecycleEvent
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatalf("lifecycle event is not JSON: %v: %s", err, m.Value)
		}
		if ev.EventType == typ {
			evs, msgs = append(evs, ev), append(msgs, m)
		}
	}
	return evs, msgs
}

// TestStudyCompleteHeadless: `serve` without a window. A study of 5
// instances in 2 series sent with storescu gives, once its association
// ended and it stayed quiet for the idle time, exactly one study-complete
// lifecycle event (study UID, counts, tenant, timing) and one info line in
// the log; the shutdown is clean.
func TestStudyCompleteHeadless(t *testing.T) {
	storescu := apptest.Tool(t, "storescu")
	_, broker := startKfake(t, 0)
	cfg := kafkaConfig(t, broker)
	cfg.Kafka.LifecycleTopic = testLifecycleTopic
	const idle = 1500 * time.Millisecond
	cfg.StudyCompleteAfter = Duration(idle)
	port := freePort(t)
	fmt.Sscan(port, &cfg.Port)

	var log lockedBuffer
	logger := slog.New(slog.NewTextHandler(&teeWriter{a: &log, b: &testLogWriter{t: t}}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- RunHeadless(ctx, cfg, logger, HeadlessOptions{}) }()
	addr := net.JoinHostPort("127.0.0.1", port)
	waitFor(t, 20*time.Second, "listening on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, log.String)

	const study = "1.2.826.0.1.3680043.10.20"
	files := writeCTFiles(t, t.TempDir(), study, 5)
	out, err := apptest.RunCmd(t, dcmtkTimeout, storescu, append([]string{"-v", "-aec", "INBOX", "-aet", "STORESCU", "127.0.0.1", port}, files...)...)
	apptest.CheckStorescuOutput(t, out, err, len(files))

	var evs []forward.LifecycleEvent
	var msgs []kafka.Message
	waitFor(t, 60*time.Second, "a study-complete event on the lifecycle topic", func() bool {
		evs, msgs = lifecycleOfType(t, broker, forward.TypeStudyComplete)
		if len(evs) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
		return len(evs) > 0
	}, log.String)
	// Nothing more comes: wait three idle times (many watcher ticks) and
	// read the topic again.
	time.Sleep(3 * idle)
	evs, msgs = lifecycleOfType(t, broker, forward.TypeStudyComplete)
	if len(evs) != 1 {
		t.Fatalf("%d study-complete events, want exactly 1: %+v", len(evs), evs)
	}
	ev, m := evs[0], msgs[0]
	checkAgainstSchema(t, schemaValidator(t, "lifecycle-event.v1.json"), "lifecycle-event.v1.json", m.Value)
	if string(m.Key) != study || header(m, "ce_type") != forward.TypeStudyComplete || header(m, "ce_id") != ev.EventID {
		t.Errorf("key %q, headers %v", m.Key, m.Headers)
	}
	if ev.StudyInstanceUID != study || ev.InstanceCount != 5 || ev.SeriesCount != 2 || ev.PatientID != "PK" ||
		ev.PatientName != "Kafka^Test" || !slices.Equal(ev.Modalities, []string{"CT"}) || ev.CallingAE != "STORESCU" ||
		ev.Tenant != "tenant-a" || ev.NodeID != "test-node" || ev.SizeBytes < 5*4096 {
		t.Errorf("study-complete event: %+v", ev)
	}
	first, err1 := time.Parse(time.RFC3339Nano, ev.FirstReceived)
	last, err2 := time.Parse(time.RFC3339Nano, ev.LastReceived)
	at, err3 := time.Parse(time.RFC3339Nano, ev.EventTime)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("times of %+v: %v %v %v", ev, err1, err2, err3)
	}
	// The engine's own clock: completion comes at least the idle time after
	// the last instance (its association ended even later).
	if last.Before(first) || at.Sub(last) < idle-time.Millisecond { // event_time is cut to milliseconds
		t.Errorf("first %v, last %v, complete %v: want complete ≥ last + %v", first, last, at, idle)
	}

	// One info line in the serve log.
	var lines []string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, `msg="study complete"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "study_instance_uid="+study) ||
		!strings.Contains(lines[0], "instances=5") || !strings.Contains(lines[0], "series=2") || !strings.Contains(lines[0], "calling_ae=STORESCU") {
		t.Errorf("study-complete log lines: %q", lines)
	}
	if strings.Contains(log.String(), "not queued") {
		t.Errorf("an event was not queued:\n%s", log.String())
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("RunHeadless: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunHeadless did not return after the cancel")
	}
}

// TestStudyCompletesWhileStopped: a study whose association ended before
// the listener stopped still completes (once, with the event on the hub),
// and the idle time follows Apply.
func TestStudyCompletesWhileStopped(t *testing.T) {
	cfg := testConfig(t)
	cfg.StudyCompleteAfter = Duration(time.Hour)
	e, addr := startEngine(t, cfg)
	events, unsub := e.Events().Subscribe(1024)
	defer unsub()
	const study = "1.2.826.0.1.3680043.10.21"
	sendCT(t, addr, "MODALITY", study, 3)
	waitEvent(t, events, 30*time.Second, "the release", func(ev Event) bool { return ev.Kind == scp.AssociationReleased })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if p, ok := e.studies.Get(study, time.Now()); !ok || p.State != StudyStateReceiving || p.Instances != 3 {
		t.Fatalf("before the idle time: %+v (present %v)", p, ok)
	}
	cfg.StudyCompleteAfter = Duration(100 * time.Millisecond)
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, 30*time.Second, "the study to complete", func(ev Event) bool { return ev.Kind == StudyCompleted })
	if p := ev.Completed; p == nil || p.StudyInstanceUID != study || p.Instances != 3 || p.State != StudyStateComplete ||
		p.CallingAE != "MODALITY" || !p.CompletedAt.Equal(ev.Time) {
		t.Fatalf("completed: %+v", ev.Completed)
	}
	// Exactly once: several idle times later there is no second event.
	deadline := time.After(10 * time.Duration(cfg.StudyCompleteAfter))
	for {
		select {
		case ev := <-events:
			if ev.Kind == StudyCompleted {
				t.Fatalf("a second study-complete event: %+v", ev.Completed)
			}
			continue
		case <-deadline:
		}
		break
	}
}
