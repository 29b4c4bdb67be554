package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/dicominbox/dicominbox/store/index"
)

// Outbox is what the relay needs of the index (index.DB implements it).
type Outbox interface {
	ReadOutbox(ctx context.Context, n int) ([]index.OutboxRow, error)
	DeleteOutbox(ctx context.Context, ids ...int64) error
	OutboxLen() int64
}

// State is the relay's view of the brokers.
type State struct {
	// Connected is true after the last publish (or the start) reached the
	// brokers without an error.
	Connected bool
	// LastError says in words why the last attempt failed ("" once one
	// succeeds); LastErrorAt is when.
	LastError   string
	LastErrorAt time.Time
}

// Relay publishes the outbox to Kafka until Close. Start it once.
type Relay struct {
	cfg Config
	ob  Outbox
	log *slog.Logger
	tr  *kafka.Transport
	w   *kafka.Writer

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	state atomic.Pointer[State]
	// Published counts the events the brokers acknowledged (tests, bench).
	published atomic.Int64
}

// NewRelay returns a relay for cfg over ob; log nil means slog.Default().
func NewRelay(cfg Config, ob Outbox, log *slog.Logger) (*Relay, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errNoBrokers
	}
	if cfg.Topic == "" {
		return nil, errors.New("kafka: no topic for instance events")
	}
	cfg.fill()
	if log == nil {
		log = slog.Default()
	}
	r := &Relay{cfg: cfg, ob: ob, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	r.tr = cfg.transport()
	r.w = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		BatchSize:    cfg.BatchSize,
		BatchTimeout: cfg.BatchTimeout,
		ReadTimeout:  cfg.Timeout,
		WriteTimeout: cfg.Timeout,
		// The relay retries with its own backoff, and says why in between.
		MaxAttempts: 1,
		Transport:   r.tr,
	}
	r.state.Store(&State{})
	return r, nil
}

// Start runs the relay on its own goroutine until Close.
func (r *Relay) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.run(ctx)
}

// Close stops the relay, waits for it and closes its connections. Events
// not yet acknowledged stay in the outbox for the next start.
func (r *Relay) Close() error {
	var err error
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
		err = r.w.Close()
		r.tr.CloseIdleConnections()
		if err != nil {
			err = fmt.Errorf("kafka: close writer: %w", err)
		}
	})
	return err
}

// Notify wakes the relay because events became readable. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// State returns the current state. It never blocks.
func (r *Relay) State() State { return *r.state.Load() }

// Published returns how many events the brokers have acknowledged.
func (r *Relay) Published() int64 { return r.published.Load() }

// Backlog returns the number of events waiting in the outbox.
func (r *Relay) Backlog() int64 { return r.ob.OutboxLen() }

func (r *Relay) run(ctx context.Context) {
	defer close(r.done)
	var (
		failures  int  // consecutive failed attempts
		wasDown   bool // an error was logged and not yet followed by "connected"
		connected bool
		// behind is true while a backlog built up (at start, or while the
		// brokers failed) has not been worked off: "drained" is logged then,
		// not after every lone event.
		behind = r.ob.OutboxLen() > 0
		// lastPublish is when the last publish ended (see linger).
		lastPublish time.Time
	)
	if !behind {
		// Nothing to publish: dial the brokers once so that the indicator
		// says at once whether they can be reached.
		dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
		desc := diagnose(dctx, &r.cfg)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if desc == "" {
			connected = true
			r.log.Info("kafka: connected", "brokers", r.cfg.Brokers, "topic", r.cfg.Topic)
			r.state.Store(&State{Connected: true})
		} else {
			wasDown = true
			r.log.Warn("kafka: cannot reach the brokers", "err", desc)
			r.state.Store(&State{LastError: desc, LastErrorAt: time.Now()})
		}
	}
	for {
		rows, err := r.ob.ReadOutbox(ctx, r.cfg.BatchSize)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Error("kafka: cannot read the outbox", "err", err)
			failures++
			if !r.sleep(ctx, failures) {
				return
			}
			continue
		}
		if len(rows) == 0 {
			if behind {
				r.log.Info("kafka: backlog drained", "published", r.published.Load())
				behind = false
			}
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
			}
			// Under load (the last publish was recent), let the events
			// that arrive together share one produce request and one
			// outbox delete; an event after a quiet spell goes at once.
			if time.Since(lastPublish) < r.cfg.Linger && !r.linger(ctx) {
				return
			}
			continue
		}
		msgs, ids, dropped := r.messages(rows)
		if len(dropped) > 0 {
			r.log.Warn("kafka: lifecycle events dropped: no lifecycle topic is configured", "count", len(dropped))
			if err := r.ob.DeleteOutbox(context.WithoutCancel(ctx), dropped...); err != nil {
				r.log.Error("kafka: cannot delete dropped events from the outbox", "err", err)
			}
		}
		acked, werr := r.publish(ctx, msgs, ids)
		lastPublish = time.Now()
		if len(acked) > 0 {
			// Deleted even when Close is under way: they were acknowledged.
			if err := r.ob.DeleteOutbox(context.WithoutCancel(ctx), acked...); err != nil {
				r.log.Error("kafka: cannot delete published events from the outbox; they will be sent again", "err", err)
			}
			r.published.Add(int64(len(acked)))
		}
		if werr == nil {
			failures = 0
			if !connected || wasDown {
				r.log.Info("kafka: connected", "brokers", r.cfg.Brokers, "topic", r.cfg.Topic, "backlog", r.ob.OutboxLen())
			}
			connected, wasDown = true, false
			r.state.Store(&State{Connected: true})
			continue
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		desc := Describe(werr, topicOf(werr, msgs, r.cfg.Topic))
		if !conclusive(desc) {
			dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
			if d := diagnose(dctx, &r.cfg); d != "" {
				desc = d
			}
			cancel()
		}
		prev := r.State()
		if !wasDown || prev.LastError != desc {
			r.log.Warn("kafka: cannot publish; retrying with backoff", "err", desc, "backlog", r.ob.OutboxLen())
		}
		connected, wasDown, behind = false, true, true
		r.state.Store(&State{Connected: false, LastError: desc, LastErrorAt: time.Now()})
		if !r.sleep(ctx, failures) {
			return
		}
	}
}

