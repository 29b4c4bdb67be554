package app

import (
	"strconv"
	"time"
)

// KafkaState is what the window and the log show about Kafka forwarding.
type KafkaState struct {
	// Enabled is false when Kafka is not configured; the rest is then zero.
	Enabled bool
	// Connected is true after the last publish (or probe) reached the brokers.
	Connected bool
	// Backlog is the number of events waiting in the outbox.
	Backlog int64
	// LastError says in words why the last publish failed ("" after a success).
	LastError   string
	LastErrorAt time.Time
}

// String describes the state in a few words: "off", "connected",
// "backlog 12", "unreachable: …".
func (s KafkaState) String() string {
	switch {
	case !s.Enabled:
		return "off"
	case s.LastError != "":
		if s.Backlog > 0 {
			return "error: " + s.LastError + " (backlog " + strconv.FormatInt(s.Backlog, 10) + ")"
		}
		return "error: " + s.LastError
	case s.Backlog > 0:
		return "backlog " + strconv.FormatInt(s.Backlog, 10)
	case s.Connected:
		return "connected"
	}
	return "connecting"
}
