package ui

import (
	"context"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/store/index"
)

// Engine is what the window needs from the receiver; *app.Engine implements
// it. It must be safe for concurrent use. Running, Status, Config, Kafka,
// ActiveAssociations and StorageDir are cheap and never block: the UI
// goroutine calls them. Everything else may wait (SQL, network, draining
// associations) and is called only off the UI goroutine.
type Engine interface {
	Start() error // start listening; returns a readable error (port in use, ...)
	Stop(ctx context.Context) error
	Running() bool
	Status() string // e.g. "Listening as INBOX on port 11112" / "Stopped" / the start error
	Config() app.Config
	Apply(ctx context.Context, cfg app.Config) error
	Events() *app.Hub
	// StudyProgress is the engine's view of a study, for catching up after
	// the hub dropped events for the window.
	StudyProgress(studyUID string) (app.StudyProgress, bool)
	Kafka() app.KafkaState
	ActiveAssociations() int
	StorageDir() string
	Stats(ctx context.Context, now time.Time) (app.Stats, error)

	Studies(ctx context.Context, q index.StudyQuery) ([]index.Study, int, error)
	Series(ctx context.Context, key index.StudyKey) ([]index.Series, error)
	Instances(ctx context.Context, key index.SeriesKey) ([]index.Instance, error)
	DeleteStudy(ctx context.Context, key index.StudyKey) (int, error)
	StudyFolder(ctx context.Context, key index.StudyKey) (string, error)
	// RebuildIndex rebuilds the index from the stored files (restarting a
	// running listener around it).
	RebuildIndex(ctx context.Context, progress func(files int)) (index.Totals, error)
}

var _ Engine = (*app.Engine)(nil)
