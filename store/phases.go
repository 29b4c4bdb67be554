package store

import "time"

// Phases says how long the steps of one Ingest took (Stored.Phases): what
// `serve --phase-log` writes per instance, to show where an instance's time
// goes without a profiler.
type Phases struct {
	// Receive: a temp file taken and the data set written into it, as fast
	// as it arrived.
	Receive time.Duration
	// Header: the header read back, the received time stamped, the path
	// resolved and the locks of the SOP Instance UID and of placing taken.
	Header time.Duration
	// Durable: the file made durable, by its journal record and the
	// record's fdatasync (shared with concurrent Ingests), or by its own
	// fsync. The index transaction runs meanwhile, on the writer goroutine.
	Durable time.Duration
	// Place: the file closed and renamed into the tree (and, without the
	// journal, its folder fsynced).
	Place time.Duration
	// Index: waiting for the index transaction to commit, once the rest
	// was done (before Place when a file is already stored at the path).
	Index time.Duration
}

// phaseClock fills a Phases: each mark gives the time since the previous
// one to a field.
type phaseClock struct {
	p           Phases
	begin, last time.Time
}

func newPhaseClock() *phaseClock {
	now := time.Now()
	return &phaseClock{begin: now, last: now}
}

func (c *phaseClock) mark(d *time.Duration) {
	now := time.Now()
	*d += now.Sub(c.last)
	c.last = now
}
