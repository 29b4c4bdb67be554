package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/app/instance"
	"github.com/dicominbox/dicominbox/app/logfile"
	"github.com/dicominbox/dicominbox/assets"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/ui"
)

// runWindow is `dicominbox` without arguments: the desktop window over the
// engine, one per user (app/instance), its log in a file (app/logfile).
func runWindow(stderr io.Writer) int {
	owner, claimErr := instance.Claim(instance.DefaultPath())
	if errors.Is(claimErr, instance.ErrRunning) {
		fmt.Fprintln(stderr, "dicominbox: DICOM Inbox is already running; its window was brought to the front")
		return 0
	}
	files := ui.Files{Config: app.DefaultConfigPath(), Log: app.DefaultLogPath()}
	cfg, err := app.LoadConfig(files.Config)
	if err != nil {
		files.ConfigErr = err
		fmt.Fprintf(stderr, "dicominbox: %v (using defaults)\n", err)
	}
	logOut, closeLog, err := openLogFile(files.Log, stderr)
	if err != nil {
		files.Log, files.LogErr = "", err
		fmt.Fprintf(stderr, "dicominbox: no log file: %v\n", err)
	}
	defer closeLog()
	log := newLogger(logOut, cfg.LogLevel)
	slog.SetDefault(log)
	log.Info("DICOM Inbox started", "version", scp.ImplementationVersionName, "pid", os.Getpid(), "config", files.Config)
	engine := app.NewEngine(cfg, log)
	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon)
	w := ui.NewMainWindow(a, engine, files) // the activity log reports files' errors
	if claimErr != nil {
		// A later launch cannot find this window: it opens a second one.
		log.Warn("later launches will open another window", "err", claimErr)
	} else {
		defer owner.Close()
		go showOnRequest(owner, w, log)
	}
	if cfg.StartListening {
		go func() {
			if err := engine.Start(); err != nil { // the status line shows it too
				log.Error("could not start the listener", "err", err)
			}
		}()
	}
	shutdown := onceShutdown(engine, log)
	var started atomic.Bool // Fyne's loop runs, and handles SIGINT/SIGTERM itself
	a.Lifecycle().SetOnStarted(func() { started.Store(true) })
	go exitOnSignal(shutdown, &started)
	w.ShowAndRun()
	shutdown()
	return 0
}

// showOnRequest brings the window to the front (from the tray, too) each
// time a later launch asks (app/instance), until the owner is closed.
func showOnRequest(owner *instance.Owner, w fyne.Window, log *slog.Logger) {
	for range owner.Requests() {
		log.Info("another launch asked for the window; bringing it to the front")
		fyne.Do(func() {
			w.Show()
			w.RequestFocus()
		})
	}
}

// openLogFile opens the window's log file at path (app/logfile: bounded,
// rotated) and returns where the log goes: the file and stderr (a window
// started from a terminal still shows it there), and the function that
// closes the file. Without a path, or when it cannot be opened (err), the
// log goes to stderr only.
func openLogFile(path string, stderr io.Writer) (out io.Writer, closeLog func(), err error) {
	if path == "" {
		return stderr, func() {}, errors.New("no home folder to put it in")
	}
	f, err := logfile.Open(path, logfile.DefaultMaxBytes, logfile.DefaultKeep)
	if err != nil {
		return stderr, func() {}, err
	}
	return teeWriter{f, stderr}, func() { f.Close() }, nil
}

// teeWriter writes to the log file and, best effort, to stderr: a closed
// or broken stderr (no terminal) must not cost the file a line, as it
// would with io.MultiWriter, which stops at the first error.
type teeWriter struct {
	file, stderr io.Writer
}

func (t teeWriter) Write(p []byte) (int, error) {
	_, _ = t.stderr.Write(p)
	return t.file.Write(p)
}

// onceShutdown returns a function that closes the engine (running
// associations get the configured shutdown timeout) exactly once; a second
// caller waits until the first one is done.
func onceShutdown(engine *app.Engine, log *slog.Logger) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(engine.Config().ShutdownTimeout))
			defer cancel()
			if err := engine.Close(ctx); err != nil {
				log.Warn("associations aborted at exit", "err", err)
			}
		})
	}
}

// exitOnSignal ends the windowed app on SIGINT/SIGTERM: it closes the
// engine (running associations get the shutdown timeout) and makes sure
// the process ends. Once Fyne's loop has started (started), Fyne quits it
// on these signals by itself; asking it to quit as well could run after
// it has shut GLFW down, which panics in v2.7.1 ("The GLFW library is not
// initialized", exit status 2 instead of 0). Before that, the loop is
// asked to quit when it starts. Fyne can also hang in its shutdown when an
// input event was queued at that moment, so the process exits 5 s later
// even if ShowAndRun never returns.
func exitOnSignal(shutdown func(), started *atomic.Bool) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	slog.Info("signal received, closing")
	shutdown()
	if !started.Load() {
		fyne.Do(quitFyne)
	}
	time.Sleep(5 * time.Second)
	os.Exit(0)
}

// quitFyne asks Fyne to quit. Should Fyne have shut down meanwhile, after
// all (fyne.Do then runs it here), its panic is of no consequence: the
// process is ending.
func quitFyne() {
	defer func() { _ = recover() }()
	fyne.CurrentApp().Quit()
}
