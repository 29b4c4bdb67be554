package app

import (
	"crypto/tls"
	"fmt"

	"github.com/dicominbox/dicominbox/app/tlsconf"
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
	cfg, err := tlsconf.Client(c.CAFile, c.CertFile, c.KeyFile, false)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return cfg, nil
}
