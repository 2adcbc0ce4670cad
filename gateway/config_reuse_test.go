package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway/courier"
)

// TestDeliverReuseConfig: the connection cache's keys reach the couriers'
// settings (max_idle 0 = deliver.workers), and bad values are refused.
func TestDeliverReuseConfig(t *testing.T) {
	d := Defaults().Deliver
	if got, want := d.Reuse(), (courier.Reuse{MaxIdle: 4, IdleTimeout: 2 * time.Second, MaxAge: 300 * time.Second}); got != want {
		t.Errorf("default Reuse() = %+v, want %+v", got, want)
	}
	load := func(body string) (Config, error) {
		p := filepath.Join(t.TempDir(), "mugai.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p)
	}
	c, err := load("deliver:\n  workers: 8\n  max_idle: -1\n  idle_timeout: 1s\n  reuse_time: 1m\n  reuse_count: 50\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Deliver.Reuse(), (courier.Reuse{MaxIdle: -1, IdleTimeout: time.Second, MaxAge: time.Minute, MaxUses: 50}); got != want {
		t.Errorf("Reuse() = %+v, want %+v", got, want)
	}
	for body, key := range map[string]string{
		"deliver:\n  max_idle: -2\n":     "deliver.max_idle",
		"deliver:\n  idle_timeout: 0s\n": "deliver.idle_timeout",
		"deliver:\n  reuse_count: -1\n":  "deliver.reuse_count",
		"deliver:\n  max_idle: 1000\n":   "deliver.max_idle",
		"deliver:\n  reuse_time: -5s\n":  "deliver.idle_timeout",
	} {
		if _, err := load(body); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: err = %v, want one naming %s", body, err, key)
		}
	}
}
