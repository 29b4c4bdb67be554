package scp

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults applied by NewServer to zero Config fields.
const (
	DefaultAETitle           = "INBOX"
	DefaultMaxAssociations   = 32
	DefaultMaxPDULength      = 128 * 1024 // what we ask peers to send; larger PDUs mean fewer syscalls
	DefaultARTIMTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 10 * time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultMaxCommandSetSize = 64 * 1024

	// MinMaxPDULength and MaxMaxPDULength bound Config.MaxPDULength.
	MinMaxPDULength = 4096
	MaxMaxPDULength = 16 * 1024 * 1024

	// ImplementationClassUID identifies this implementation in A-ASSOCIATE-AC
	// and in the meta header of stored files (UUID-derived root 2.25).
	ImplementationClassUID = "2.25.184604382036183931407233633429712466651"
	// ImplementationVersionName is sent with ImplementationClassUID.
	ImplementationVersionName = "DICOMINBOX_010"
)

// Config configures a Server. The zero value of every field means its
// documented default.
type Config struct {
	// AETitle is this receiver's application entity title (default "INBOX").
	AETitle string
	// AcceptAnyCalledAE turns off the check that a request's called AE title
	// equals AETitle (the check is on by default).
	AcceptAnyCalledAE bool
	// AllowedCallingAEs, when not empty, is the list of calling AE titles
	// that may associate; others are rejected. Empty means anyone.
	AllowedCallingAEs []string
	// MaxAssociations caps concurrent associations (default 32). Requests
	// beyond it get A-ASSOCIATE-RJ transient, local limit exceeded.
	MaxAssociations int
	// MaxPDULength is the largest P-DATA-TF PDU we accept, announced in the
	// A-ASSOCIATE-AC (default 128 KiB, bounded to [4 KiB, 16 MiB]).
	MaxPDULength uint32
	// AcceptUnknownSOPClasses accepts abstract syntaxes that are not known
	// Storage SOP Classes (private SOP classes); their instances are stored
	// like any other.
	AcceptUnknownSOPClasses bool
	// ARTIMTimeout bounds the wait for the A-ASSOCIATE-RQ after connect and
	// for the close after a rejection or release (default 30 s).
	ARTIMTimeout time.Duration
	// IdleTimeout closes (A-ABORT) an association on which nothing arrives
	// for this long (default 10 min).
	IdleTimeout time.Duration
	// WriteTimeout bounds every write to the peer (default 1 min).
	WriteTimeout time.Duration
	// MaxCommandSetSize caps a reassembled DIMSE command set (default 64 KiB).
	MaxCommandSetSize int
	// Handler stores the data sets of C-STORE requests. Required.
	Handler Handler
	// Admit, if set, is asked before an association is accepted. A non-nil
	// error rejects it (transient, no reason given) and is logged; the disk
	// guard uses it to turn peers away while the disk is nearly full.
	Admit func(info AssociationInfo) error
	// OnEvent, if set, receives every Event. It must not block.
	OnEvent func(Event)
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns a copy of c with defaults applied, or an error that
// names the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.AETitle == "" {
		c.AETitle = DefaultAETitle
	}
	if err := ValidateAETitle(c.AETitle); err != nil {
		return c, fmt.Errorf("AE title: %w", err)
	}
	for _, ae := range c.AllowedCallingAEs {
		if err := ValidateAETitle(ae); err != nil {
			return c, fmt.Errorf("allowed calling AE %q: %w", ae, err)
		}
	}
	if c.MaxAssociations <= 0 {
		c.MaxAssociations = DefaultMaxAssociations
	}
	if c.MaxPDULength == 0 {
		c.MaxPDULength = DefaultMaxPDULength
	}
	if c.MaxPDULength < MinMaxPDULength || c.MaxPDULength > MaxMaxPDULength {
		return c, fmt.Errorf("max PDU length %d outside [%d, %d]", c.MaxPDULength, MinMaxPDULength, MaxMaxPDULength)
	}
	if c.ARTIMTimeout <= 0 {
		c.ARTIMTimeout = DefaultARTIMTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxCommandSetSize <= 0 {
		c.MaxCommandSetSize = DefaultMaxCommandSetSize
	}
	if c.Handler == nil {
		return c, errors.New("no Handler")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// ValidateAETitle checks an AE title: 1 to 16 characters of the DICOM default
// character repertoire, no backslash and no control characters, not only spaces.
func ValidateAETitle(ae string) error {
	if strings.TrimSpace(ae) == "" {
		return errors.New("must not be empty")
	}
	if len(ae) > 16 {
		return fmt.Errorf("%d characters, at most 16 allowed", len(ae))
	}
	for _, r := range ae {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("character %q not allowed (only printable ASCII)", r)
		}
		if r == '\\' {
			return errors.New("backslash not allowed")
		}
	}
	return nil
}
