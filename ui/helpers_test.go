package ui

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/store/index"
)

// testNow is the clock of the window tests (a fixed instant keeps the
// golden markup stable).
var testNow = time.Date(2025, 5, 6, 14, 30, 0, 0, time.UTC)

// testOptions are the options of the window tests: no status poll, no event
// pump (the tests call apply and tick), queries inline, no debounce, UTC.
func testOptions(opDone func()) options {
	return options{opDone: opDone, now: func() time.Time { return testNow }, loc: time.UTC,
		openFolder: func(string) error { return nil }}
}

// catalogStub is the part of a scripted Engine that is not the listener: a
// fixed configuration, a hub nobody publishes on, and an in-memory study list.
type catalogStub struct {
	mu      sync.Mutex
	cfg     app.Config
	hub     *app.Hub
	studies []index.Study
	active  int
	queries int
	stats   app.Stats
	// progress is what StudyProgress answers (the engine's study tracker).
	progress map[string]app.StudyProgress
}

func newCatalogStub() *catalogStub {
	cfg := app.DefaultConfig()
	cfg.StorageDir = "/srv/dicom-inbox"
	return &catalogStub{cfg: cfg, hub: app.NewHub(), stats: app.Stats{InstancesToday: 1234, FreeBytes: 250e9}}
}

func (c *catalogStub) Config() app.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

func (c *catalogStub) Apply(_ context.Context, cfg app.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg = cfg
	return nil
}

func (c *catalogStub) Events() *app.Hub { return c.hub }
func (c *catalogStub) StudyProgress(uid string) (app.StudyProgress, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.progress[uid]
	return p, ok
}
func (c *catalogStub) Kafka() app.KafkaState {
	return app.KafkaState{Enabled: c.Config().Kafka.Enabled}
}
func (c *catalogStub) StorageDir() string { return c.Config().StorageDir }

func (c *catalogStub) ActiveAssociations() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

func (c *catalogStub) Stats(context.Context, time.Time) (app.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Active = c.active
	return s, nil
}

// Studies filters by substring of name/ID/description and pages; it does
// not sort (the real sort is tested against the real engine).
func (c *catalogStub) Studies(_ context.Context, q index.StudyQuery) ([]index.Study, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	var match []index.Study
	for _, s := range c.studies {
		hay := strings.ToLower(s.PatientName + " " + s.PatientID + " " + s.Description)
		if strings.Contains(hay, strings.ToLower(strings.TrimSpace(q.Filter))) {
			match = append(match, s)
		}
	}
	total := len(match)
	lo := min(q.Offset, total)
	hi := min(lo+max(q.Limit, 1), total)
	return match[lo:hi], total, nil
}

func (c *catalogStub) Series(context.Context, index.StudyKey) ([]index.Series, error) {
	return nil, nil
}
func (c *catalogStub) Instances(context.Context, index.SeriesKey) ([]index.Instance, error) {
	return nil, nil
}
func (c *catalogStub) DeleteStudy(context.Context, index.StudyKey) (int, error)    { return 0, nil }
func (c *catalogStub) StudyFolder(context.Context, index.StudyKey) (string, error) { return "", nil }
func (c *catalogStub) RebuildIndex(context.Context, func(int)) (index.Totals, error) {
	return index.Totals{}, nil
}
