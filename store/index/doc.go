// Package index is the SQLite catalogue of what the store holds: one row per
// received instance in the table instances (the contract other tools read
// with the sqlite3 shell), grouped into patients, studies and series whose
// counts, sizes, modalities and receive times the database's own triggers
// keep right. docs/index-schema.md describes the schema.
//
// # Writes
//
// One goroutine owns the only write connection. Put, Delete, DeleteStudy and
// DeleteSeries hand it a request and wait; it runs every request already
// queued (up to Options.MaxBatch) in one transaction, each in its own
// savepoint, commits once and answers them all. Under load, concurrent
// instances share a transaction and its WAL writes; alone, a request is
// committed immediately. A Put of a new instance into a series the index
// already holds, changing none of its parents' values, is one INSERT
// (put.go); the triggers do the rest.
//
// # Durability
//
// The index runs in WAL mode with synchronous=NORMAL by default: a commit
// writes the WAL but does not fsync it; the WAL is fsynced when it is
// checkpointed (every walAutocheckpoint pages, by the commit that crosses
// that size). A committed row survives a crash of the process, but a power
// cut or kernel crash can lose the last commits. That is accepted because the
// index is not the durable record: the store fsyncs and renames each file
// before calling Put, and reconcile at start re-creates the rows (and their
// outbox events) of files that have none, so whatever a power cut takes from
// the index comes back at the next start. Options.Synchronous "FULL" adds one
// fsync per transaction (shared by its batch) for callers that want the row
// itself durable before C-STORE-RSP.
//
// # Reads
//
// Queries use a separate pool of query_only connections. In WAL mode readers
// see the last committed snapshot and neither wait for the writer nor make it
// wait. The study list filter is case-, accent- and width-insensitive (see
// fold.go), which SQLite's LIKE is not.
//
// The package imports only the standard library and modernc.org/sqlite (pure
// Go, no cgo).
package index
