package ui

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/store/index"
)

// A damaged index shows in the study list with a button that rebuilds it
// from the files, after a confirmation; the list then shows the studies
// again and the activity log says what the new index holds.
func TestRebuildDamagedIndexFromTheStudyList(t *testing.T) {
	first := newRealWindow(t)
	port := first.start(t)
	first.storescu(t, port, "03_mr_explicit_big_endian.dcm", "33_ct_gb18030_chinese.dcm")
	dir := first.engine.StorageDir()
	_, want, err := first.engine.Studies(context.Background(), index.StudyQuery{})
	if err != nil || want == 0 {
		t.Fatalf("studies before the damage: %d, %v", want, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := first.engine.Close(ctx); err != nil {
		t.Fatal(err)
	}
	apptest.BreakStudiesTable(t, filepath.Join(dir, "index.db"))

	r := newRealWindow(t)
	r.applyConfig(t, func(c *app.Config) { c.StorageDir = dir })
	r.studies.reloadNow()
	v := r.studies
	if !strings.HasPrefix(v.empty.Text, "Cannot read the index: the index of storage folder "+dir+" is damaged") ||
		!v.empty.Visible() || !v.rebuild.content.Visible() {
		t.Fatalf("study list on a damaged index: %q (shown %v), rebuild button shown %v",
			v.empty.Text, v.empty.Visible(), v.rebuild.content.Visible())
	}

	test.Tap(v.rebuild.button)
	if v.rebuild.confirm == nil {
		t.Fatal("no confirmation")
	}
	v.rebuild.confirm.Hide() // "Cancel"
	if v.rebuild.running || !strings.Contains(v.empty.Text, "is damaged") {
		t.Fatal("a cancelled confirmation rebuilt the index")
	}
	test.Tap(v.rebuild.button)
	v.rebuild.confirm.Confirm() // queries run inline in the tests: done when it returns

	if v.total != want || v.err != nil || v.empty.Visible() || v.rebuild.content.Visible() {
		t.Errorf("after the rebuild: %d studies (want %d), err %v, empty text shown %v, button shown %v",
			v.total, want, v.err, v.empty.Visible(), v.rebuild.content.Visible())
	}
	var infos []string
	for _, e := range r.mon.Log.Entries(slog.LevelInfo) {
		infos = append(infos, e.Text)
	}
	if !strings.Contains(strings.Join(infos, "\n"), "Index rebuilt from the files: ") {
		t.Errorf("activity log: %q", infos)
	}
}

// While a rebuild runs, its button counts the files read.
func TestRebuildShowsProgress(t *testing.T) {
	w, _ := newTestWindow(t, newFakeEngine())
	r := w.studies.rebuild
	r.progress(5) // not running: ignored
	if r.button.Text != "Rebuild the index from the files…" {
		t.Errorf("idle button: %q", r.button.Text)
	}
	r.running = true
	r.progress(12345)
	if want := "Rebuilding the index… 12,345 files read"; r.button.Text != want {
		t.Errorf("button %q, want %q", r.button.Text, want)
	}
}
