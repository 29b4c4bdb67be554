package index

import (
	"os"
)

// defaultWALWarnBytes is the WAL size from which the writer warns (see
// Options.WALWarnBytes): far above what the automatic checkpoints leave
// (walAutocheckpoint pages, 32 MiB).
const defaultWALWarnBytes = 1 << 30

// walCheckEvery is how many commits pass between two looks at the WAL's size.
const walCheckEvery = 256

// walWatch warns when the WAL keeps growing. A checkpoint can only copy
// the WAL back into the database up to the oldest open read transaction,
// and can start the WAL afresh only when no reader uses it; a program that
// keeps a read transaction open on index.db (a viewer, a script, the
// sqlite3 shell inside BEGIN) makes it grow by ~30 KiB per instance without
// end. Only the writer goroutine uses it.
type walWatch struct {
	path    string // the WAL file
	warnAt  int64  // next size that is warned about
	commits int
}

func newWALWatch(dbPath string, warnBytes int64) *walWatch {
	if warnBytes <= 0 {
		warnBytes = defaultWALWarnBytes
	}
	return &walWatch{path: dbPath + "-wal", warnAt: warnBytes}
}

// committed counts a commit and, every walCheckEvery of them, returns the
// WAL's size when it has reached the next warning size (which then
// doubles), else 0.
func (ww *walWatch) committed() int64 {
	ww.commits++
	if ww.commits%walCheckEvery != 0 {
		return 0
	}
	fi, err := os.Stat(ww.path)
	if err != nil || fi.Size() < ww.warnAt {
		return 0
	}
	for ww.warnAt <= fi.Size() {
		ww.warnAt *= 2
	}
	return fi.Size()
}
