package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dicominbox/dicominbox/app/forward"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// PasswordEnv is the environment variable that supplies the SASL password
// when the configuration has none (so it need not be stored or passed on a
// command line).
const PasswordEnv = "DICOMINBOX_KAFKA_PASSWORD"

// kafkaLink is the engine's Kafka forwarding: the event builder handed to the
// store (the outbox is written with the index rows), the relay that publishes
// the outbox, and the queue that turns association events into lifecycle
// events (lifecycle.go). The engine calls storeOptions, start and stop;
// everything else lives here.
type kafkaLink struct {
	mu      sync.Mutex
	cfg     KafkaConfig
	builder *forward.Builder
	idx     *index.DB

	// lc takes the association lifecycle events from the listener's event
	// hook (lifecycle.go); nil when no lifecycle topic is configured or
	// forwarding is stopped.
	lc atomic.Pointer[lifecycleQueue]

	relay atomic.Pointer[forward.Relay] // nil when not running
	// setupErr says why the relay could not be created (bad TLS files).
	setupErr atomic.Pointer[string]
	// maxBackoff, when set (tests, before Start), caps the relay's backoff.
	maxBackoff time.Duration
}

// storeOptions adds the outbox hooks to opt when Kafka is enabled in cfg;
// otherwise opt is returned unchanged and nothing is ever written.
func (k *kafkaLink) storeOptions(cfg Config, opt store.Options) store.Options {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg = cfg.Kafka
	k.builder = nil
	if !cfg.Kafka.Enabled {
		return opt
	}
	root, err := filepath.Abs(cfg.StorageDir)
	if err != nil {
		root = cfg.StorageDir
	}
	k.builder = forward.NewBuilder(cfg.Kafka.NodeID, root, cfg.Kafka.Tenants)
	opt.Outbox = k.builder.Instance
	opt.OutboxReady = k.notify
	return opt
}

// notify wakes the relay; it never blocks (the store calls it).
func (k *kafkaLink) notify() {
	if r := k.relay.Load(); r != nil {
		r.Notify()
	}
}

// start starts the relay over idx and, when a lifecycle topic is set, the
// queue that turns association events into lifecycle events. A relay that
// cannot be set up (a TLS file cannot be read) is logged and shown in the
// state; receiving goes on and the events wait in the outbox.
func (k *kafkaLink) start(idx *index.DB, log *slog.Logger) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setupErr.Store(nil)
	if k.builder == nil {
		return
	}
	k.idx = idx
	if k.cfg.LifecycleTopic != "" {
		// Also when the relay cannot start: the events wait in the outbox,
		// as the instance and study-complete events do.
		k.lc.Store(newLifecycleQueue(k.builder, idx, log))
	}
	fc, err := forwardConfig(k.cfg)
	fc.MaxBackoff = k.maxBackoff
	var r *forward.Relay
	if err == nil {
		r, err = forward.NewRelay(fc, idx, log)
	}
	if err != nil {
		msg := err.Error()
		k.setupErr.Store(&msg)
		log.Error("kafka: forwarding not started; events wait in the outbox", "err", err)
		return
	}
	k.relay.Store(r)
	r.Start()
	log.Info("kafka: forwarding", "brokers", strings.Join(k.cfg.Brokers, ","), "topic", fc.Topic,
		"lifecycle_topic", fc.LifecycleTopic, "node_id", k.builder.NodeID(), "backlog", idx.OutboxLen())
}

// stop writes the queued lifecycle events into the outbox, stops the relay
// and waits for it; the index must still be open.
func (k *kafkaLink) stop(log *slog.Logger) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if q := k.lc.Swap(nil); q != nil {
		q.close()
	}
	if r := k.relay.Swap(nil); r != nil {
		if err := r.Close(); err != nil {
			log.Warn("kafka: stopping the relay", "err", err)
		}
	}
	k.idx = nil
}

// lifecycle queues the lifecycle event of ev, if it has one and a lifecycle
// topic is configured. It never blocks; the listener's event hook calls it.
func (k *kafkaLink) lifecycle(ev scp.Event) {
	if q := k.lc.Load(); q != nil {
		q.add(ev)
	}
}

// lifecycleOf maps an association event to a lifecycle event: rejected and
// aborted associations have one, nothing else does.
func lifecycleOf(ev scp.Event) (typ string, le forward.LifecycleEvent, ok bool) {
	switch ev.Kind {
	case scp.AssociationRejected:
		typ = forward.TypeAssociationRejected
	case scp.AssociationAborted:
		typ = forward.TypeAssociationAborted
	default:
		return "", le, false
	}
	a := ev.Association
	return typ, forward.LifecycleEvent{
		AssociationID: a.ID, CallingAE: a.CallingAE, CalledAE: a.CalledAE, SourceIP: hostOnly(a.RemoteAddr),
		Reason: ev.Reason, Instances: ev.Instances, Bytes: ev.Bytes,
	}, true
}

