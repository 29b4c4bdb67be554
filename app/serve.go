package app

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// RunHeadless runs the engine without a window until ctx is done (SIGINT or
// SIGTERM), then stops accepting, lets running associations finish for at
// most cfg.ShutdownTimeout, and returns. A failure to start is returned.
func RunHeadless(ctx context.Context, cfg Config, log *slog.Logger) error {
	e := NewEngine(cfg, log)
	if err := e.Start(); err != nil {
		e.Close(context.Background())
		return err
	}
	<-ctx.Done()
	log.Info("shutting down", "active_associations", e.ActiveAssociations(), "grace", time.Duration(cfg.ShutdownTimeout).String())
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	if err := e.Close(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	} else if err != nil {
		log.Warn("shutdown grace period over; remaining associations aborted")
	}
	return nil
}
