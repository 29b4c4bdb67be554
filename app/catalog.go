package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// Reindex rebuilds DIR/index.db from the files of the storage folder.
// progress, when not nil, gets the number of files read so far now and
// then (store.Options.Progress).
func Reindex(storageDir string, log *slog.Logger, progress func(files int)) (index.Totals, error) {
	if _, err := os.Stat(storageDir); err != nil {
		return index.Totals{}, fmt.Errorf("storage folder: %w", err)
	}
	return store.Reindex(storageDir, store.Options{
		Logger:                    log,
		Sync:                      true,
		ImplementationClassUID:    scp.ImplementationClassUID,
		ImplementationVersionName: scp.ImplementationVersionName,
		Progress:                  progress,
	})
}

// ListStudies writes the study list of the index in storageDir to w, as a
// table or as JSON (one array). It opens the index read-only
// (index.OpenReadOnly): it never creates, migrates or writes it, works on a
// read-only folder and may run while the receiver runs. A missing index or
// one of another schema version is an error.
func ListStudies(ctx context.Context, w io.Writer, storageDir string, q index.StudyQuery, asJSON bool) error {
	rows, total, err := readStudies(ctx, storageDir, q)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []index.Study{}
		}
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST RECEIVED\tPATIENT NAME\tPATIENT ID\tSTUDY DATE\tMODALITIES\tDESCRIPTION\tACCESSION\tSERIES\tINSTANCES\tSIZE\tSOURCE AE")
	for _, s := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", s.LastReceived.Local().Format(time.DateTime),
			s.PatientName, s.PatientID, s.StudyDate, strings.ReplaceAll(s.Modalities, `\`, ","), s.Description,
			s.AccessionNumber, s.SeriesCount, s.InstanceCount, HumanBytes(s.SizeBytes), s.SourceAE)
	}
	fmt.Fprintf(tw, "(%d of %d studies)\n", len(rows), total)
	return tw.Flush()
}

// HumanBytes formats a size as "12.3 MB" (decimal units).
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// readStudies opens the index in storageDir read-only and queries one page
// of its study list. A damaged index, found when it is opened or read, is
// described with the command that rebuilds it.
func readStudies(ctx context.Context, storageDir string, q index.StudyQuery) (rows []index.Study, total int, err error) {
	path := filepath.Join(storageDir, store.IndexFile)
	db, err := index.OpenReadOnly(path, index.Options{Logger: slog.New(slog.DiscardHandler), ReadConns: 1})
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(storageDir); errors.Is(serr, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("storage folder %s does not exist (removed, or its disk not mounted?)", storageDir)
		}
		return nil, 0, fmt.Errorf("no index in %s (%s does not exist)", storageDir, store.IndexFile)
	}
	if err == nil {
		defer db.Close()
		rows, total, err = db.Studies(ctx, q)
	}
	if index.IsDamaged(err) {
		err = damagedIndexError(storageDir, err)
	}
	return rows, total, err
}
