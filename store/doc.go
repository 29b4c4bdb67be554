// Package store keeps every received DICOM instance as a bit-preserving
// Part-10 file in a readable tree under a storage root.
//
// # Layout
//
//	<root>/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm
//	<root>/.incoming/<random>.part   files being received (removed at Open)
//
// Every component is sanitised (see docs/storage-layout.md): only
// [A-Za-z0-9._-] are kept, any other character becomes '_', leading and
// trailing dots become '_', and a component that had to be changed or is
// longer than 64 bytes gets a short hash of the original value
// ("_" + 12 hex digits) so that different values never share a name.
// Missing values go to clearly named buckets: _no-patient-id, _no-study-uid,
// _no-series-uid. Every final path is proven to stay under the root.
//
// # Files
//
// A stored file is a 128-byte zero preamble, "DICM", a File Meta Information
// group written by this package (Explicit VR Little Endian) and then the data
// set bytes exactly as they were received: never decoded and re-encoded.
// The meta group names the data set's own SOP Class/Instance UIDs (the
// command's when the data set has none), the accepted transfer syntax, and
// the calling AE title as Source and Sending AE title, the called AE title as
// Receiving AE title.
//
// # Durability
//
// Ingest writes to .incoming, fsyncs the file, renames it into the tree and
// fsyncs the directory that received it (and the parents of directories it
// created) before it returns. Concurrent Ingests that rename into the same
// directory share one directory fsync that starts after all their renames.
// Options.Sync=false skips every fsync (tests, benchmarks).
//
// The instance's index row is committed at the same time: it is queued
// before the file fsync and waited for after the directory fsync (when a
// file is already stored at the target path, before the rename, whose
// outcome then depends on the row). Ingest returns success only when both
// are done; after a crash in between, the reconcile at Open removes a row
// whose file is not in the tree and indexes a file that has no row.
// Ingests of one SOP Instance UID take turns.
//
// # Duplicates
//
// A second instance with the same SOP Instance UID follows the configured
// DuplicatePolicy: DuplicateReplace (the default) replaces the first one
// atomically (rename over it; Stored.Replaced tells so), DuplicateKeep keeps
// the first. Identical content is a no-op either way.
//
// # Status mapping for the C-STORE response
//
//   - errors.Is(err, ErrOutOfResources): A700 (create, write, fsync, mkdir or
//     rename failed: disk full, read-only, permissions).
//   - errors.Is(err, ErrCannotUnderstand): C000 (no element of the data set
//     could be parsed; nothing is kept).
//   - an error from the data reader (association broken): no response is
//     possible; nothing is kept.
//   - any other error: 0110 (processing failure).
//   - success with Stored.Warning != "": B007 (Data Set does not match SOP
//     Class), the instance is stored. See ErrDataSetMismatch for why a
//     mismatch is not refused with A900.
package store
