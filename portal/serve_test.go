package portal

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serve runs start on a loopback listener and returns the address and a
// stop function that shuts the server down and checks Serve's result.
func serve(t *testing.T, h *harness, start func(net.Listener) error) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- start(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return l.Addr().String()
}

func TestServe(t *testing.T) {
	h := newHarness(t)
	h.s.limits.readHeader = 300 * time.Millisecond
	addr := serve(t, h, h.s.Serve)
	res, err := http.Get("http://" + addr + h.link("g1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "お見積り") {
		t.Errorf("served page: %d", res.StatusCode)
	}
	h.s.srvMu.Lock()
	hs := h.s.servers[0]
	h.s.srvMu.Unlock()
	if hs.ReadHeaderTimeout == 0 || hs.ReadTimeout == 0 || hs.WriteTimeout == 0 || hs.IdleTimeout == 0 || hs.MaxHeaderBytes == 0 {
		t.Errorf("server limits %+v", hs)
	}
	if d := defaultHTTPLimits; d.readHeader == 0 || d.read == 0 || d.write == 0 || d.idle == 0 || d.maxHeaderBytes == 0 {
		t.Errorf("default limits %+v", d)
	}
	// A client that never finishes its header is cut off.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := c.Read(make([]byte, 1))
	if n != 0 || time.Since(start) > 3*time.Second {
		t.Errorf("slow header: read %d bytes after %v", n, time.Since(start))
	}
}

func TestServeTLS(t *testing.T) {
	h := newHarness(t)
	certFile, keyFile, pool := selfSigned(t)
	addr := serve(t, h, func(l net.Listener) error { return h.s.ServeTLS(l, certFile, keyFile) })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get("https://" + addr + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var pre *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == cookiePre {
			pre = c
		}
	}
	if res.StatusCode != http.StatusOK || pre == nil || !pre.Secure {
		t.Errorf("over TLS: %d, cookie %+v", res.StatusCode, pre)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	h := newHarness(t)
	if err := h.s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.s.Serve(l); err != http.ErrServerClosed {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}
