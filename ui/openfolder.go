package ui

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"fyne.io/fyne/v2"
)

// openFolder shows a folder in the desktop's file manager: xdg-open on
// Linux and BSD, open on macOS, explorer on Windows; fyne's OpenURL with a
// file:// URL when that tool is missing.
func openFolder(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", abs)
	}
	tool := map[string]string{"darwin": "open", "windows": "explorer"}[runtime.GOOS]
	if tool == "" {
		tool = "xdg-open"
	}
	if p, err := exec.LookPath(tool); err == nil {
		cmd := exec.Command(p, abs)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%s: %w", tool, err)
		}
		go cmd.Wait() //nolint:errcheck // reap; the file manager reports its own errors
		return nil
	}
	a := fyne.CurrentApp()
	if a == nil {
		return fmt.Errorf("no %s and no desktop to open %s", tool, abs)
	}
	return a.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)})
}
