package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dicominbox/dicominbox/store"
	"github.com/dicominbox/dicominbox/store/index"
)

// The engine's catalog: queries and deletes on the storage folder. They work
// whether the listener runs or not (the store opens at the first call) and
// may run on any goroutine; the window calls them off its UI goroutine.

// ErrStudyNotFound is returned for a study the index does not have.
var ErrStudyNotFound = errors.New("study not found")

// Studies returns one page of the study list and the number of matching studies.
func (e *Engine) Studies(ctx context.Context, q index.StudyQuery) (rows []index.Study, total int, err error) {
	err = e.withStore(func(st *store.Store) error {
		rows, total, err = st.Index().Studies(ctx, q)
		return err
	})
	return rows, total, err
}

// Series lists the series of a study (index.Study.Key names it).
func (e *Engine) Series(ctx context.Context, key index.StudyKey) (out []index.Series, err error) {
	err = e.withStore(func(st *store.Store) error {
		out, err = st.Index().Series(ctx, key)
		return err
	})
	return out, err
}

// Instances lists the instances of a series (index.Series.Key names it).
func (e *Engine) Instances(ctx context.Context, key index.SeriesKey) (out []index.Instance, err error) {
	err = e.withStore(func(st *store.Store) error {
		out, err = st.Index().Instances(ctx, key)
		return err
	})
	return out, err
}

// DeleteStudy removes a study, its files and its index rows together, and
// returns how many instances went. The same Study Instance UID under another
// patient ID is another study and stays.
func (e *Engine) DeleteStudy(ctx context.Context, key index.StudyKey) (n int, err error) {
	err = e.withStore(func(st *store.Store) error {
		n, err = st.DeleteStudy(ctx, key)
		return err
	})
	if err == nil {
		e.log.Info("study deleted", "study_instance_uid", key.StudyInstanceUID, "patient_id", key.PatientID, "instances", n)
	}
	return n, err
}

// StudyFolder returns the absolute folder holding the study's files
// (<storage>/<patient>/<study>). ErrStudyNotFound when the index has no
// instance of it.
func (e *Engine) StudyFolder(ctx context.Context, key index.StudyKey) (dir string, err error) {
	err = e.withStore(func(st *store.Store) error {
		series, err := st.Index().Series(ctx, key)
		if err != nil {
			return err
		}
		for _, se := range series {
			ins, err := st.Index().Instances(ctx, se.Key())
			if err != nil {
				return err
			}
			for _, in := range ins {
				// path is patient/study/series/file.
				dir = filepath.Join(st.Root(), filepath.Dir(filepath.Dir(filepath.FromSlash(in.Path))))
				return nil
			}
		}
		return fmt.Errorf("%w: %s", ErrStudyNotFound, key.StudyInstanceUID)
	})
	return dir, err
}

// StorageDir returns the absolute path of the configured storage folder
// (whether it exists or not).
func (e *Engine) StorageDir() string {
	dir := e.Config().StorageDir
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// FreeBytes returns the free space of the storage disk.
func (e *Engine) FreeBytes() (free uint64, err error) {
	err = e.withStore(func(st *store.Store) error {
		free, err = st.FreeBytes()
		return err
	})
	return free, err
}

// InstancesSince counts the instances received at or after t (for "instances
// received today").
func (e *Engine) InstancesSince(ctx context.Context, t time.Time) (n int, err error) {
	err = e.withStore(func(st *store.Store) error {
		n, err = st.Index().InstancesSince(ctx, t)
		return err
	})
	return n, err
}
