package sanitize

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"
)

// The trace is carried over in order below our own Received field, each
// field cleaned, and bounded in number.
func TestTraceCarriedOver(t *testing.T) {
	in := "Received: from a.example (a.example [192.0.2.7])\r\n" +
		"\tby mx.example.org (Postfix) with ESMTP id 4AbC; Thu, 26 Nov 2026 09:29:58 +0900\r\n" +
		"Received: from \xe5\xb8\x82 (bad\x01host) by a.example; Thu, 26 Nov 2026 09:29:50 +0900\r\n" +
		"From: a@example.org\r\nSubject: t\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
	out, msg := rebuildRead(t, in)
	got := msg.Header["Received"]
	want := []string{
		"from mx.example.org ([192.0.2.1]) by mugai.test (mugai) with ESMTP id 20261126T000000-0123456789ab for <rcpt@city.example.lg.jp>; Thu, 26 Nov 2026 09:30:00 +0000",
		"from a.example (a.example [192.0.2.7]) by mx.example.org (Postfix) with ESMTP id 4AbC; Thu, 26 Nov 2026 09:29:58 +0900",
		"from ? (bad?host) by a.example; Thu, 26 Nov 2026 09:29:50 +0900",
	}
	if len(got) != len(want) {
		t.Fatalf("Received fields = %q, want %q", got, want)
	}
	for i := range want {
		if g := strings.Join(strings.Fields(got[i]), " "); g != want[i] {
			t.Errorf("Received[%d] = %q, want %q", i, g, want[i])
		}
	}
	head := out[:strings.Index(out, "\r\n\r\n")]
	if r, x := strings.LastIndex(head, "\r\nReceived:"), strings.Index(head, "\r\nX-Mugai-Id:"); r > x {
		t.Errorf("X-Mugai-Id comes before the end of the trace:\n%s", head)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d octets", len(line))
		}
	}
}

func TestTraceBounded(t *testing.T) {
	var b strings.Builder
	for i := range maxTrace + 20 {
		fmt.Fprintf(&b, "Received: from h%d by h%d %s; Thu, 26 Nov 2026 09:29:58 +0900\r\n", i+1, i, strings.Repeat("x", 250))
	}
	b.WriteString("From: a@example.org\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
	out, msg := rebuildRead(t, b.String())
	got := msg.Header["Received"]
	if len(got) != maxTrace+1 {
		t.Fatalf("%d Received fields, want ours and %d carried", len(got), maxTrace)
	}
	if !strings.HasPrefix(got[1], "from h1 by h0") || !strings.HasPrefix(got[maxTrace], fmt.Sprintf("from h%d ", maxTrace)) {
		t.Errorf("carried the wrong end of the trace: %.40q ... %.40q", got[1], got[maxTrace])
	}
	for _, line := range strings.Split(out, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d octets", len(line))
		}
	}
}

// rebuildRead rebuilds in and parses the result with the standard library.
func rebuildRead(t *testing.T, in string) (string, *mail.Message) {
	t.Helper()
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(res.Message)))
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Message), msg
}
