// Package app wires the receiver together: configuration (load, validate,
// save), the engine's lifecycle (start/stop the listener, restart on a
// settings change), the handler that turns stored files into DIMSE statuses,
// and the event hub the window consumes.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/store"
)

// Config is the receiver's configuration, shared by the window and
// `dicominbox serve`, persisted as JSON.
type Config struct {
	AETitle                 string   `json:"ae_title"`
	Bind                    string   `json:"bind"` // listen address; empty = all interfaces
	Port                    int      `json:"port"` // 0 picks a free port (tests)
	StorageDir              string   `json:"storage_dir"`
	CheckCalledAE           bool     `json:"check_called_ae"`
	AllowedCallingAEs       []string `json:"allowed_calling_aes"`
	MaxAssociations         int      `json:"max_associations"`
	MaxPDULength            uint32   `json:"max_pdu_length"`
	AcceptUnknownSOPClasses bool     `json:"accept_unknown_sop_classes"`
	ARTIMTimeout            Duration `json:"artim_timeout"`
	IdleTimeout             Duration `json:"idle_timeout"`
	ShutdownTimeout         Duration `json:"shutdown_timeout"`
	// MinFreeMB is the free-space floor of the storage disk: below it new
	// associations are rejected and C-STOREs answer A700.
	MinFreeMB uint64 `json:"min_free_mb"`
	// DuplicatePolicy: "replace" (a newer copy of a SOP Instance UID
	// replaces the older) or "keep" (the first copy stays). Identical
	// content is always a no-op.
	DuplicatePolicy string `json:"duplicate_policy"`
	// NoSync turns off fsync (only for benchmarks and tests).
	NoSync bool `json:"no_sync,omitempty"`
	// KeepPageCache keeps received files in the page cache once they are on
	// disk (by default their pages are dropped: store.Options.KeepPageCache),
	// for a viewer on this machine that opens studies as they arrive.
	KeepPageCache  bool   `json:"keep_page_cache,omitempty"`
	StartListening bool   `json:"start_listening"`
	LogLevel       string `json:"log_level"`

	// StudyCompleteAfter is how long a study must stay quiet, after the
	// last association that sent to it ended, before the engine calls it
	// complete (logged, shown in the window, a Kafka lifecycle event).
	StudyCompleteAfter Duration `json:"study_complete_after"`
	// AssociationHistory is how long finished associations stay visible in
	// the window's live list.
	AssociationHistory Duration `json:"association_history"`
	// NotifyStudyComplete sends a desktop notification when a study completes.
	NotifyStudyComplete bool `json:"notify_study_complete"`
	// KeepRunningInTray keeps receiving with the window closed, from a
	// system-tray menu (where the desktop has one).
	KeepRunningInTray bool `json:"keep_running_in_tray"`

	// TLS makes the listener a DICOM TLS one (dicomtls.go); off by default.
	TLS DicomTLS `json:"tls"`

	// Kafka forwards one event per stored instance when enabled.
	Kafka KafkaConfig `json:"kafka"`
}

// KafkaConfig says where and how instance events are published.
type KafkaConfig struct {
	Enabled bool     `json:"enabled"`
	Brokers []string `json:"brokers"` // host:port
	// Topic receives one event per stored instance.
	Topic string `json:"topic"`
	// LifecycleTopic, when set, receives association and study lifecycle
	// events (study complete, association rejected or aborted).
	LifecycleTopic string `json:"lifecycle_topic,omitempty"`
	ClientID       string `json:"client_id"`
	// NodeID names this receiver in every event; empty = the host name.
	NodeID string `json:"node_id,omitempty"`
	// Tenants maps a calling AE title to a tenant name; an AE not listed is
	// its own tenant.
	Tenants map[string]string `json:"tenants,omitempty"`
	TLS     KafkaTLS          `json:"tls"`
	SASL    KafkaSASL         `json:"sasl"`
}

// KafkaTLS configures TLS to the brokers.
type KafkaTLS struct {
	Enabled            bool   `json:"enabled"`
	CAFile             string `json:"ca_file,omitempty"`   // PEM; empty = system roots
	CertFile           string `json:"cert_file,omitempty"` // client certificate (PEM), optional
	KeyFile            string `json:"key_file,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// KafkaSASL configures SASL authentication to the brokers.
type KafkaSASL struct {
	// Mechanism is "" (none), "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	Mechanism string `json:"mechanism,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
}

// DefaultKafkaTopic is the topic of instance events unless configured.
const DefaultKafkaTopic = "dicom.instances"

