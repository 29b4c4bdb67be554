//go:build !linux

package store

import "os"

// startWriteback does nothing where sync_file_range does not exist: the
// fsync that follows does all the work.
func startWriteback(*os.File, int64, int64) {}

// awaitWriteback does nothing where sync_file_range does not exist.
func awaitWriteback(*os.File) {}

// dropPages does nothing where posix_fadvise is not used: the kernel keeps
// and reclaims the pages as it sees fit.
func dropPages(*os.File, int64, int64) {}
