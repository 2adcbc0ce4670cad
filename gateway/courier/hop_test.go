package courier

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// hop is a scripted next hop on 127.0.0.1 that counts connections,
// transactions and commands, and whose replies the test can change: the
// fake LGWAN MTA of the connection cache's tests.
type hop struct {
	addr string
	tls  *tls.Config // STARTTLS offered when set

	mu    sync.Mutex
	conns int // accepted
	live  map[net.Conn]bool
	msgs  []string       // bodies taken with 250, in order
	datas int            // ends of DATA received, whatever the reply
	cmds  map[string]int // verbs seen (RSET, QUIT, STARTTLS…)
	// Replies (under mu; "" = the usual one). mailOnReuse answers MAIL
	// on a connection's second and later transactions; rcpt answers a
	// recipient whose address says "refuse".
	rset, mailOnReuse, data, rcpt string
	// dropData: read the message, then close without a reply.
	dropData bool
}

func startHop(t testing.TB, tc *tls.Config) *hop {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hop{addr: l.Addr().String(), tls: tc, live: map[net.Conn]bool{}, cmds: map[string]int{}}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns++
			h.live[c] = true
			h.mu.Unlock()
			go h.serve(c)
		}
	}()
	t.Cleanup(func() { l.Close(); h.dropAll() })
	return h
}

// dropAll closes every open connection from the hop's side, as an MTA
// whose idle timer ran out does.
func (h *hop) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.live {
		c.Close()
	}
}

func (h *hop) get(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

func (h *hop) open() (n int) { h.get(func() { n = len(h.live) }); return }

func (h *hop) reply(field *string, def string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if *field != "" {
		return *field
	}
	return def
}

func (h *hop) serve(c net.Conn) {
	defer func() {
		c.Close()
		h.mu.Lock()
		delete(h.live, c)
		h.mu.Unlock()
	}()
	raw := c
	r := bufio.NewReader(c)
	say := func(s string) bool { _, err := io.WriteString(c, s+"\r\n"); return err == nil }
	say("220 hop.test ESMTP")
	tx := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		h.get(func() { h.cmds[verb]++ })
		switch verb {
		case "EHLO":
			if h.tls != nil && c == raw {
				say("250-hop.test")
				say("250 STARTTLS")
			} else {
				say("250 hop.test")
			}
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(raw, h.tls)
			if tc.Handshake() != nil {
				return
			}
			h.mu.Lock()
			delete(h.live, raw)
			h.live[tc] = true
			h.mu.Unlock()
			c, r = tc, bufio.NewReader(tc)
		case "MAIL":
			tx++
			if tx > 1 {
				if rep := h.reply(&h.mailOnReuse, ""); rep != "" {
					say(rep)
					continue
				}
			}
			say("250 2.1.0 ok")
		case "RCPT":
			if strings.Contains(line, "refuse") {
				say(h.reply(&h.rcpt, "250 2.1.5 ok"))
			} else {
				say("250 2.1.5 ok")
			}
		case "DATA":
			say("354 go on")
			body := readData(r)
			h.mu.Lock()
			h.datas++
			drop := h.dropData
			h.mu.Unlock()
			if drop {
				return
			}
			rep := h.reply(&h.data, "250 2.0.0 queued")
			if strings.HasPrefix(rep, "250") {
				h.get(func() { h.msgs = append(h.msgs, body) })
			}
			say(rep)
		case "RSET":
			say(h.reply(&h.rset, "250 2.0.0 ok"))
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// readData reads a message up to its lone ".".
func readData(r *bufio.Reader) string {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == ".\r\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

// testCert is a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hop.test"},
		DNSNames: []string{"hop.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, roots
}
