package index

import (
	"testing"
	"time"
)

func TestInstancesSince(t *testing.T) {
	db, _ := openTest(t, Options{})
	// Study A: 2 instances before the cut, 1 after; study B: 2 after; study C: before only.
	for i, c := range []struct {
		study, series string
		at            time.Duration
	}{
		{"A", "A1", -2 * time.Hour}, {"A", "A1", -time.Minute}, {"A", "A2", time.Minute},
		{"B", "B1", time.Second}, {"B", "B1", 0},
		{"C", "C1", -48 * time.Hour},
	} {
		in := inst("P", c.study, c.series, "I"+string(rune('a'+i)), i)
		in.ReceivedAt = baseTime.Add(c.at)
		mustPut(t, db, in)
	}
	for _, tc := range []struct {
		since time.Time
		want  int
	}{
		{baseTime, 3},
		{baseTime.Add(-90 * time.Minute), 4},
		{baseTime.Add(-72 * time.Hour), 6},
		{baseTime.Add(time.Hour), 0},
	} {
		n, err := db.InstancesSince(ctx, tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("InstancesSince(%v) = %d, want %d", tc.since, n, tc.want)
		}
	}
}
