package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// ClientTLS is how the Verification SCU (Echo) speaks DICOM TLS to a node:
// the node's certificate is verified against CAFile (empty: the system's
// authorities) and its host name; CertFile and KeyFile, when set, are our
// client certificate for a node that requires one.
type ClientTLS struct {
	CAFile, CertFile, KeyFile string
}

// config loads the files.
func (c ClientTLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS: CA file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS: CA file %s holds no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS: cannot use the client certificate %s with the key %s: %w", c.CertFile, c.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// describeTLSError says in words why a TLS handshake with a node failed
// ("" when err is no TLS failure).
func describeTLSError(err error) string {
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &unk):
		return "TLS: the node's certificate is signed by an unknown authority (give its CA file)"
	case errors.As(err, &host):
		return "TLS: " + host.Error()
	case errors.As(err, &inv):
		return "TLS: " + inv.Error()
	case errors.As(err, &rec):
		return "TLS: the node does not speak TLS on this port"
	case errors.As(err, &op) && op.Op == "remote error":
		if op.Err.Error() == "tls: certificate required" {
			return "TLS: the node requires a client certificate (give a certificate and key)"
		}
		return "TLS: the node refused the handshake (" + strings.TrimPrefix(op.Err.Error(), "tls: ") + ")"
	}
	return ""
}
