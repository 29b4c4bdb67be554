package apptest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The corpus loads whole, and CorpusFiles and CorpusPath find files by name.
func TestCorpus(t *testing.T) {
	if os.Getenv("DICOMINBOX_CORPUS") == "" {
		// The default is relative to a package folder one level down
		// (app, ui); this one is two levels down.
		t.Setenv("DICOMINBOX_CORPUS", filepath.Join("..", "..", "..", "shared", "corpus"))
	}
	all := LoadCorpus(t)
	if len(all) != CorpusSize {
		t.Fatalf("%d files", len(all))
	}
	got := CorpusFiles(t, all[2].Name, all[0].Name)
	if len(got) != 2 || got[0].SOPInstanceUID != all[2].SOPInstanceUID || got[1].Path != all[0].Path {
		t.Errorf("CorpusFiles: %+v", got)
	}
	if p := CorpusPath(t, all[1].Name); filepath.Base(p) != all[1].Name {
		t.Errorf("CorpusPath: %s", p)
	}
}

// RunCmd returns the output of a tool found with Tool and reports a
// non-zero exit.
func TestRunCmd(t *testing.T) {
	out, err := RunCmd(t, 10*time.Second, Tool(t, "storescu"), "--version")
	if err != nil || out == "" {
		t.Errorf("storescu --version: %v\n%s", err, out)
	}
	if _, err := RunCmd(t, 10*time.Second, Tool(t, "false")); err == nil {
		t.Error("false: no error")
	}
}
