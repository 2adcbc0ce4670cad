package gateway

import (
	"testing"

	"mugai/gateway/load"
)

// BenchmarkAccept is one SMTP session with the reference message (~150 KB)
// under the strict policy: connect, rebuild, both stores durable, audit,
// 250. Delivery runs alongside to a loopback next hop, as in production.
func BenchmarkAccept(b *testing.B) {
	hop := startNextHop(b)
	tg := startGateway(b, func(c *Config) {
		c.Deliver.Relay = hop.addr
		c.Policy = "../policy/examples/strict.yaml"
	})
	msg := string(load.Realistic())
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, msg); err != nil {
			b.Fatal(err)
		}
	}
}