// DefaultConfig returns the configuration a fresh installation starts with.
func DefaultConfig() Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return Config{
		AETitle:         scp.DefaultAETitle,
		Port:            11112,
		StorageDir:      filepath.Join(home, "DICOM Inbox"),
		CheckCalledAE:   true,
		MaxAssociations: scp.DefaultMaxAssociations,
		MaxPDULength:    scp.DefaultMaxPDULength,
		ARTIMTimeout:    Duration(scp.DefaultARTIMTimeout),
		IdleTimeout:     Duration(scp.DefaultIdleTimeout),
		ShutdownTimeout: Duration(30 * time.Second),
		MinFreeMB:       500,
		DuplicatePolicy: string(store.DuplicateReplace),
		StartListening:  true,
		LogLevel:        "info",

		StudyCompleteAfter:  Duration(30 * time.Second),
		AssociationHistory:  Duration(30 * time.Minute),
		NotifyStudyComplete: true,
		Kafka: KafkaConfig{
			Topic:    DefaultKafkaTopic,
			ClientID: "dicominbox",
		},
	}
}

// Validate reports every invalid field, one per line, naming the field.
func (c Config) Validate() error {
	var errs []error
	if err := scp.ValidateAETitle(c.AETitle); err != nil {
		errs = append(errs, fmt.Errorf("AE title: %w", err))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: must be between 1 and 65535 (0 picks a free port)", c.Port))
	}
	if strings.TrimSpace(c.StorageDir) == "" {
		errs = append(errs, errors.New("storage folder: must not be empty"))
	}
	for _, ae := range c.AllowedCallingAEs {
		if err := scp.ValidateAETitle(ae); err != nil {
			errs = append(errs, fmt.Errorf("allowed calling AE %q: %w", ae, err))
		}
	}
	if c.MaxAssociations < 1 || c.MaxAssociations > 1000 {
		errs = append(errs, fmt.Errorf("max associations %d: must be between 1 and 1000", c.MaxAssociations))
	}
	if c.MaxPDULength < scp.MinMaxPDULength || c.MaxPDULength > scp.MaxMaxPDULength {
		errs = append(errs, fmt.Errorf("max PDU length %d: must be between %d and %d", c.MaxPDULength, scp.MinMaxPDULength, scp.MaxMaxPDULength))
	}
	for name, d := range map[string]Duration{"ARTIM timeout": c.ARTIMTimeout, "idle timeout": c.IdleTimeout, "shutdown timeout": c.ShutdownTimeout,
		"study complete after": c.StudyCompleteAfter, "association history": c.AssociationHistory} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", name))
		}
	}
	if !store.DuplicatePolicy(c.DuplicatePolicy).Valid() {
		errs = append(errs, fmt.Errorf("duplicate policy %q: must be replace or keep", c.DuplicatePolicy))
	}
	errs = append(errs, c.TLS.validate()...)
	errs = append(errs, c.Kafka.validate()...)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: must be debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// DefaultConfigPath is where the window and `serve` keep the configuration.
func DefaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "dicominbox", "config.json")
}

// DefaultLogPath is where the window writes its log (app/logfile): in the
// user's state folder on Linux and BSD ($XDG_STATE_HOME, else
// ~/.local/state), ~/Library/Logs on macOS, %LocalAppData% on Windows;
// "" when there is no home folder to put it in.
func DefaultLogPath() string {
	home, _ := os.UserHomeDir()
	var dir string
	switch runtime.GOOS {
	case "windows":
		if d, err := os.UserCacheDir(); err == nil { // %LocalAppData%
			home = d
		}
		dir = filepath.Join(home, "DICOM Inbox", "Logs")
	case "darwin", "ios":
		dir = filepath.Join(home, "Library", "Logs", "DICOM Inbox")
	default:
		state := os.Getenv("XDG_STATE_HOME")
		if !filepath.IsAbs(state) { // unset, or relative: invalid per the XDG spec
			state = filepath.Join(home, ".local", "state")
		}
		dir = filepath.Join(state, "dicominbox")
	}
	if !filepath.IsAbs(dir) {
		return ""
	}
	return filepath.Join(dir, "dicominbox.log")
}

// LoadConfig reads path over DefaultConfig. A missing file is not an error:
// the defaults are returned.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	return c, nil
}

// SaveConfig validates c and writes it to path atomically.
func SaveConfig(path string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	// Written beside it, synced, then renamed over it: a power cut leaves
	// the old settings or the new ones, never an empty file (which would
	// bring the receiver back under the default AE title and port).
	tmp := path + ".tmp"
	if err := writeSynced(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save config: %w", err)
	}
	syncFolder(filepath.Dir(path))
	return nil
}

// writeSynced writes b to a file at path and fsyncs it; on failure the
// file is removed again.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncFolder makes a rename in dir durable, where the system allows
// fsyncing a folder (best effort: the settings are saved either way).
func syncFolder(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Duration is a time.Duration written as text ("30s") in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
