package app

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestValidateNamesEveryBadField(t *testing.T) {
	c := DefaultConfig()
	c.AETitle = `BAD\AE`
	c.Port = 70000
	c.StorageDir = " "
	c.AllowedCallingAEs = []string{"THIS_AE_TITLE_IS_TOO_LONG"}
	c.MaxAssociations = 0
	c.MaxPDULength = 10
	c.IdleTimeout = 0
	c.LogLevel = "loud"
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"AE title: backslash", "port 70000", "storage folder", "allowed calling AE", "max associations", "max PDU length", "idle timeout", "log level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	c := DefaultConfig()
	c.AETitle, c.Port, c.AllowedCallingAEs, c.IdleTimeout = "READING1", 4242, []string{"CT1", "MR2"}, Duration(90*time.Second)
	if err := SaveConfig(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.AETitle != c.AETitle || got.Port != c.Port || len(got.AllowedCallingAEs) != 2 || got.IdleTimeout != c.IdleTimeout {
		t.Fatalf("round trip changed the config: %+v", got)
	}
	c.Port = -1
	if err := SaveConfig(path, c); err == nil {
		t.Fatal("an invalid config was saved")
	}
}

// A save that cannot finish leaves the saved settings as they were and no
// temporary file; one that works leaves no temporary file either.
func TestSaveConfigReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	c := DefaultConfig()
	c.AETitle = "FIRST"
	if err := SaveConfig(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after a save: %v", err)
	}
	// A folder where the temporary file should go makes the write fail.
	if err := os.Mkdir(path+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	c.AETitle = "SECOND"
	if err := SaveConfig(path, c); err == nil {
		t.Fatal("the save reported success")
	}
	got, err := LoadConfig(path)
	if err != nil || got.AETitle != "FIRST" {
		t.Errorf("after a failed save: %q, %v; want the saved FIRST", got.AETitle, err)
	}
}

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	c, err := LoadConfig(filepath.Join(t.TempDir(), "none.json"))
	if err != nil || c.AETitle != DefaultConfig().AETitle {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestKafkaValidatedOnlyWhenEnabled(t *testing.T) {
	c := DefaultConfig()
	c.Kafka.Brokers = []string{"nonsense"}
	if err := c.Validate(); err != nil {
		t.Fatalf("disabled Kafka settings were validated: %v", err)
	}
	c.Kafka.Enabled = true
	c.Kafka.Topic = "bad topic"
	c.Kafka.SASL.Mechanism = "GSSAPI"
	c.Kafka.TLS.CertFile = "client.pem"
	err := c.Validate()
	if err == nil {
		t.Fatal("bad Kafka settings accepted")
	}
	for _, want := range []string{`Kafka broker "nonsense"`, "Kafka topic", "SASL mechanism", "key file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	c.Kafka = KafkaConfig{Enabled: true, Brokers: []string{"127.0.0.1:9092", "[::1]:9093"}, Topic: DefaultKafkaTopic,
		SASL: KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "u"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("good Kafka settings rejected: %v", err)
	}
}

// The window's log goes to the XDG state folder on Linux.
func TestDefaultLogPath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the XDG layout is checked on Linux; this is %s", runtime.GOOS)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct{ xdg, want string }{
		{"", filepath.Join(home, ".local", "state", "dicominbox", "dicominbox.log")},
		{"relative/state", filepath.Join(home, ".local", "state", "dicominbox", "dicominbox.log")},
		{"/var/lib/me", "/var/lib/me/dicominbox/dicominbox.log"},
	} {
		t.Setenv("XDG_STATE_HOME", tc.xdg)
		if got := DefaultLogPath(); got != tc.want {
			t.Errorf("XDG_STATE_HOME=%q: %q, want %q", tc.xdg, got, tc.want)
		}
	}
	t.Setenv("HOME", "")
	t.Setenv("XDG_STATE_HOME", "")
	if got := DefaultLogPath(); got != "" {
		t.Errorf("without a home folder: %q, want none", got)
	}
}
