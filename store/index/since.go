package index

import (
	"context"
	"fmt"
	"time"
)

// InstancesSince counts the instances received at or after t (e.g. "today"
// for the window's status line). It walks only the studies that received
// something since t (studies_last_received), their series, and the
// instances of those series by receive time (instances_series), so it stays
// cheap on a large index.
func (db *DB) InstancesSince(ctx context.Context, t time.Time) (int, error) {
	r, err := db.reader()
	if err != nil {
		return 0, err
	}
	var n int
	since := formatTime(t)
	err = r.QueryRowContext(ctx, `SELECT count(*) FROM studies st
JOIN series s ON s.study_ref = st.id
JOIN instances i ON i.series_id = s.id AND i.received_at >= ?1
WHERE st.last_received >= ?1`, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("index: instances since %s: %w", since, err)
	}
	return n, nil
}
