package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
)

// ErrTooNew is returned by Open for an index written by a newer version of the
// program (its user_version is above the highest migration this one knows).
// Opening it could corrupt what the newer version maintains, so it is refused.
var ErrTooNew = errors.New("index: database schema is newer than this program")

func sqlf(format, arg string) string { return fmt.Sprintf(format, arg) }

// migrate brings the database to schemaVersion in one IMMEDIATE transaction:
// either every missing step is applied or none is. Two processes opening the
// same new file serialise on the write lock; the second one sees the version
// the first one committed and applies nothing.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	tx, err := db.BeginTx(ctx, nil) // the writer DSN makes this BEGIN IMMEDIATE
	if err != nil {
		return fmt.Errorf("index: begin migration: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("index: read user_version: %w", err)
	}
	switch {
	case v > schemaVersion:
		return fmt.Errorf("%w: user_version %d, this program knows up to %d", ErrTooNew, v, schemaVersion)
	case v < 0:
		return fmt.Errorf("index: invalid user_version %d", v)
	case v == schemaVersion:
		return nil
	}
	for i := v; i < schemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("index: migration %d->%d: %w", i, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; schemaVersion is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("index: set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: commit migration: %w", err)
	}
	log.Info("index schema migrated", "from", v, "to", schemaVersion)
	return nil
}
