package courier

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

// BenchmarkSMTPDeliver is one delivery of a 150 KB message to the scripted
// next hop on 127.0.0.1, without and with the connection cache, in plain
// text and with STARTTLS (verified, as deliver.tls: required).
func BenchmarkSMTPDeliver(b *testing.B) {
	msg := make([]byte, 0, 150<<10)
	for len(msg) < 150<<10 {
		msg = append(msg, "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"...)
	}
	cert, roots := testCert(b)
	for _, tc := range []struct {
		name  string
		tls   bool
		reuse int
	}{{"plain/new", false, -1}, {"plain/reuse", false, 1}, {"tls/new", true, -1}, {"tls/reuse", true, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			var st *tls.Config
			if tc.tls {
				st = &tls.Config{Certificates: []tls.Certificate{cert}}
			}
			h := startHop(b, st)
			c := &SMTP{Addr: h.addr, Hostname: "mugai.test", Timeout: 10 * time.Second, Reuse: Reuse{MaxIdle: tc.reuse}}
			if tc.tls {
				c.TLS, c.RequireTLS = &tls.Config{RootCAs: roots, ServerName: "hop.test"}, true
			}
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				h.get(func() { h.msgs = h.msgs[:0] })
				res := c.Deliver(context.Background(), "a@example.jp", []string{"b@city.example.lg.jp"}, msg)
				if res[0].Err != nil {
					b.Fatal(res[0].Err)
				}
			}
			c.CloseIdle()
		})
	}
}
