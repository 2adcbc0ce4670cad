package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// serverTLS loads the certificate offered with STARTTLS; nil when none is
// configured.
func serverTLS(a Accept) (*tls.Config, error) {
	if a.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("accept.tls_cert/tls_key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// clientTLS is the TLS configuration towards the relay.
func clientTLS(d Deliver) (*tls.Config, error) {
	if d.TLS == TLSNone {
		return nil, nil
	}
	host, _, _ := net.SplitHostPort(d.Relay)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if d.TLSServerName != "" {
		cfg.ServerName = d.TLSServerName
	}
	if d.TLSCA != "" {
		pem, err := os.ReadFile(d.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("deliver.tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("deliver.tls_ca: no certificate in %s", d.TLSCA)
		}
		cfg.RootCAs = pool
	}
	if d.TLS == TLSOpportunistic {
		// RFC 7435: encrypt when we can, do not refuse to deliver when the
		// certificate does not verify.
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}
