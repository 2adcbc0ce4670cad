package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// testPKI is a CA and a certificate for 127.0.0.1 signed by it, written
// as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	cert                      tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mugai test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	p := &testPKI{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)
	p.cert, err = tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInboundTLS(t *testing.T) {
	pki := newTestPKI(t)
	tg := startGateway(t, func(c *Config) {
		c.Accept.TLSCert, c.Accept.TLSKey, c.Accept.RequireTLS = pki.certFile, pki.keyFile, true
	})
	// Without STARTTLS: refused at MAIL.
	_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
	wantSMTPErr(t, err, 530, smtp.EnhancedCode{5, 7, 0})
	// With STARTTLS, verified against the test CA: accepted.
	c, err := smtp.DialStartTLS(tg.addr, &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("a@example.jp", []string{"b@city.example.lg.jp"}, strings.NewReader("Subject: tls\r\n\r\nover TLS\r\n")); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
}

// tlsNextHop is a recording next hop offering STARTTLS with cert.
func tlsNextHop(t *testing.T, cert tls.Certificate) *nextHop {
	return startNextHopTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}})
}

func TestOutboundTLS(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t) // a CA the relay's certificate is not signed by
	tests := []struct {
		name      string
		hopTLS    bool
		mode, ca  string
		delivered bool
		overTLS   bool
	}{
		{"required, pinned CA", true, "required", pki.caFile, true, true},
		{"required, wrong CA", true, "required", other.caFile, false, false},
		{"required, no STARTTLS at the relay", false, "required", pki.caFile, false, false},
		{"opportunistic, unverified certificate", true, "opportunistic", "", true, true},
		{"opportunistic, no STARTTLS", false, "opportunistic", "", true, false},
		{"opportunistic, broken STARTTLS", true, "opportunistic-broken", "", true, false},
		{"none", true, "none", "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hop *nextHop
			switch {
			case tc.mode == "opportunistic-broken": // offers STARTTLS, has no certificate
				hop, tc.mode = startNextHopTLS(t, &tls.Config{}), "opportunistic"
			case tc.hopTLS:
				hop = tlsNextHop(t, pki.cert)
			default:
				hop = startNextHop(t)
			}
			tg := startGateway(t, func(c *Config) {
				c.Deliver.Relay, c.Deliver.TLS, c.Deliver.TLSCA = hop.addr, tc.mode, tc.ca
			})
			reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
			if err != nil {
				t.Fatal(err)
			}
			_, id, _ := strings.Cut(reply, "queued as ")
			waitFor(t, "an attempt", func() bool {
				names := eventNames(auditEvents(t, tg.cfg.Audit, id))
				return names[len(names)-1] == "delivered" || names[len(names)-1] == "deferred"
			})
			msgs := hop.messages()
			if got := len(msgs) == 1; got != tc.delivered {
				t.Fatalf("delivered = %v, want %v (audit %v)", got, tc.delivered, eventNames(auditEvents(t, tg.cfg.Audit, id)))
			}
			if tc.delivered && msgs[0].overTLS != tc.overTLS {
				t.Errorf("over TLS = %v, want %v", msgs[0].overTLS, tc.overTLS)
			}
		})
	}
}

// TestLargeMessageOverTLS: the commands-before-MAIL counter must not count
// newline bytes of ciphertext: a 2 MB message over TLS with the smallest
// allowed cap goes through.
func TestLargeMessageOverTLS(t *testing.T) {
	pki := newTestPKI(t)
	tg := startGateway(t, func(c *Config) {
		c.Accept.TLSCert, c.Accept.TLSKey = pki.certFile, pki.keyFile
		c.Accept.MaxCmdsBeforeMail = 3
	})
	c, err := smtp.DialStartTLS(tg.addr, &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := strings.Repeat("長い本文の行です。 a long line of body text\r\n", 2<<20/64)
	if err := c.SendMail("a@example.jp", []string{"b@city.example.lg.jp"}, strings.NewReader("Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+body)); err != nil {
		t.Fatalf("2 MB over TLS: %v", err)
	}
}
