package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store"
)

// outboxCount reads the number of waiting events from a running receiver's
// index (read-only, beside the receiver: WAL mode).
func outboxCount(t *testing.T, storage string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(storage, store.IndexFile)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM outbox").Scan(&n); err != nil {
		t.Fatalf("count outbox: %v", err)
	}
	return n
}

// topicSOPs reads every instance event of topic with a kafka-go Reader and
// returns how many distinct events (by event id) name each SOP Instance UID.
func topicSOPs(t *testing.T, broker, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := map[string]bool{}
	sops := map[string]int{}
	for p := range 3 {
		lc, err := kafka.DialLeader(ctx, "tcp", broker, topic, p)
		if err != nil {
			t.Fatalf("leader of partition %d: %v", p, err)
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			t.Fatal(err)
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for off := int64(0); off < last; {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read partition %d: %v", p, err)
			}
			off = m.Offset + 1
			var ev struct {
				EventID        string `json:"event_id"`
				SOPInstanceUID string `json:"sop_instance_uid"`
			}
			if err := json.Unmarshal(m.Value, &ev); err != nil || ev.EventID == "" {
				t.Fatalf("partition %d offset %d: not an event (%v): %s", p, m.Offset, err, m.Value)
			}
			if !ids[ev.EventID] {
				ids[ev.EventID] = true
				sops[ev.SOPInstanceUID]++
			}
		}
		r.Close()
	}
	return sops
}

// TestKafkaBacklogSurvivesSIGKILL: the broker is down while instances
// arrive (all answered 0000), the receiver is killed with SIGKILL with that
// backlog; the broker comes up, the receiver restarts, the backlog drains
// and every instance has exactly one event.
func TestKafkaBacklogSurvivesSIGKILL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	storage := filepath.Join(t.TempDir(), "inbox")
	brokerPort := apptest.FreePort(t) // nothing listens there yet
	broker := fmt.Sprintf("127.0.0.1:%d", brokerPort)
	flags := []string{"--kafka-brokers", broker, "--kafka-topic", "dicom.instances", "--kafka-node-id", "crash-node"}

	port, _, stop := startServe(t, ctx, storage, flags...)
	c, err := scp.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", port), scp.DialConfig{CalledAE: "INBOX", Contexts: []scp.ProposedContext{
		{AbstractSyntax: apptest.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for i := range 30 {
		sop := fmt.Sprintf("1.2.826.0.1.3680043.9.8.%d", i)
		ds := apptest.CT{SOPInstanceUID: sop, StudyInstanceUID: "1.2.826.0.1.3680043.9.8", SeriesInstanceUID: "1.2.826.0.1.3680043.9.8.100",
			PatientID: "PKILL", PatientName: "Crash^Test", PixelBytes: 4 << 10}.DataSet()
		st, err := c.Store(ctx, apptest.CTImageStorage, sop, uid.ImplicitVRLittleEndian, bytes.NewReader(ds))
		if err != nil || st.Code != 0 {
			t.Fatalf("C-STORE %d with the broker down: status %04X, %v", i, st.Code, err)
		}
		sent = append(sent, sop)
	}
	c.Release(ctx)
	if n := outboxCount(t, storage); n != 30 {
		t.Fatalf("backlog %d before the kill, want 30", n)
	}
	stop(syscall.SIGKILL)

	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(brokerPort), kfake.SeedTopics(3, "dicom.instances"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, _, stop2 := startServe(t, ctx, storage, flags...)
	for deadline := time.Now().Add(60 * time.Second); outboxCount(t, storage) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop2(syscall.SIGKILL)
			t.Fatalf("backlog %d a minute after the restart", outboxCount(t, storage))
		}
	}
	if err := stop2(syscall.SIGTERM); err != nil {
		t.Fatalf("restarted serve: %v", err)
	}
	got := topicSOPs(t, broker, "dicom.instances")
	for _, sop := range sent {
		if got[sop] != 1 {
			t.Errorf("%s: %d events, want 1", sop, got[sop])
		}
	}
	if len(got) != len(sent) {
		t.Errorf("%d instances announced, want %d", len(got), len(sent))
	}
}
