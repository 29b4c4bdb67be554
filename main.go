// Command dicominbox is DICOM Inbox, a desktop DICOM receiver: without
// arguments it opens the window; `serve` runs the same engine headless;
// `echo` verifies a remote node with C-ECHO.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/dicominbox/dicominbox/app"
	// Before Fyne reads the locale: no "Error parsing user locale C" under
	// LANG=C.UTF-8 (see the package).
	_ "github.com/dicominbox/dicominbox/app/clocale"
	"github.com/dicominbox/dicominbox/store/index"
)

const appID = "io.github.dicominbox.inbox"

const usage = `DICOM Inbox: a DICOM receiver (C-STORE SCP) for a reading workstation.

Usage:
  dicominbox                 open the window
  dicominbox serve [flags]   run the receiver without a window until SIGINT/SIGTERM
  dicominbox echo [flags] HOST:PORT
                             verify a remote DICOM node with C-ECHO
  dicominbox studies --storage DIR [--json] [--filter TEXT]
                             list the studies of the index
  dicominbox reindex --storage DIR
                             rebuild DIR/index.db from the stored files
  dicominbox help            this text; "dicominbox CMD --help" documents CMD's flags
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runWindow(stderr)
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "echo":
		return runEcho(args[1:], stdout, stderr)
	case "studies":
		return runStudies(args[1:], stdout, stderr)
	case "reindex":
		return runReindex(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "dicominbox: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func runServe(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	d := app.DefaultConfig()
	configPath := fs.String("config", app.DefaultConfigPath(), "configuration file (JSON); flags given here override it; a missing file means defaults")
	aet := fs.String("aet", d.AETitle, "AE title of this receiver (1-16 characters)")
	port := fs.Int("port", d.Port, "TCP port to listen on")
	bind := fs.String("bind", d.Bind, "address to listen on (empty: all interfaces)")
	storage := fs.String("storage", d.StorageDir, "storage folder (created if missing)")
	maxAssoc := fs.Int("max-associations", d.MaxAssociations, "maximum concurrent associations; more are rejected (transient, local limit exceeded)")
	maxPDU := fs.Uint("max-pdu", uint(d.MaxPDULength), "maximum P-DATA PDU length we accept, in bytes (4096-16777216)")
	artim := fs.Duration("artim-timeout", time.Duration(d.ARTIMTimeout), "time allowed for association negotiation and closing")
	idle := fs.Duration("idle-timeout", time.Duration(d.IdleTimeout), "an association silent this long is aborted")
	grace := fs.Duration("shutdown-timeout", time.Duration(d.ShutdownTimeout), "on SIGINT/SIGTERM, how long running associations may finish before they are aborted")
	unknown := fs.Bool("accept-unknown-sop-classes", d.AcceptUnknownSOPClasses, "also accept and store private/unknown SOP classes")
	allowed := fs.String("allowed-calling-aets", "", "comma-separated calling AE titles allowed to send (empty: anyone)")
	noCalled := fs.Bool("no-called-ae-check", !d.CheckCalledAE, "accept associations whatever called AE title they ask for")
	minFree := fs.Uint64("min-free-mb", d.MinFreeMB, "free-space floor in MB: below it associations are rejected and C-STOREs answer A700 (0: off)")
	dups := fs.String("duplicates", d.DuplicatePolicy, "a second copy of a stored SOP Instance UID: replace (newer wins) or keep (first wins); identical copies are a no-op either way")
	noSync := fs.Bool("no-sync", d.NoSync, "do not fsync stored files (faster, NOT durable; benchmarks only)")
	keepCache := fs.Bool("keep-page-cache", d.KeepPageCache, "keep received files in the page cache once on disk (default: their pages are dropped; keep them for a viewer on this machine that opens studies as they arrive)")
	level := fs.String("log-level", d.LogLevel, "log level: debug, info, warn or error")
	studyComplete := fs.Duration("study-complete-after", time.Duration(d.StudyCompleteAfter), "a study is complete (logged; a study-complete event on the Kafka lifecycle topic) once no association sends to it and it stayed quiet this long")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile (go tool pprof) to this file until exit")
	tlsCert := fs.String("tls-cert", d.TLS.CertFile, "DICOM TLS: this receiver's certificate (PEM, chain leaf first); setting it (with --tls-key) makes the port a TLS one, TLS 1.2 or later")
	tlsKey := fs.String("tls-key", d.TLS.KeyFile, "DICOM TLS: the certificate's private key (PEM, unencrypted)")
	tlsClientCA := fs.String("tls-client-ca", d.TLS.ClientCAFile, "DICOM TLS: PEM file of the CAs whose client certificates are required (empty: senders need no certificate)")
	phaseLog := fs.String("phase-log", "", "write a tab-separated line per stored instance saying where its time went (microseconds; tools/phases.sh sums it up) to this file")
	applyKafka := kafkaFlags(fs, d.Kafka)
	if code, ok := parseFlags(fs, args, stderr, "Usage: dicominbox serve [flags]\n\nRuns the receiver without a window until SIGINT/SIGTERM, then drains and exits 0.", 0); !ok {
		return code
	}
	cfg, err := app.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "dicominbox serve: %v\n", err)
		return 1
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "aet":
			cfg.AETitle = *aet
		case "port":
			cfg.Port = *port
		case "bind":
			cfg.Bind = *bind
		case "storage":
			cfg.StorageDir = *storage
		case "max-associations":
			cfg.MaxAssociations = *maxAssoc
		case "max-pdu":
			cfg.MaxPDULength = uint32(min(*maxPDU, 1<<32-1))
		case "artim-timeout":
			cfg.ARTIMTimeout = app.Duration(*artim)
		case "idle-timeout":
			cfg.IdleTimeout = app.Duration(*idle)
		case "shutdown-timeout":
			cfg.ShutdownTimeout = app.Duration(*grace)
		case "accept-unknown-sop-classes":
			cfg.AcceptUnknownSOPClasses = *unknown
		case "allowed-calling-aets":
			cfg.AllowedCallingAEs = splitList(*allowed)
		case "no-called-ae-check":
			cfg.CheckCalledAE = !*noCalled
		case "min-free-mb":
			cfg.MinFreeMB = *minFree
		case "duplicates":
			cfg.DuplicatePolicy = *dups
		case "no-sync":
			cfg.NoSync = *noSync
		case "keep-page-cache":
			cfg.KeepPageCache = *keepCache
		case "log-level":
			cfg.LogLevel = *level
		case "study-complete-after":
			cfg.StudyCompleteAfter = app.Duration(*studyComplete)
		case "tls-cert":
			cfg.TLS.CertFile = *tlsCert
		case "tls-key":
			cfg.TLS.KeyFile = *tlsKey
		case "tls-client-ca":
			cfg.TLS.ClientCAFile = *tlsClientCA
		default:
			if _, err := applyKafka(&cfg, f.Name); err != nil && flagErr == nil {
				flagErr = err
			}
		}
	})
	if flagErr != nil {
		fmt.Fprintf(stderr, "dicominbox serve: %v\n", flagErr)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "dicominbox serve: invalid settings:\n%v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "dicominbox serve: cpu profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.RunHeadless(ctx, cfg, log, app.HeadlessOptions{PhaseLog: *phaseLog}); err != nil {
		fmt.Fprintf(stderr, "dicominbox serve: %v\n", err)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func runEcho(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	aet := fs.String("aet", "DICOMINBOX", "our (calling) AE title")
	called := fs.String("called-aet", "ANY-SCP", "the remote (called) AE title")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	useTLS := fs.Bool("tls", false, "speak DICOM TLS (TLS 1.2+), verifying the node's certificate and host name")
	var ct app.ClientTLS
	fs.StringVar(&ct.CAFile, "tls-ca", "", "with --tls: PEM file of the CA that signed the node's certificate (empty: the system's authorities)")
	fs.StringVar(&ct.CertFile, "tls-cert", "", "with --tls: our client certificate (PEM), for a node that requires one")
	fs.StringVar(&ct.KeyFile, "tls-key", "", "with --tls: the client certificate's private key (PEM)")
	if code, ok := parseFlags(fs, args, stderr, "Usage: dicominbox echo [flags] HOST:PORT\n\nVerifies a remote DICOM node with C-ECHO; exits 0 on success.", 1); !ok {
		return code
	}
	addr := fs.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var tlsFiles *app.ClientTLS
	if *useTLS {
		tlsFiles = &ct
	} else if ct != (app.ClientTLS{}) {
		fmt.Fprintln(stderr, "dicominbox echo: --tls-ca, --tls-cert and --tls-key need --tls")
		return 2
	}
	res, err := app.EchoTLS(ctx, addr, *aet, *called, tlsFiles)
	if err != nil {
		fmt.Fprintf(stderr, "C-ECHO %s (%s): FAILED: %v\n", addr, *called, err)
		return 1
	}
	fmt.Fprintf(stdout, "C-ECHO %s (%s): success, status %04X, %s\n", addr, *called, res.Status, res.Duration.Round(time.Millisecond))
	return 0
}

func runStudies(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("studies", flag.ContinueOnError)
	storage := fs.String("storage", app.DefaultConfig().StorageDir, "storage folder holding index.db")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	filter := fs.String("filter", "", "only studies whose patient name/ID, accession, description or modality contain every word")
	modality := fs.String("modality", "", "only studies with a series of this modality")
	from := fs.String("from", "", "study date from (YYYYMMDD)")
	to := fs.String("to", "", "study date to (YYYYMMDD)")
	limit := fs.Int("limit", 100, "at most this many studies (1-1000), newest received first")
	if code, ok := parseFlags(fs, args, stderr, "Usage: dicominbox studies [flags]\n\nLists the received studies, newest first. Safe while the receiver runs: the index.db of --storage\nis opened read-only (never created, migrated or written), so a read-only folder works too.", 0); !ok {
		return code
	}
	q := index.StudyQuery{Filter: *filter, Modality: *modality, DateFrom: *from, DateTo: *to, Limit: *limit}
	if err := app.ListStudies(context.Background(), stdout, *storage, q, *asJSON); err != nil {
		fmt.Fprintf(stderr, "dicominbox studies: %v\n", err)
		return 1
	}
	return 0
}

func runReindex(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	storage := fs.String("storage", app.DefaultConfig().StorageDir, "storage folder whose index.db is rebuilt")
	if code, ok := parseFlags(fs, args, stderr, "Usage: dicominbox reindex --storage DIR\n\nRebuilds DIR/index.db from the stored files; refused while a receiver has DIR open.", 0); !ok {
		return code
	}
	t, err := app.Reindex(*storage, newLogger(stderr, "warn"), progressPrinter(stderr, "dicominbox reindex", 2*time.Second, time.Now))
	if err != nil {
		fmt.Fprintf(stderr, "dicominbox reindex: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "reindexed %s: %d patients, %d studies, %d series, %d instances, %s\n",
		*storage, t.Patients, t.Studies, t.Series, t.Instances, app.HumanBytes(t.Bytes))
	return 0
}
