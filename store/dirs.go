package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// maxCachedDirs bounds the directory cache; when it is full it is emptied
// (the next Ingest into each directory pays one Mkdir more).
const maxCachedDirs = 100_000

// dirCache remembers directories of the tree known to exist durably, so that
// an Ingest into a known series directory costs no Mkdir and no parent fsync.
type dirCache struct {
	m sync.Map // absolute directory path -> struct{}
	n atomic.Int64
}

func (c *dirCache) has(dir string) bool {
	_, ok := c.m.Load(dir)
	return ok
}

func (c *dirCache) add(dir string) {
	if c.n.Add(1) > maxCachedDirs {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(dir, struct{}{})
}

func (c *dirCache) forget(dirs ...string) {
	for _, d := range dirs {
		c.m.Delete(d)
	}
}

// ensureDir creates root/comps[0]/.../comps[n-1] as needed. With sync on, it
// fsyncs the parent of every level not yet known to be durable, so that the
// new entries survive a power cut before Ingest reports success. Levels are
// cached only after that, so a concurrent Ingest that finds a directory a
// peer is still making durable syncs it too rather than trusting it early.
func (s *Store) ensureDir(comps []string) error {
	levels := s.levels(comps)
	if s.dirs.has(levels[len(levels)-1]) {
		return nil
	}
	first := 0 // first level not known to exist
	for i := len(levels) - 2; i >= 0; i-- {
		if s.dirs.has(levels[i]) {
			first = i + 1
			break
		}
	}
	for _, d := range levels[first:] {
		if err := s.fault("mkdir"); err != nil {
			return err
		}
		err := os.Mkdir(d, 0o755)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err != nil { // exists: make sure it is a directory
			if fi, serr := os.Stat(d); serr != nil {
				return serr
			} else if !fi.IsDir() {
				return &fs.PathError{Op: "mkdir", Path: d, Err: errors.New("exists and is not a directory")}
			}
		}
	}
	if s.opt.Sync {
		for i := first; i < len(levels); i++ {
			parent := s.root
			if i > 0 {
				parent = levels[i-1]
			}
			if err := s.syncDir(parent); err != nil {
				return err
			}
		}
	}
	for _, d := range levels[first:] {
		s.dirs.add(d)
	}
	return nil
}

// syncDir fsyncs a directory of the tree through the coalescer.
func (s *Store) syncDir(dir string) error {
	if err := s.fault("dirsync"); err != nil {
		return err
	}
	return s.dsync.sync(dir)
}

// levels returns root/comps[0], root/comps[0]/comps[1], ...
func (s *Store) levels(comps []string) []string {
	levels := make([]string, len(comps))
	parent := s.root
	for i, c := range comps {
		levels[i] = filepath.Join(parent, c)
		parent = levels[i]
	}
	return levels
}

// forgetAll empties the cache (after folders were removed).
func (c *dirCache) forgetAll() {
	c.m.Clear()
	c.n.Store(0)
}
