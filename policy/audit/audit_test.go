package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mugai/policy"
)

// TestRecords pins the record schema the README documents: every field of
// an event is present even when empty, rcpt is a list on received and a
// string on delivery events, and one call is one write.
func TestRecords(t *testing.T) {
	var buf countingBuffer
	l := New(&buf)
	l.Now = func() time.Time { return time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC) }
	ds := []policy.Decision{{Path: "1", DeclaredType: "text/plain", DetectedType: "text/plain", Size: 5, SHA256: "ab",
		Action: policy.ActionTextify, RuleID: "body-text", Clause: "2(13)", Reason: policy.ReasonBodyText},
		{Path: "2", Filename: "q.iqy", DeclaredType: "text/plain", DetectedType: "text/plain", Size: 5, SHA256: "cd",
			Action: policy.ActionDisarm, RuleID: "text-disarm", Clause: "2(13)", Reason: policy.ReasonDisarmed, Delivered: "q.iqy.txt"}}
	if err := l.Accepted("ID1", Envelope{From: "a@example.jp", Rcpts: []string{"b@example.jp"}, Size: 10, Client: "127.0.0.1"}, ds, "sha"); err != nil {
		t.Fatal(err)
	}
	if buf.writes != 1 {
		t.Errorf("Accepted made %d writes, want 1", buf.writes)
	}
	l.Delivered("ID1", "b@example.jp", "relay x:25", "250 ok")
	l.Rejected("ID2", "", nil, "192.0.2.1", "550 5.7.1 no")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []struct {
		event string
		keys  []string
	}{
		{"received", []string{"time", "event", "id", "from", "rcpt", "message_id", "size", "client"}},
		{"decision", []string{"time", "event", "id", "part", "filename", "declared_type", "detected_type", "size", "sha256", "action", "rule", "clause", "reason", "policy"}},
		{"decision", []string{"time", "event", "id", "part", "filename", "declared_type", "detected_type", "size", "sha256", "action", "rule", "clause", "reason", "policy", "delivered"}},
		{"queued", []string{"time", "event", "id"}},
		{"delivered", []string{"time", "event", "id", "rcpt", "relay", "reply"}},
		{"rejected", []string{"time", "event", "id", "from", "rcpt", "client", "reply"}},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for i, w := range want {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		if m["event"] != w.event || m["time"] != "2026-11-26T01:02:03Z" {
			t.Errorf("line %d = %s", i, lines[i])
		}
		if len(m) != len(w.keys) {
			t.Errorf("%s has keys %v, want %v", w.event, m, w.keys)
		}
		for _, k := range w.keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q: %s", w.event, k, lines[i])
			}
		}
	}
	// Actions and reasons are typed in Go and written as the same stable
	// strings as ever: scripts and reports key on them.
	if !strings.Contains(lines[1], `"action":"textify","rule":"body-text","clause":"2(13)","reason":"body-text"`) ||
		!strings.Contains(lines[2], `"action":"disarm","rule":"text-disarm","clause":"2(13)","reason":"disarmed"`) {
		t.Errorf("decision strings changed:\n%s\n%s", lines[1], lines[2])
	}
	if !strings.Contains(lines[0], `"rcpt":["b@example.jp"]`) || !strings.Contains(lines[4], `"rcpt":"b@example.jp"`) || !strings.Contains(lines[5], `"rcpt":[]`) {
		t.Errorf("rcpt shapes wrong:\n%s", buf.String())
	}
}

type countingBuffer struct {
	bytes.Buffer
	writes int
}

func (c *countingBuffer) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}
