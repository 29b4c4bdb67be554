// Package store keeps every received DICOM instance as a bit-preserving
// Part-10 file in a readable tree under a storage root.
//
// # Layout
//
//	<root>/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm
//	<root>/.incoming/<random>.part   files being received (removed at Open)
//	<root>/.incoming/journal-?.dij   the journal (see Durability)
//	<root>/.incoming/*.reserve       empty, keep the journal's inodes apart (journal_reserve.go)
//	<root>/.incoming/lock            locked while a Store has the folder open (lock.go)
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
// Receiving AE title, and the peer's IP address and port as Sending
// Presentation Address (dicom://ip:port), from which a reindex restores the
// index's source IP.
//
// # Durability
//
// Ingest writes to .incoming and makes the file durable before it returns
// success, in one of two ways:
//
//   - A small file (Options.JournalMaxInstance, 96 KiB) for a free path goes
//     through the journal: its whole content and path are appended to one of
//     two preallocated files, .incoming/journal-0.dij and journal-1.dij, and
//     one fdatasync (shared by concurrent Ingests) makes it durable; then,
//     from 256 KiB up, its writeback is started (not waited for), and it is
//     renamed into the tree without fsyncing the file or its folder. A
//     checkpoint (a second after a journal file's first record, when it is
//     half full, before any file of the tree is removed or replaced, and at
//     Close) makes the tree durable with one syncfs and empties that journal
//     file. At Open, before the index is reconciled, the file of every live
//     record is written to the tree again where it is missing or differs
//     (a power cut before the checkpoint). See journal.go for the format.
//   - Any other file is fsynced, renamed into the tree and the folder that
//     received it fsynced. Concurrent Ingests that rename into the same
//     folder share one folder fsync that starts after all their renames.
//
// New folders are created with their parents fsynced either way.
// Options.Sync=false skips every fsync and the journal (tests, benchmarks).
//
// The instance's index row is committed at the same time: it is queued
// before the file is made durable and waited for after the rename (when a
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
// # Deleting
//
// DeleteStudy and DeleteSeries checkpoint the journal, move the files into
// .trash, delete the rows, then empty the trash; they hold the placing lock
// exclusively, Ingest shares it from before its row is queued until its file
// is in the tree, so no file outlives its row (docs/storage-layout.md).
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