func hostOnly(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// state is what Engine.Kafka reports.
func (k *kafkaLink) state(enabled bool) KafkaState {
	if !enabled {
		return KafkaState{}
	}
	s := KafkaState{Enabled: true}
	if msg := k.setupErr.Load(); msg != nil {
		s.LastError = *msg
	}
	if r := k.relay.Load(); r != nil {
		rs := r.State()
		s.Connected, s.LastError, s.LastErrorAt = rs.Connected, rs.LastError, rs.LastErrorAt
		s.Backlog = r.Backlog()
	}
	return s
}

// forwardConfig turns the settings into the relay's configuration.
func forwardConfig(k KafkaConfig) (forward.Config, error) {
	fc := forward.Config{Brokers: k.Brokers, Topic: k.Topic, LifecycleTopic: k.LifecycleTopic, ClientID: k.ClientID}
	if fc.Topic == "" {
		fc.Topic = DefaultKafkaTopic
	}
	if k.TLS.Enabled {
		t, err := forward.TLSConfig(k.TLS.CAFile, k.TLS.CertFile, k.TLS.KeyFile, k.TLS.InsecureSkipVerify)
		if err != nil {
			return fc, err
		}
		fc.TLS = t
	}
	pass := k.SASL.Password
	if pass == "" {
		pass = os.Getenv(PasswordEnv)
	}
	m, err := forward.SASLMechanism(k.SASL.Mechanism, k.SASL.Username, pass)
	if err != nil {
		return fc, err
	}
	fc.SASL = m
	return fc, nil
}

// TestKafkaConnection checks Kafka settings for the settings dialog's "test
// connection" button: every broker is dialled with the TLS and SASL
// settings, and the topics must exist. The error says in words what is
// wrong ("cannot reach broker 127.0.0.1:9092: connection refused",
// "authentication failed …", "topic "x" does not exist"). The settings are
// tested even when k.Enabled is false.
func TestKafkaConnection(ctx context.Context, k KafkaConfig) error {
	k.Enabled = true
	if errs := k.validate(); len(errs) > 0 {
		return errors.Join(errs...)
	}
	fc, err := forwardConfig(k)
	if err != nil {
		return err
	}
	return forward.Probe(ctx, fc)
}

// errStoreClosed is returned by queueStudyComplete while the storage folder
// (and with it the outbox) is closed, between a settings change that reopens
// it and the next start.
var errStoreClosed = errors.New("the storage folder is not open")

// queueStudyComplete queues the study-complete lifecycle event of p (key:
// the Study Instance UID; tenant from the calling AE of its newest
// instance) in the outbox, from where it is published like every other
// event. It does nothing (and returns nil) unless Kafka and a lifecycle
// topic are configured. It does not wait for Kafka. The study watcher
// (studywatch.go) is its only caller, once per completed study.
func (e *Engine) queueStudyComplete(ctx context.Context, p StudyProgress) error {
	k := &e.kafka
	k.mu.Lock()
	b, idx, topic := k.builder, k.idx, k.cfg.LifecycleTopic
	k.mu.Unlock()
	if b == nil || topic == "" {
		return nil
	}
	if idx == nil {
		return errStoreClosed
	}
	le := forward.LifecycleEvent{
		StudyInstanceUID: p.StudyInstanceUID, PatientID: p.PatientID, PatientName: p.PatientName,
		AccessionNumber: p.AccessionNumber, StudyDate: p.StudyDate, Modalities: p.Modalities,
		SeriesCount: p.Series, InstanceCount: p.Instances, SizeBytes: p.Bytes,
		CallingAE: p.CallingAE,
	}
	if !p.FirstReceived.IsZero() {
		le.FirstReceived = p.FirstReceived.UTC().Format(time.RFC3339Nano)
	}
	if !p.LastReceived.IsZero() {
		le.LastReceived = p.LastReceived.UTC().Format(time.RFC3339Nano)
	}
	at := p.CompletedAt
	if at.IsZero() {
		at = time.Now()
	}
	m, err := b.Lifecycle(forward.TypeStudyComplete, p.StudyInstanceUID, p.CallingAE, at, le)
	if err != nil {
		return fmt.Errorf("study-complete event of %s: %w", p.StudyInstanceUID, err)
	}
	if _, err := idx.EnqueueOutbox(ctx, m); err != nil {
		return fmt.Errorf("queue study-complete event of %s: %w", p.StudyInstanceUID, err)
	}
	return nil
}
