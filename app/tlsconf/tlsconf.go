// Package tlsconf builds TLS configurations from PEM files and says in
// words why a TLS handshake failed, for every TLS peer of the program: the
// Kafka brokers and DICOM nodes.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// CAPool reads the PEM certificates of caFile into a pool.
func CAPool(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// Client is a client configuration, TLS 1.2 or later: the server's
// certificate is checked against caFile (PEM) or, when it is empty, the
// system roots; a client certificate is presented when certFile and
// keyFile are given. insecureSkipVerify turns the server check off (tests
// only).
func Client(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // off by default; the user's explicit choice
	if caFile != "" {
		pool, err := CAPool(caFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Describe says in words why a TLS connection to peer ("broker", "node")
// failed, or "" when err is no TLS failure: the peer's certificate (unknown
// authority, host name, validity), no TLS on the port, or an alert the
// peer sent (client certificate required or refused, handshake refused).
func Describe(err error, peer string) string {
	if alert, ok := remoteAlert(err); ok {
		return describeAlert(alert, peer)
	}
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &unk):
		return "TLS: the " + peer + "'s certificate is signed by an unknown authority (set the CA file)"
	case errors.As(err, &host):
		return "TLS: " + host.Error()
	case errors.As(err, &inv):
		return "TLS: " + inv.Error()
	case errors.As(err, &rec):
		return "TLS: the " + peer + " does not speak TLS on this port"
	}
	return ""
}

// remoteAlert finds a TLS alert the peer sent ("tls: certificate
// required"): crypto/tls reports it as a *net.OpError with Op "remote error"
// around its (unexported) alert type, possibly inside other OpErrors.
func remoteAlert(err error) (string, bool) {
	for err != nil {
		var op *net.OpError
		if !errors.As(err, &op) {
			return "", false
		}
		if op.Op == "remote error" && op.Err != nil {
			return op.Err.Error(), true
		}
		err = op.Err
	}
	return "", false
}

// describeAlert turns a TLS alert of the peer into words: the ones about
// the client certificate say what to change.
func describeAlert(alert, peer string) string {
	what := strings.TrimPrefix(alert, "tls: ")
	switch alert {
	case "tls: certificate required":
		return "TLS: the " + peer + " requires a client certificate (set the certificate and key files)"
	case "tls: bad certificate", "tls: unknown certificate authority", "tls: unsupported certificate",
		"tls: revoked certificate", "tls: expired certificate", "tls: unknown certificate":
		return "TLS: the " + peer + " refused the client certificate (" + what + ")"
	case "tls: handshake failure", "tls: protocol version not supported", "tls: insufficient security level":
		return "TLS: the " + peer + " refused the handshake (" + what + ")"
	}
	return "TLS: the " + peer + " sent the alert " + what
}
