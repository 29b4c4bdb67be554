package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/dimse"
	"github.com/dicominbox/dicominbox/store"
)

// storeHandler turns C-STORE requests into stored files and store errors
// into DIMSE statuses (PS3.4 B.2.3):
//
//	stored                                 0000 Success
//	stored, data set differs from command  B007 Data Set does not match SOP Class (warning)
//	disk full, write/fsync/rename failed   A700 Refused: Out of Resources
//	free space below the configured floor  A700 Refused: Out of Resources
//	data set cannot be parsed at all       C000 Error: Cannot understand
//	the stream broke off                   0110 Processing failure (the association is gone anyway)
type storeHandler struct {
	store   *store.Store
	minFree uint64 // bytes
	log     *slog.Logger
	refs    *studyRefs // nil: the events carry no study
	phases  *PhaseLog  // nil: no phase log
}

// errDiskNearlyFull is the refusal the disk guard gives.
var errDiskNearlyFull = errors.New("storage disk nearly full")

func (h *storeHandler) diskGuard() error {
	if h.minFree == 0 {
		return nil
	}
	free, err := h.store.FreeBytes()
	if err != nil {
		return fmt.Errorf("cannot read free space: %w", err)
	}
	if free < h.minFree {
		return fmt.Errorf("%w: %d MB free, %d MB required", errDiskNearlyFull, free>>20, h.minFree>>20)
	}
	return nil
}

// admit is the server's Admit hook: new associations are turned away while
// the storage folder is gone (folderwatch.go) or its disk is below the
// free-space floor.
func (h *storeHandler) admit(info scp.AssociationInfo) error {
	if err := h.store.CheckFolder(); err != nil { // the engine's watcher stops listening soon
		h.log.Warn("association refused: the storage folder is gone", "calling", info.CallingAE, "err", err)
		return err
	}
	if err := h.diskGuard(); err != nil {
		h.log.Warn("association refused by the disk guard", "calling", info.CallingAE, "err", err)
		return err
	}
	return nil
}

// Store implements scp.Handler.
func (h *storeHandler) Store(ctx context.Context, req *scp.StoreRequest, data io.Reader) scp.Status {
	start := time.Now()
	if err := h.diskGuard(); err != nil {
		h.log.Warn("C-STORE refused by the disk guard", "sop_instance", req.SOPInstanceUID, "err", err)
		return scp.Status{Code: dimse.StatusOutOfResources, Comment: "storage disk nearly full"}
	}
	st, err := h.store.Ingest(ctx, store.Instance{
		SOPClassUID:       req.SOPClassUID,
		SOPInstanceUID:    req.SOPInstanceUID,
		TransferSyntaxUID: req.TransferSyntaxUID,
		CallingAE:         req.Association.CallingAE,
		CalledAE:          req.Association.CalledAE,
		RemoteAddr:        req.Association.RemoteAddr,
	}, data)
	if err == nil && h.refs != nil {
		h.refs.put(req.Association.ID, req.SOPInstanceUID, studyRefOf(st))
	}
	if err == nil {
		h.phases.record(req.Association.ID, req.SOPInstanceUID, st.DataSetSize, start, time.Now(), st.Phases)
	}
	switch {
	case err == nil && st.Warning != "":
		h.log.Info("stored with warning", "path", st.Path, "warning", st.Warning)
		return scp.Status{Code: dimse.StatusWarningDataSetMismatch, Comment: st.Warning}
	case err == nil:
		h.log.Debug("stored", "path", st.Path, "bytes", st.Size)
		return scp.Status{Code: dimse.StatusSuccess}
	case errors.Is(err, store.ErrOutOfResources):
		comment := "could not write the file"
		if ferr := h.store.CheckFolder(); ferr != nil { // the reason, rather than its symptom
			comment, err = "storage folder is gone", ferr
		}
		h.log.Error("could not store an instance", "sop_instance", req.SOPInstanceUID, "err", err)
		return scp.Status{Code: dimse.StatusOutOfResources, Comment: comment}
	case errors.Is(err, store.ErrCannotUnderstand):
		h.log.Warn("data set cannot be parsed", "sop_instance", req.SOPInstanceUID, "err", err)
		return scp.Status{Code: dimse.StatusCannotUnderstand, Comment: "data set cannot be parsed"}
	default:
		h.log.Warn("instance not stored", "sop_instance", req.SOPInstanceUID, "err", err)
		return scp.Status{Code: dimse.StatusProcessingFailure, Comment: "instance not stored"}
	}
}
