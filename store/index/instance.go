package index

import (
	"errors"
	"strings"
	"time"
)

// Instance is one row of the catalogue, as the store knows it after the file
// is durable. Strings are UTF-8 (already decoded from the data set's
// character set). Every field is stored on the instance's own row, so Get and
// ForEachInstance return exactly what was put (apart from the placeholders
// below and ReceivedAt, which comes back in UTC).
type Instance struct {
	SOPInstanceUID, SOPClassUID, StudyInstanceUID, SeriesInstanceUID                     string
	PatientID, PatientName, PatientBirthDate, PatientSex                                 string
	StudyDate, StudyTime, StudyDescription, AccessionNumber, StudyID, ReferringPhysician string
	SeriesNumber                                                                         int
	SeriesDescription, Modality, BodyPart                                                string
	InstanceNumber                                                                       int
	NumberOfFrames                                                                       int
	SpecificCharacterSet                                                                 string
	TransferSyntaxUID                                                                    string
	Path                                                                                 string // relative to the storage root, slash-separated
	SizeBytes                                                                            int64
	ContentHash                                                                          string // hex digest of the data set bytes (for the duplicate policy)
	CallingAE, CalledAE, SourceIP                                                        string
	ReceivedAt                                                                           time.Time // stored as RFC 3339 UTC text; zero means "now" on Put
}

// Placeholders stored (and shown) where a data set lacks the value. They are
// exported so the GUI and the docs use the same words. A missing Study Date
// stays "" (the study list shows it as is).
const (
	NoPatientID = "(no patient ID)"
	NoStudyUID  = "(no study UID)"
	NoSeriesUID = "(no series UID)"
)

// Errors returned by Put for rows that cannot be indexed at all.
var (
	ErrNoSOPInstanceUID = errors.New("index: instance has no SOP Instance UID")
	ErrNoPath           = errors.New("index: instance has no path")
)

// Outcome tells Put's caller what the upsert did.
type Outcome struct {
	// Replaced is true when a row with the same SOP Instance UID existed.
	Replaced bool
	// Previous is that row as it was before (e.g. its Path, to delete the old
	// file when the new one lives elsewhere); nil unless Replaced.
	Previous *Instance
	// OutboxID is the id of the outbox event this Put wrote, held until
	// ReleaseOutbox or Restore; 0 when no event was written (no
	// Options.Outbox).
	OutboxID int64
}

// timeFormat is RFC 3339 in UTC with a fixed nine-digit fraction, so that the
// text sorts in time order (a variable-width fraction would not) and a
// time.Time survives the round trip to the nanosecond.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// prepareInstance validates in and fills the placeholders and the receive time.
func prepareInstance(in *Instance, now time.Time) error {
	if blank(in.SOPInstanceUID) {
		return ErrNoSOPInstanceUID
	}
	if blank(in.Path) {
		return ErrNoPath
	}
	if blank(in.PatientID) {
		in.PatientID = NoPatientID
	}
	if blank(in.StudyInstanceUID) {
		in.StudyInstanceUID = NoStudyUID
	}
	if blank(in.SeriesInstanceUID) {
		in.SeriesInstanceUID = NoSeriesUID
	}
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	in.ReceivedAt = in.ReceivedAt.UTC().Round(0)
	return nil
}

// instanceCols lists the instances columns in the order scanInstance reads
// and instanceArgs writes them.
const instanceCols = `sop_instance_uid, sop_class_uid, study_instance_uid, series_instance_uid,
  patient_id, patient_name, patient_birth_date, patient_sex,
  study_date, study_time, study_description, accession_number, study_id, referring_physician,
  series_number, series_description, modality, body_part,
  instance_number, number_of_frames, specific_character_set, transfer_syntax_uid,
  path, size_bytes, content_hash, calling_ae, called_ae, source_ip, received_at`

const instanceColCount = 29

func instanceArgs(in *Instance) []any {
	return []any{in.SOPInstanceUID, in.SOPClassUID, in.StudyInstanceUID, in.SeriesInstanceUID,
		in.PatientID, in.PatientName, in.PatientBirthDate, in.PatientSex,
		in.StudyDate, in.StudyTime, in.StudyDescription, in.AccessionNumber, in.StudyID, in.ReferringPhysician,
		in.SeriesNumber, in.SeriesDescription, in.Modality, in.BodyPart,
		in.InstanceNumber, in.NumberOfFrames, in.SpecificCharacterSet, in.TransferSyntaxUID,
		in.Path, in.SizeBytes, in.ContentHash, in.CallingAE, in.CalledAE, in.SourceIP, formatTime(in.ReceivedAt)}
}

type scanner interface{ Scan(dest ...any) error }

// scanInstance reads instanceCols, preceded by the extra destinations pre.
func scanInstance(s scanner, pre ...any) (Instance, error) {
	var in Instance
	var received string
	dest := append(pre, &in.SOPInstanceUID, &in.SOPClassUID, &in.StudyInstanceUID, &in.SeriesInstanceUID,
		&in.PatientID, &in.PatientName, &in.PatientBirthDate, &in.PatientSex,
		&in.StudyDate, &in.StudyTime, &in.StudyDescription, &in.AccessionNumber, &in.StudyID, &in.ReferringPhysician,
		&in.SeriesNumber, &in.SeriesDescription, &in.Modality, &in.BodyPart,
		&in.InstanceNumber, &in.NumberOfFrames, &in.SpecificCharacterSet, &in.TransferSyntaxUID,
		&in.Path, &in.SizeBytes, &in.ContentHash, &in.CallingAE, &in.CalledAE, &in.SourceIP, &received)
	if err := s.Scan(dest...); err != nil {
		return Instance{}, err
	}
	in.ReceivedAt = parseTime(received)
	return in, nil
}

// instanceColsQualified is instanceCols with every column prefixed "i.".
var instanceColsQualified = func() string {
	cols := strings.Split(instanceCols, ",")
	for i, c := range cols {
		cols[i] = "i." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()
