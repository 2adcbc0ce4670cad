package gateway

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRelay counts connections; greet says whether it speaks SMTP or,
// like a frozen MTA (SIGSTOP), accepts the connection and says nothing.
type fakeRelay struct {
	addr  string
	conns atomic.Int32
	ehlo  atomic.Int32
}

func startFakeRelay(t *testing.T, greet bool) *fakeRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRelay{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if !greet {
					c.Read(make([]byte, 1)) // until the prober gives up
					return
				}
				c.Write([]byte("220 lgwan-mta.test ESMTP\r\n"))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					switch cmd := strings.ToUpper(sc.Text()); {
					case strings.HasPrefix(cmd, "EHLO"):
						r.ehlo.Add(1)
						c.Write([]byte("250-lgwan-mta.test\r\n250 8BITMIME\r\n"))
					case cmd == "QUIT":
						c.Write([]byte("221 bye\r\n"))
						return
					}
				}
			}()
		}
	}()
	return r
}

// TestHealthProbe: /healthz speaks SMTP to the relay (greeting, EHLO,
// QUIT), names the check that failed, and shares one probe among many
// requests.
func TestHealthProbe(t *testing.T) {
	relay := startFakeRelay(t, true)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Metrics = relay.addr, "127.0.0.1:0" })
	url := "http://" + tg.g.MetricsAddr() + "/healthz"
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := httpGet(t, url); code != 200 {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	for range 20 { // and rapid ones after
		if code, _ := httpGet(t, url); code != 200 {
			bad.Add(1)
		}
	}
	if bad.Load() != 0 {
		t.Errorf("%d requests not 200 with a relay that greets", bad.Load())
	}
	if n := relay.conns.Load(); n < 1 || n > 2 {
		t.Errorf("120 requests made %d connections to the relay, want 1 or 2", n)
	}
	if relay.ehlo.Load() != relay.conns.Load() {
		t.Errorf("%d connections but %d EHLO: the probe does not speak SMTP", relay.conns.Load(), relay.ehlo.Load())
	}

	frozen := startFakeRelay(t, false)
	tg2 := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Metrics = frozen.addr, "127.0.0.1:0" })
	start := time.Now()
	code, body := httpGet(t, "http://"+tg2.g.MetricsAddr()+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 503 || h.OK || h.Spool != "ok" ||
		len(h.Failed) != 1 || h.Failed[0] != "next_hop" || !strings.Contains(h.NextHop, "greeting") {
		t.Errorf("/healthz with a relay that never greets: %d %s", code, body)
	}
	if took := time.Since(start); took > healthTimeout+2*time.Second {
		t.Errorf("the probe took %s", took)
	}
}

// TestHealthProbeLeftovers: the probe files of a /healthz check cut
// short by a crash are removed at the next start, not left in the
// spool (where every start warned about an unknown file) or the
// originals store for ever.
func TestHealthProbeLeftovers(t *testing.T) {
	cfg := testConfig(t, nil)
	var left []string
	for _, dir := range []string{cfg.Spool, cfg.Originals, filepath.Dir(cfg.Audit), cfg.Deliver.Maildir} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		f, err := os.CreateTemp(dir, healthProbePattern)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		left = append(left, f.Name())
	}
	startGatewayWith(t, cfg)
	for _, name := range left {
		if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after the start: %v", name, err)
		}
	}
}
