package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestVerifyGreetsWithHostname: the recipient probe introduces itself with
// the gateway's hostname on every EHLO, the one before STARTTLS included
// (go-smtp's NewClientStartTLS said "localhost" there), and falls back to
// plain SMTP when STARTTLS is refused (deliver.tls: opportunistic).
func TestVerifyGreetsWithHostname(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var lines []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				c.Write([]byte("220 lgwan.test ESMTP\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					mu.Lock()
					lines = append(lines, line)
					mu.Unlock()
					switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
					case "EHLO":
						c.Write([]byte("250-lgwan.test\r\n250 STARTTLS\r\n"))
					case "STARTTLS":
						c.Write([]byte("454 4.7.0 TLS not available\r\n"))
					case "QUIT":
						c.Write([]byte("221 bye\r\n"))
						return
					default:
						c.Write([]byte("250 ok\r\n"))
					}
				}
			}(c)
		}
	}()
	cfg := Defaults()
	cfg.Hostname = "mugai.city.example"
	cfg.Deliver.Relay, cfg.Deliver.TLS = l.Addr().String(), TLSOpportunistic
	cfg.Accept.VerifyTimeout = Duration(5 * time.Second)
	v := newVerifier(cfg, &tls.Config{ServerName: "lgwan.test"}, time.Now)
	c, err := v.connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Quit()
	mu.Lock()
	defer mu.Unlock()
	var ehlos []string
	sawTLS := false
	for _, line := range lines {
		if strings.HasPrefix(strings.ToUpper(line), "EHLO") || strings.HasPrefix(strings.ToUpper(line), "HELO") {
			ehlos = append(ehlos, line)
		}
		sawTLS = sawTLS || strings.EqualFold(line, "STARTTLS")
	}
	if !sawTLS || len(ehlos) != 2 {
		t.Fatalf("the probe said %q; want EHLO, STARTTLS (refused), then EHLO again on a new connection", lines)
	}
	for _, e := range ehlos {
		if e != "EHLO mugai.city.example" {
			t.Errorf("probe greeted with %q, want EHLO mugai.city.example", e)
		}
	}
}
