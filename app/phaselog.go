package app

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/store"
)

// PhaseLog writes one tab-separated line per stored instance saying where
// its time went (`serve --phase-log FILE`): the store's phases
// (store.Phases), the whole handler, and the gap since the same
// association's previous instance was stored, which holds the response, the
// sender's turn and the next command. Times are in microseconds. It is a
// diagnostic for benchmarks; tools/phases.sh sums a file up.
type PhaseLog struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	last map[uint64]time.Time // association ID -> when its previous instance was stored
}

// phaseLogColumns is the header line of a phase log.
const phaseLogColumns = "assoc\tsop_instance_uid\tbytes\tgap_us\treceive_us\theader_us\tdurable_us\tplace_us\tindex_us\thandler_us\n"

// phaseLogMaxAssociations bounds the memory of the previous instance's end:
// past it the map starts afresh (a gap or two is then left empty).
const phaseLogMaxAssociations = 4096

// CreatePhaseLog creates (or truncates) the file at path and writes the
// header line.
func CreatePhaseLog(path string) (*PhaseLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("phase log: %w", err)
	}
	l := &PhaseLog{f: f, w: bufio.NewWriterSize(f, 64<<10), last: map[uint64]time.Time{}}
	l.w.WriteString(phaseLogColumns)
	return l, nil
}

// record adds the line of one instance stored by association assoc; its
// handler ran from start to end. A nil log records nothing.
func (l *PhaseLog) record(assoc uint64, sop string, bytes int64, start, end time.Time, p store.Phases) {
	if l == nil {
		return
	}
	us := func(d time.Duration) int64 { return d.Microseconds() }
	l.mu.Lock()
	defer l.mu.Unlock()
	gap := ""
	if prev, ok := l.last[assoc]; ok {
		gap = fmt.Sprint(us(start.Sub(prev)))
	}
	if len(l.last) >= phaseLogMaxAssociations {
		clear(l.last)
	}
	l.last[assoc] = end
	fmt.Fprintf(l.w, "%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", assoc, sop, bytes, gap,
		us(p.Receive), us(p.Header), us(p.Durable), us(p.Place), us(p.Index), us(end.Sub(start)))
}

// Close writes what is buffered and closes the file.
func (l *PhaseLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("phase log: %w", err)
	}
	return nil
}
