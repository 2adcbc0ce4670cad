package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestTempfail: a temporary local failure is one record with its class,
// the envelope and the reply, every field present; Broken reports a
// failed sync.
func TestTempfail(t *testing.T) {
	var buf countingBuffer
	l := New(&buf)
	if err := l.Tempfail("ID3", ClassOriginals, Envelope{From: "a@example.jp", Client: "192.0.2.1", MessageID: "<x@y>", Size: 9},
		"451 4.3.0 Local error, try again later (id ID3)"); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "tempfail", "id": "ID3", "class": "originals", "from": "a@example.jp",
		"rcpt": []any{}, "client": "192.0.2.1", "reply": "451 4.3.0 Local error, try again later (id ID3)"}
	for k, v := range want {
		if got, _ := json.Marshal(m[k]); string(got) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, got, mustJSON(v))
		}
	}
	if len(m) != len(want)+1 { // and time
		t.Errorf("tempfail record has keys beyond the schema: %s", buf.String())
	}
	if strings.Contains(buf.String(), "<x@y>") {
		t.Errorf("tempfail record carries the Message-ID: %s", buf.String())
	}
	if l.Broken() != nil {
		t.Errorf("a new log is broken: %v", l.Broken())
	}
	l.Fail(errors.New("fsync: input/output error"))
	if err := l.Broken(); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "input/output error") {
		t.Errorf("Broken after Fail = %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
