package app

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// HeadlessOptions are the settings of RunHeadless that are not part of
// the saved configuration.
type HeadlessOptions struct {
	// PhaseLog, when not empty, is the file that gets a line per stored
	// instance saying where its time went (PhaseLog).
	PhaseLog string
}

// RunHeadless runs the engine without a window until ctx is done (SIGINT or
// SIGTERM), then stops accepting, lets running associations finish for at
// most cfg.ShutdownTimeout, and returns. A failure to start is returned.
func RunHeadless(ctx context.Context, cfg Config, log *slog.Logger, opt HeadlessOptions) (err error) {
	e := NewEngine(cfg, log)
	if opt.PhaseLog != "" {
		pl, err := CreatePhaseLog(opt.PhaseLog)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := pl.Close(); err == nil {
				err = cerr
			}
		}()
		e.SetPhaseLog(pl)
	}
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
