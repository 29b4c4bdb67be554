package ui

// Window tests over a real app.Engine on 127.0.0.1 with DCMTK as the
// sender. The event pump is off: the test reads the hub itself and calls
// the window's apply on the test goroutine, which is the UI goroutine of
// the test driver. Queries run inline.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/apptest"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store/index"
)

const dcmtkTimeout = 45 * time.Second

type realWindow struct {
	*mainWindow
	engine *app.Engine
	events <-chan app.Event
	opDone chan struct{}
}

// newRealWindow builds the window over a stopped engine (port 0, a fresh
// storage folder, studies complete after 300 ms of quiet).
func newRealWindow(t *testing.T) *realWindow {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir = "127.0.0.1", 0, t.TempDir()
	cfg.MinFreeMB, cfg.NoSync = 0, true
	cfg.StudyCompleteAfter = app.Duration(300 * time.Millisecond)
	e := app.NewEngine(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		e.Close(ctx)
	})
	events, unsub := e.Events().Subscribe(4096)
	t.Cleanup(unsub)
	opDone := make(chan struct{}, 1)
	opts := testOptions(func() { opDone <- struct{}{} })
	opts.now = time.Now
	w := newMainWindow(test.NewTempApp(t), e, opts)
	t.Cleanup(w.win.Close)
	return &realWindow{mainWindow: w, engine: e, events: events, opDone: opDone}
}

// start taps the toggle and returns the port.
func (r *realWindow) start(t *testing.T) string {
	t.Helper()
	test.Tap(r.toggle)
	wait(t, r.opDone, "start")
	if !r.engine.Running() {
		t.Fatalf("engine not running after the toggle: %s", r.status.Text)
	}
	return fmt.Sprint(r.engine.Addr().(*net.TCPAddr).Port)
}

