package scp

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// Rejected associations are logged one per kind and period: a modality
// retrying every second with a wrong AE title, or a scanner probing the
// port, would otherwise write a warning per attempt. The first rejection of
// a kind (same reason, same peer host) in a period is logged in full; the
// others are counted, and one summary line with their number follows when
// the period ends. The event hook still sees every rejection.

// rejectLogPeriod is how long the log stays quiet about a kind of rejection
// after it was logged.
const rejectLogPeriod = time.Minute

// maxThrottleKinds bounds the kinds tracked at once; past it, the peer host
// is left out of the key (peers from many addresses share one count).
const maxThrottleKinds = 1024

// logThrottle counts repeats of log lines by kind within a period.
type logThrottle struct {
	period time.Duration
	log    *slog.Logger
	mu     sync.Mutex
	// held has an entry for every kind whose period is open: the number of
	// lines of that kind held back so far.
	held map[throttleKey]int
}

type throttleKey struct{ reason, host string }

func newLogThrottle(log *slog.Logger, period time.Duration) *logThrottle {
	return &logThrottle{period: period, log: log, held: make(map[throttleKey]int)}
}

// admit reports whether a line of this kind may be logged now. When it may
// not, the line is counted, and a summary is logged when the period that
// the first line of its kind opened ends.
func (t *logThrottle) admit(reason, remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	k := throttleKey{reason, host}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.held[k]; !ok && len(t.held) >= maxThrottleKinds {
		k.host = "(many peers)"
	}
	if _, ok := t.held[k]; ok {
		t.held[k]++
		return false
	}
	t.held[k] = 0
	period := t.period
	time.AfterFunc(period, func() { t.end(k, period) })
	return true
}

// setPeriod changes the period of the kinds seen from now on (tests).
func (t *logThrottle) setPeriod(d time.Duration) {
	t.mu.Lock()
	t.period = d
	t.mu.Unlock()
}

// flush closes every open period now and logs what each held back (at
// Shutdown and Close, so that a summary is not lost with the process). A
// period's timer that fires later finds nothing to report.
func (t *logThrottle) flush() {
	t.mu.Lock()
	held := t.held
	t.held = make(map[throttleKey]int)
	period := t.period
	t.mu.Unlock()
	for k, n := range held {
		t.report(k, n, period)
	}
}

// report logs the n lines of kind k held back within period, if any.
func (t *logThrottle) report(k throttleKey, n int, period time.Duration) {
	if n > 0 {
		t.log.Warn("more associations rejected for the same reason", "count", n, "reason", k.reason,
			"peer_host", k.host, "within", period)
	}
}

// end closes the period of kind k and logs how many lines it held back.
func (t *logThrottle) end(k throttleKey, period time.Duration) {
	t.mu.Lock()
	n := t.held[k]
	delete(t.held, k)
	t.mu.Unlock()
	t.report(k, n, period)
}
