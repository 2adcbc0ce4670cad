package queue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReplyLegacy: a recipient written by versions before Reply (its last
// reply as one string) reads back as the typed reply this version would
// have recorded, from its meta and from its entry line; what the audit
// log and queue list showed (String) is unchanged.
func TestReplyLegacy(t *testing.T) {
	tests := []struct {
		last string
		want Reply
	}{
		// Refusals by the next hop: the codes where RFC 3463 puts them.
		{"550 5.1.1 no such user", Reply{Text: "550 5.1.1 no such user", Code: 550, Enhanced: "5.1.1", Permanent: true}},
		{"451 4.3.0 try later", Reply{Text: "451 4.3.0 try later", Code: 451, Enhanced: "4.3.0"}},
		{"550 refused by host 2.0.0.1", Reply{Text: "550 refused by host 2.0.0.1", Code: 550, Permanent: true}},
		{"550 2.0.0 odd", Reply{Text: "550 2.0.0 odd", Code: 550, Permanent: true}},
		// No SMTP reply: a failure here.
		{"connect: dial tcp 10.0.0.1:25: connection refused", Reply{Text: "connect: dial tcp 10.0.0.1:25: connection refused"}},
		{"maildir: not stored: bad address", Reply{Text: "maildir: not stored: bad address"}},
		// Delivered: the text only, as this version records a delivery.
		{"250 2.0.0 Ok: queued as X", Reply{Text: "250 2.0.0 Ok: queued as X"}},
		// The lifetime ran out; the next hop's last words follow.
		{"expired after 120h0m0s in the queue; last reply: 451 4.3.0 queue full",
			Reply{Text: "451 4.3.0 queue full", Code: 451, Enhanced: "4.3.0", Expired: 120 * time.Hour}},
		{"expired after 300ms in the queue; last reply: connect: refused",
			Reply{Text: "connect: refused", Expired: 300 * time.Millisecond}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		id := "legacy-" + string(rune('a'+i))
		// The meta of an entry deferred once by the previous version.
		meta := `{"id":"` + id + `","from":"a@example.jp","rcpts":[{"addr":"b@example.jp","status":"failed","attempts":1,` +
			`"last_reply":` + quote(t, tc.last) + `}],"created":"2026-11-01T00:00:00Z","attempts":1,"next_attempt":"2026-11-01T00:01:00Z"}`
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(meta), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id+".msg"), []byte(entryLine+meta+"\nm\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := readEntry(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		r := e.Rcpts[0]
		if r.Last == nil || *r.Last != tc.want || r.Status != StatusFailed {
			t.Errorf("%q: read as %+v (%s), want %+v", tc.last, r.Last, r.Status, tc.want)
			continue
		}
		if got := r.Last.String(); got != tc.last {
			t.Errorf("%q: String %q", tc.last, got)
		}
		// Written back by this version, it reads back the same, typed.
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var again Entry
		if err := json.Unmarshal(b, &again); err != nil || *again.Rcpts[0].Last != tc.want {
			t.Errorf("%q: round trip %s → %+v, %v", tc.last, b, again.Rcpts[0].Last, err)
		}
	}
}

// TestReplyWritten: this version writes the typed reply only, and a
// recipient not yet tried has none.
func TestReplyWritten(t *testing.T) {
	r := Recipient{Addr: "b@example.jp", Status: StatusPending}
	b, _ := json.Marshal(r)
	if string(b) != `{"addr":"b@example.jp","status":"pending","attempts":0}` {
		t.Errorf("untried: %s", b)
	}
	r.Status, r.Attempts = StatusFailed, 3
	r.Last = &Reply{Text: "451 4.4.1 no answer", Code: 451, Enhanced: "4.4.1", Expired: time.Hour}
	b, _ = json.Marshal(r)
	want := `{"addr":"b@example.jp","status":"failed","attempts":3,"last":{"text":"451 4.4.1 no answer","code":451,"enhanced":"4.4.1","expired_ns":3600000000000}}`
	if string(b) != want {
		t.Errorf("written as %s\nwant %s", b, want)
	}
}

func quote(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