// pumpUntil applies hub events on the test goroutine until cond holds.
func (r *realWindow) pumpUntil(t *testing.T, what string, cond func(app.Event) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-r.events:
			r.apply(ev)
			if cond(ev) {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	return apptest.RunCmd(t, dcmtkTimeout, apptest.Tool(t, name), args...)
}

// storescu sends files with calling AE MODALITY and waits for the release event.
func (r *realWindow) storescu(t *testing.T, port string, files ...string) {
	t.Helper()
	args := append([]string{"-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", port}, files...)
	for i := range files {
		args[6+i] = apptest.CorpusPath(t, files[i])
	}
	if out, err := run(t, "storescu", args...); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	r.pumpUntil(t, "the association to end", func(ev app.Event) bool { return ev.Kind == scp.AssociationReleased })
}

func TestToggleDrivesRealEngine(t *testing.T) {
	r := newRealWindow(t)
	checkToggle(t, r.mainWindow, "Start", true)
	if r.status.Text != "Stopped" {
		t.Fatalf("status = %q", r.status.Text)
	}
	port := r.start(t)
	if want := "Listening as INBOX on port " + port; r.status.Text != want {
		t.Errorf("status = %q, want %q", r.status.Text, want)
	}
	checkToggle(t, r.mainWindow, "Stop", true)
	if out, err := run(t, "echoscu", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", port); err != nil {
		t.Fatalf("echoscu while listening: %v\n%s", err, out)
	}

	test.Tap(r.toggle)
	wait(t, r.opDone, "stop")
	if r.status.Text != "Stopped" || r.engine.Running() {
		t.Errorf("after stop: status %q, running %v", r.status.Text, r.engine.Running())
	}
	checkToggle(t, r.mainWindow, "Start", true)
	if _, err := run(t, "echoscu", "-aec", "INBOX", "-aet", "ECHOSCU", "127.0.0.1", port); err == nil {
		t.Error("echoscu succeeded after stop")
	}

	// A port in use: the status line says so.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := r.engine.Config()
	cfg.Port = busy.Addr().(*net.TCPAddr).Port
	if err := r.engine.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	test.Tap(r.toggle)
	wait(t, r.opDone, "failed start")
	if !strings.Contains(r.status.Text, fmt.Sprintf("port %d is already in use", cfg.Port)) {
		t.Errorf("status after a start on a busy port = %q", r.status.Text)
	}
	checkToggle(t, r.mainWindow, "Start", true)
}

// studyRow returns the row of the study list holding the study, or -1.
func studyRow(v *studyView, uid string) int {
	for i, s := range v.rows {
		if s.StudyInstanceUID == uid {
			return i
		}
	}
	return -1
}

func TestStudyAppearsWithProgressThenCompletes(t *testing.T) {
	r := newRealWindow(t)
	port := r.start(t)
	const study = "1.2.826.0.1.3680043.8.498.37473833226036635962867226438517672796" // 33_ct_gb18030_chinese
	if out, err := run(t, "storescu", "-aec", "INBOX", "-aet", "MODALITY", "127.0.0.1", port, apptest.CorpusPath(t, "33_ct_gb18030_chinese.dcm")); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	// The association is still open in the window's eyes until its release
	// event is applied: the study shows as receiving.
	r.pumpUntil(t, "the instance", func(ev app.Event) bool { return ev.Kind == scp.InstanceStored })
	row := studyRow(r.studies, study)
	if row < 0 {
		t.Fatalf("study not in the table after its instance was stored: %d rows", len(r.studies.rows))
	}
	if got := r.studies.cellText(row, 0); !strings.HasPrefix(got, "1 · ") {
		t.Errorf("progress = %q, want a live count and rate", got)
	}
	if got := r.studies.cellText(row, 1); !strings.Contains(got, "张") {
		t.Errorf("patient name cell = %q", got)
	}
	if got := r.studies.cellText(row, 9); got != "MODALITY" {
		t.Errorf("source AE cell = %q", got)
	}
	var released time.Time
	r.pumpUntil(t, "the release", func(ev app.Event) bool { released = ev.Time; return ev.Kind == scp.AssociationReleased })
	// The window never completes a study by itself, whatever its clock says:
	// the engine decides and publishes StudyCompleted.
	r.tick(released.Add(time.Minute))
	if got := r.studies.cellText(row, 0); !strings.HasPrefix(got, "1 · ") {
		t.Errorf("complete without the engine's event: %q", got)
	}
	var completed time.Time
	test.AssertNotificationSent(t, fyne.NewNotification("Study received", "ZHANG, SANFENG (张, 三丰) — 胸部CT平扫: 1 instance from MODALITY"), func() {
		r.pumpUntil(t, "the engine's study-complete event", func(ev app.Event) bool { completed = ev.Time; return ev.Kind == app.StudyCompleted })
	})
	if idle := completed.Sub(released); idle < 300*time.Millisecond {
		t.Errorf("complete %v after the release, before the idle time (300ms)", idle)
	}
	row = studyRow(r.studies, study)
	if got := r.studies.cellText(row, 0); got != "complete" {
		t.Errorf("progress after idle = %q, want complete", got)
	}
	if !strings.Contains(r.stats.label.Text, "0 active associations · 1 instance today · ") {
		t.Errorf("stats = %q", r.stats.label.Text)
	}
	entries := r.activity.entries
	if len(entries) == 0 || !strings.HasPrefix(entries[0].Text, "Study complete: ZHANG^SANFENG") {
		t.Errorf("activity log: %+v", entries)
	}
}

func TestSearchSortAndRejectedAssociation(t *testing.T) {
	r := newRealWindow(t)
	port := r.start(t)
	r.storescu(t, port, "01_ct_implicit_le.dcm", "25_charset_gb18030.dcm", "26_charset_jp_iso2022_ir87.dcm", "33_ct_gb18030_chinese.dcm")
	if r.studies.total != 4 {
		t.Fatalf("%d studies, want 4", r.studies.total)
	}
	ids := func() []string {
		var out []string
		for _, s := range r.studies.rows {
			out = append(out, s.PatientID)
		}
		return out
	}
	for _, c := range []struct{ typed, want string }{
		{"小东", "X2EXAMPLE"},      // GB18030
		{"山田", "H31EXAMPLE"},     // ISO 2022 IR 87
		{"やまだ", "H31EXAMPLE"},    // its phonetic group
		{"yamada", "H31EXAMPLE"}, // case-insensitive
		{"三丰", "CN-GB18030-001"},
	} {
		r.studies.search.SetText("")
		test.Type(r.studies.search, c.typed)
		if got := ids(); len(got) != 1 || got[0] != c.want {
			t.Errorf("search %q: patients %v, want [%s]", c.typed, got, c.want)
		}
	}
	test.Type(r.studies.search, "nobody")
	if r.studies.total != 0 || !r.studies.empty.Visible() || !strings.Contains(r.studies.empty.Text, "No study matches") {
		t.Errorf("no match: total %d, empty text %q", r.studies.total, r.studies.empty.Text)
	}
	r.studies.search.SetText("")
	if r.studies.total != 4 {
		t.Fatalf("cleared search: %d studies", r.studies.total)
	}

	r.studies.sortBy(index.SortPatientID)
	asc := ids()
	if !slices.IsSorted(asc) || len(asc) != 4 {
		t.Errorf("sorted by patient ID: %v", asc)
	}
	r.studies.sortBy(index.SortPatientID)
	desc := ids()
	if slices.Reverse(asc); !slices.Equal(desc, asc) {
		t.Errorf("descending: %v, want %v", desc, asc)
	}
	r.studies.sortBy(index.SortPatientID)
	if r.studies.query.Sort != index.SortDefault {
		t.Errorf("third click: sort %v, want the default", r.studies.query.Sort)
	}

	// A wrong called AE: rejected, with the reason in words, in the
	// associations and the activity log.
	if out, err := run(t, "echoscu", "-aec", "WRONG", "-aet", "ECHOSCU", "127.0.0.1", port); err == nil {
		t.Fatalf("echoscu to WRONG succeeded:\n%s", out)
	}
	r.pumpUntil(t, "the rejection", func(ev app.Event) bool { return ev.Kind == scp.AssociationRejected })
	row := r.assocs.rowText(0)
	if row[0] != "ECHOSCU" || row[1] != "WRONG" || !strings.HasPrefix(row[3], "rejected: ") || !strings.Contains(row[3], "WRONG") {
		t.Errorf("newest association row = %q", row)
	}
	if old := r.assocs.rowText(1); old[0] != "MODALITY" || old[3] != "released" || old[4] != "4" {
		t.Errorf("storescu's association row = %q", old)
	}

	r.activity.filter.SetSelected("Warnings and errors")
	if len(r.activity.entries) != 1 || !strings.HasPrefix(r.activity.entries[0].Text, "Rejected association from ECHOSCU") {
		t.Errorf("warnings: %+v", r.activity.entries)
	}
	r.activity.filter.SetSelected("Errors only")
	if len(r.activity.entries) != 0 {
		t.Errorf("errors: %+v", r.activity.entries)
	}
	r.activity.filter.SetSelected("All events")
	var texts []string
	for _, e := range r.activity.entries {
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Accepted association from MODALITY", "Stored 1 instance", "MODALITY (127.0.0.1:", "released the association: 4 instances"} {
		if !strings.Contains(all, want) {
			t.Errorf("activity log lacks %q:\n%s", want, all)
		}
	}
}