// messages turns outbox rows into Kafka messages; events of a stream that
// has no topic are returned in dropped.
func (r *Relay) messages(rows []index.OutboxRow) (msgs []kafka.Message, ids, dropped []int64) {
	for _, row := range rows {
		topic := r.cfg.Topic
		if row.Stream == index.StreamLifecycle {
			topic = r.cfg.LifecycleTopic
		}
		if topic == "" {
			dropped = append(dropped, row.ID)
			continue
		}
		hs := make([]kafka.Header, len(row.Headers))
		for i, h := range row.Headers {
			hs[i] = kafka.Header{Key: h.Key, Value: []byte(h.Value)}
		}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(row.Key), Value: row.Value, Headers: hs})
		ids = append(ids, row.ID)
	}
	return msgs, ids, dropped
}

// publish writes msgs (synchronously, acks=all) and returns the ids of the
// ones the brokers acknowledged.
func (r *Relay) publish(ctx context.Context, msgs []kafka.Message, ids []int64) ([]int64, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	wctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout+r.cfg.DialTimeout)
	defer cancel()
	err := r.w.WriteMessages(wctx, msgs...)
	if err == nil {
		return ids, nil
	}
	var we kafka.WriteErrors
	if !errors.As(err, &we) || len(we) != len(ids) {
		return nil, err
	}
	var acked []int64
	for i, e := range we {
		if e == nil {
			acked = append(acked, ids[i])
		}
	}
	return acked, err
}

// topicOf names the topic of the first failed message.
func topicOf(err error, msgs []kafka.Message, fallback string) string {
	var we kafka.WriteErrors
	if errors.As(err, &we) && len(we) == len(msgs) {
		for i, e := range we {
			if e != nil {
				return msgs[i].Topic
			}
		}
	}
	if len(msgs) > 0 {
		return msgs[0].Topic
	}
	return fallback
}

// sleep waits the backoff of the n-th consecutive failure: MinBackoff·2^(n-1)
// capped at MaxBackoff, with jitter (a random time between half of it and
// all of it). It returns false when ctx ended. New events do not cut it
// short: the brokers are what is failing.
func (r *Relay) sleep(ctx context.Context, n int) bool {
	t := time.NewTimer(Backoff(r.cfg.MinBackoff, r.cfg.MaxBackoff, n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// linger waits Config.Linger after a wake-up; false when ctx ended.
func (r *Relay) linger(ctx context.Context) bool {
	if r.cfg.Linger <= 0 {
		return true
	}
	t := time.NewTimer(r.cfg.Linger)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	select { // the wake-ups of the lingering time are served by this read
	case <-r.wake:
	default:
	}
	return true
}

// Backoff is the pause after the n-th (1-based) consecutive failure.
func Backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
