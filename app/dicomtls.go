package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/dicominbox/dicominbox/app/tlsconf"
)

// DicomTLS turns the listener into a DICOM TLS one (PS3.15 B.9, the BCP 195
// secure transport connection profile): TLS 1.2 or later on the same port,
// with this receiver's certificate; with ClientCAFile, every sender must
// present a certificate that CA signed. Off while CertFile is empty.
type DicomTLS struct {
	CertFile string `json:"cert_file,omitempty"` // PEM; the chain, leaf first
	KeyFile  string `json:"key_file,omitempty"`  // PEM, unencrypted
	// ClientCAFile (PEM), when set, makes a client certificate signed by
	// one of its CAs mandatory.
	ClientCAFile string `json:"client_ca_file,omitempty"`
}

// Enabled reports whether the listener speaks TLS.
func (t DicomTLS) Enabled() bool { return t.CertFile != "" }

func (t DicomTLS) validate() []error {
	var errs []error
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		errs = append(errs, errors.New("TLS: a certificate file needs its key file"))
	case t.CertFile == "" && t.KeyFile != "":
		errs = append(errs, errors.New("TLS: a key file needs its certificate file"))
	case t.CertFile == "" && t.ClientCAFile != "":
		errs = append(errs, errors.New("TLS: client certificates (a client CA file) need TLS on: set the certificate and key files"))
	}
	return errs
}

// serverConfig loads the files into a TLS server configuration.
func (t DicomTLS) serverConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: cannot use the certificate %s with the key %s: %w", t.CertFile, t.KeyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCAFile != "" {
		pool, err := tlsconf.CAPool(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS: client %w", err) // "TLS: client CA file …"
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// wrap returns l as a TLS listener when t is enabled (l is closed when
// the files cannot be used). The files are read again at a handshake after
// one of them changed (a renewed certificate): a renewal that cannot be
// used is logged and the previous files stay in use.
func (t DicomTLS) wrap(l net.Listener, log *slog.Logger) (net.Listener, error) {
	if !t.Enabled() {
		return l, nil
	}
	r := &tlsReloader{files: t, log: log}
	r.stamp = r.stampNow()
	cfg, err := t.serverConfig()
	if err != nil {
		l.Close()
		return nil, err
	}
	r.cfg = cfg
	return tls.NewListener(l, &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: r.configFor}), nil
}

// tlsReloader hands each handshake the configuration of the files as they
// are now.
type tlsReloader struct {
	files DicomTLS
	log   *slog.Logger
	mu    sync.Mutex
	cfg   *tls.Config
	stamp string // the files' sizes and modification times when cfg was read (or tried)
}

// stampNow describes the files' sizes and modification times.
func (r *tlsReloader) stampNow() string {
	var b strings.Builder
	for _, name := range []string{r.files.CertFile, r.files.KeyFile, r.files.ClientCAFile} {
		if name == "" {
			continue
		}
		if fi, err := os.Stat(name); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString("missing;")
		}
	}
	return b.String()
}

// configFor is the listener's GetConfigForClient: two or three stat calls
// per connection, a reload when a file changed.
func (r *tlsReloader) configFor(*tls.ClientHelloInfo) (*tls.Config, error) {
	stamp := r.stampNow()
	r.mu.Lock()
	defer r.mu.Unlock()
	if stamp != r.stamp {
		r.stamp = stamp // tried once per change, not at every connection
		if cfg, err := r.files.serverConfig(); err != nil {
			r.log.Warn("TLS: the changed certificate files cannot be used; the previous ones stay in use", "err", err)
		} else {
			r.cfg = cfg
			r.log.Info("TLS: certificate files read again after a change", "cert", r.files.CertFile)
		}
	}
	return r.cfg, nil
}
