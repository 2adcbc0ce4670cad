package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetrics: the series move with real traffic, and /healthz tells a
// reachable next hop from a dead one.
func TestMetrics(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay = hop.addr
		c.Metrics = "127.0.0.1:0"
	})
	base := "http://" + tg.g.MetricsAddr()
	if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: m\r\n\r\nmetrics\r\n"); err != nil {
		t.Fatal(err)
	}
	rawDialogue(t, tg.addr, "EHLO t\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\nbare\nLF\r\n.\r\nQUIT\r\n")
	waitFor(t, "delivery", func() bool { return len(hop.messages()) == 1 })
	var body string
	waitFor(t, "the delivery counted", func() bool {
		_, body = httpGet(t, base+"/metrics")
		// The queue gauge drops when the worker is done, just after the count.
		return strings.Contains(body, `mugai_deliveries_total{result="delivered"} 1`) && strings.Contains(body, "mugai_queue_messages 0")
	})
	for _, want := range []string{
		"mugai_messages_received_total 1",
		"mugai_messages_rejected_total 1",
		`mugai_deliveries_total{result="deferred"} 0`,
		`mugai_decisions_total{action="textify",rule="body-text"} 1`,
		`mugai_sanitize_seconds_count{action="textify"} 1`,
		"mugai_queue_oldest_seconds 0",
		"mugai_panics_total 0",
		"mugai_originals_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	code, hb := httpGet(t, base+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(hb), &h); err != nil || code != 200 || !h.OK {
		t.Errorf("/healthz with a live next hop: %d %s", code, hb)
	}

	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close()
	tg2 := startGateway(t, func(c *Config) {
		c.Deliver.Relay = downAddr
		c.Metrics = "127.0.0.1:0"
	})
	code, hb = httpGet(t, "http://"+tg2.g.MetricsAddr()+"/healthz")
	if err := json.Unmarshal([]byte(hb), &h); err != nil || code != 503 || h.OK || h.Spool != "ok" || !strings.Contains(h.NextHop, "refused") {
		t.Errorf("/healthz with a dead next hop: %d %s", code, hb)
	}
}

func TestMetricsConfig(t *testing.T) {
	c := Defaults()
	c.Metrics = "9425"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `metrics: "9425" is not host:port`) {
		t.Errorf("Validate: %v", err)
	}
}

// TestOriginalIndexed: the kept original's index entry carries every
// part with the decision the audit log has for it.
func TestOriginalIndexed(t *testing.T) {
	tg := startGateway(t, nil)
	msg := "Subject: =?UTF-8?B?6KaL56mN?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=setup.exe\r\n\r\nMZ\r\n--b--\r\n"
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	m, _, err := tg.g.originals.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, r := range auditEvents(t, tg.cfg.Audit, id) {
		if r["event"] == "decision" {
			audited = append(audited, fmt.Sprint(r["part"], " ", r["rule"], " ", r["sha256"]))
		}
	}
	var indexed []string
	for _, p := range m.Parts {
		indexed = append(indexed, fmt.Sprint(p.Path, " ", p.Rule, " ", p.SHA256))
	}
	if strings.Join(indexed, "|") != strings.Join(audited, "|") || len(indexed) != 2 || m.Subject != "見積" {
		t.Errorf("index %v, subject %q; audit %v", indexed, m.Subject, audited)
	}
}
