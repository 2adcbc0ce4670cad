package gateway

import (
	"strings"
	"testing"
)

// Messages relayed one after the other share one connection to the next
// hop, and /metrics says so.
func TestRelayConnectionReuseMetrics(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay, c.Deliver.TLS = hop.addr, TLSNone
		c.Deliver.Workers = 1
		c.Deliver.IdleTimeout = Duration(60_000_000_000) // 1 min: longer than the test
	})
	for i, subject := range []string{"one", "two", "three"} {
		if _, err := send(tg.addr, "a@example.jp", []string{"staff@city.example.lg.jp"}, "Subject: "+subject+"\r\n\r\nhello\r\n"); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		waitFor(t, "delivery", func() bool { return len(hop.messages()) == i+1 })
	}
	_, body := httpMetrics(t, tg)
	for _, m := range []string{"mugai_relay_connections_opened_total 1", "mugai_relay_connections_reused_total 2"} {
		if !strings.Contains(body, m) {
			t.Errorf("metrics lack %q", m)
		}
	}
}
