package store

import "errors"

var (
	// ErrOutOfResources marks a failure to create, write, fsync, or rename a
	// file or directory of the tree (disk full, read-only file system,
	// permissions). The caller answers A700 (Refused: Out of Resources).
	ErrOutOfResources = errors.New("out of resources")

	// ErrCannotUnderstand marks a data set of which not a single element could
	// be parsed (empty or garbage). Nothing is kept. The caller answers C000
	// (Error: Cannot understand).
	ErrCannotUnderstand = errors.New("cannot understand data set")

	// ErrDataSetMismatch names the condition "Data Set does not match SOP
	// Class" (PS3.4 B.2.3, failure A900 / warning B007).
	//
	// Ingest does not return it as an error: a data set whose SOP Class or
	// Instance UID differs from the command, lacks them, or is malformed after
	// its first elements is still stored (nothing received is lost, and a
	// reading workstation is better served by a questionable image than by a
	// refused one), and Stored.Warning explains the problem so that the caller
	// answers the warning B007 instead of the failure A900. A future strict mode
	// may return an error wrapping it; callers should then answer A900.
	ErrDataSetMismatch = errors.New("data set does not match SOP class")
)
