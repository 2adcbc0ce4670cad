package gateway

import (
	"bytes"
	"errors"
	"maps"
	"mime"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"mugai/gateway/originals"
	"mugai/sanitize"
	"mugai/sanitize/sanitizetest"
)

// TestRelease goes through the normal delivery path to a loopback next
// hop: a suspicious part needs Force, a part arrives byte for byte
// attached to a notice, the whole original arrives unchanged, and each
// release is audited with operator, reason, parts and hashes.
func TestRelease(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	exe := "MZ\x90\x00 pretend program"
	msg := "Subject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=tool.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQACBwcmV0ZW5kIHByb2dyYW0=\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\n\r\nthis is no pdf\r\n--b--\r\n"
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the sanitized message", func() bool { return len(hop.messages()) == 1 })
	m, _, err := tg.g.originals.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, p := range m.Parts {
		reasons[p.Path] = p.Reason
	}
	if reasons["2"] != "dangerous-type" || reasons["3"] != "type-mismatch" {
		t.Fatalf("decisions %v: the test needs a dangerous part 2 and a disguised part 3", reasons)
	}
	release := func(req ReleaseRequest) (Released, error) {
		req.ID, req.Operator, req.Now = id, "yamada", time.Now()
		rel, err := Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, req)
		if err == nil {
			tg.g.Rescan()
		}
		return rel, err
	}

	if _, err := release(ReleaseRequest{Reason: "needed", Part: "3"}); !errors.Is(err, ErrNeedsForce) {
		t.Errorf("disguised part without force: %v", err)
	}
	if _, err := release(ReleaseRequest{Reason: "needed"}); !errors.Is(err, ErrNeedsForce) {
		t.Errorf("whole original holding a disguised part, without force: %v", err)
	}
	if _, err := release(ReleaseRequest{Reason: "", Part: "2"}); err == nil {
		t.Error("a release without a reason was accepted")
	}
	if _, err := release(ReleaseRequest{Reason: "x", Part: "9"}); err == nil || !strings.Contains(err.Error(), "no part 9") {
		t.Errorf("unknown part: %v", err)
	}

	rel, err := release(ReleaseRequest{Reason: "the vendor's installer, confirmed by phone", Part: "2", To: []string{"it@city.example.lg.jp"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the released part", func() bool { return len(hop.messages()) == 2 })
	got := hop.messages()[1]
	files, err := sanitizetest.Attachments(got.data)
	if err != nil {
		t.Fatal(err)
	}
	if string(files["tool.exe"]) != exe || len(got.rcpts) != 1 || got.rcpts[0] != "it@city.example.lg.jp" {
		t.Errorf("released part: rcpts %v, files %q", got.rcpts, files)
	}
	if !bytes.Contains(got.data, []byte("X-Mugai-Released: "+id+" part 2 by yamada")) {
		t.Error("the notice does not say what was released by whom")
	}

	if _, err := release(ReleaseRequest{Reason: "whole mail for the auditor", Force: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the released original", func() bool { return len(hop.messages()) == 3 })
	whole := hop.messages()[2].data
	if !bytes.HasSuffix(whole, []byte(msg)) || !bytes.HasPrefix(whole, []byte("X-Mugai-Released: "+id+" by yamada\r\n")) {
		t.Errorf("the whole original did not arrive unchanged:\n%q", whole)
	}

	var recs []map[string]any
	for _, r := range auditEvents(t, tg.cfg.Audit, id) {
		if r["event"] == "released" {
			recs = append(recs, r)
		}
	}
	if len(recs) != 2 || recs[0]["operator"] != "yamada" || recs[0]["spool_id"] != rel.SpoolID ||
		!strings.Contains(recs[0]["reason"].(string), "confirmed by phone") {
		t.Fatalf("released records: %v", recs)
	}
	parts := recs[0]["parts"].([]any)
	p0 := parts[0].(map[string]any)
	if len(parts) != 1 || p0["path"] != "2" || p0["sha256"] != m.Parts[1].SHA256 || p0["reason"] != "dangerous-type" {
		t.Errorf("released part record: %v", parts)
	}
	if n := len(recs[1]["parts"].([]any)); n != len(m.Parts) {
		t.Errorf("whole release lists %d parts, want %d", n, len(m.Parts))
	}
}

// TestReleaseNoticeNames: the released part's name, however hostile or
// Japanese, reads back whole from the notice's Content-Disposition (RFC
// 2231) and its Content-Type's name (encoded words), with a line break,
// quote or backslash in it made '_' as in the notice's text; the part's
// bytes arrive unchanged; Subject and reason decode.
func TestReleaseNoticeNames(t *testing.T) {
	body := []byte("MZ\x90\x00 the original bytes")
	for _, tc := range []struct{ name, want string }{
		{"report.pdf", "report.pdf"},
		{"見積書（第2版）.xlsm", "見積書（第2版）.xlsm"},
		{`a;b="c".exe`, "a;b=_c_.exe"},
		{"two\r\nlines\\x.exe", "two__lines_x.exe"},
		{strings.Repeat("長い名前", 60) + ".pdf", strings.Repeat("長い名前", 60) + ".pdf"},
		{"", "part-2-1.bin"},
	} {
		m := originals.Meta{ID: "20261130T000000-0123456789ab", From: "a@example.jp", Rcpts: []string{"b@city.example.lg.jp"}, Subject: "請求書 =?x?= の件"}
		part := sanitize.Part{Path: "2.1", Filename: tc.name, Body: body, SHA256: "sha"}
		req := ReleaseRequest{ID: m.ID, Operator: "yamada", Reason: "確認済み", Now: time.Now()}
		msg := releaseNotice("mugai.test", "postmaster@mugai.test", "20261130T000001-0123456789ab", m, part, req)
		files, err := sanitizetest.Attachments(msg)
		if err != nil || len(files) != 1 || !bytes.Equal(files[tc.want], body) {
			t.Errorf("%q: attachments %q, %v; want %q", tc.name, slices.Collect(maps.Keys(files)), err, tc.want)
		}
		if !bytes.Contains(msg, []byte("Content-Disposition: attachment;")) || bytes.Contains(msg, []byte(`filename="=?`)) {
			t.Errorf("%q: not an RFC 2231 filename:\n%s", tc.name, msg)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		if s, _ := dec.DecodeHeader(parsed.Header.Get("Subject")); s != "[原本の提供 / Original released] 請求書 =?x?= の件" {
			t.Errorf("Subject decodes to %q", s)
		}
		if s, _ := dec.DecodeHeader(parsed.Header.Get("X-Mugai-Release-Reason")); s != "確認済み" {
			t.Errorf("reason decodes to %q", s)
		}
	}
}

// TestReleaseEnvelopeFields: a released original leaves with the
// gateway's own envelope sender, and none of the original's fields that
// would send its bounces elsewhere (a Return-Path naming the Internet
// sender, a Delivered-To that the LGWAN Postfix takes for a loop) is a
// field of the released message: each is kept renamed, folding and all,
// and the body is untouched.
func TestReleaseEnvelopeFields(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	head := "Return-Path: <bounce@internet.example>\r\nDelivered-To: b@city.example.lg.jp\r\nX-Original-To: b@city.example.lg.jp\r\n" +
		"errors-to : <e@internet.example>\r\nReturn-Receipt-To:\r\n <r@internet.example>\r\n"
	body := "Return-Path: <in-the-body@example.jp>\r\nthe body\r\n"
	msg := "From: a@internet.example\r\nSubject: =?UTF-8?B?6KaL56mN?=\r\n" + head + "\r\n" + body
	reply, err := send(tg.addr, "bounce@internet.example", []string{"b@city.example.lg.jp"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the sanitized message", func() bool { return len(hop.messages()) == 1 })
	if _, err := Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, ReleaseRequest{ID: id, Operator: "yamada", Reason: "for the auditor", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tg.g.Rescan()
	waitFor(t, "the released original", func() bool { return len(hop.messages()) == 2 })
	got := hop.messages()[1]
	if got.from != tg.cfg.releaseSender() || !strings.HasPrefix(got.from, "postmaster@") {
		t.Errorf("released with envelope sender %q, want the gateway's own", got.from)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range envelopeFields {
		if v := parsed.Header.Get(f); v != "" {
			t.Errorf("the released original has %s: %s", f, v)
		}
	}
	want := "X-Mugai-Original-Return-Path: <bounce@internet.example>\r\nX-Mugai-Original-Delivered-To: b@city.example.lg.jp\r\n" +
		"X-Mugai-Original-X-Original-To: b@city.example.lg.jp\r\nX-Mugai-Original-errors-to : <e@internet.example>\r\n" +
		"X-Mugai-Original-Return-Receipt-To:\r\n <r@internet.example>\r\n\r\n" + body
	if !bytes.HasSuffix(got.data, []byte(want)) || !bytes.Contains(got.data, []byte("\r\nSubject: =?UTF-8?B?6KaL56mN?=\r\n")) {
		t.Errorf("released original:\n%s", got.data)
	}
}

// FuzzDefuseEnvelopeFields: renaming only inserts the prefix, leaves no
// envelope field at the top of a header that parses, and is idempotent.
func FuzzDefuseEnvelopeFields(f *testing.F) {
	f.Add([]byte("Return-Path: <a@b>\r\nSubject: x\r\n\r\nReturn-Path: <body>\r\n"))
	f.Add([]byte("delivered-to\t: x\n folded\nErrors-To:y\n\nbody"))
	f.Add([]byte("\r\nReturn-Path: <a@b>\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out := defuseEnvelopeFields(msg)
		strip := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("X-Mugai-Original-"), nil) }
		if !bytes.Equal(strip(out), strip(msg)) {
			t.Fatalf("more than renamed:\n%q\n%q", msg, out)
		}
		if again := defuseEnvelopeFields(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
		if m, err := mail.ReadMessage(bytes.NewReader(out)); err == nil {
			for _, name := range envelopeFields {
				if _, ok := m.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
					t.Fatalf("%s left in %q", name, out)
				}
			}
		}
	})
}

// TestReleaseNoticeSubject: a released part's notice names the subject as
// received, not the rebuilt one with the policy's tag (the part is not
// sanitized).
func TestReleaseNoticeSubject(t *testing.T) {
	received := "見積"
	m := originals.Meta{ID: "20261130T000000-0123456789ab", Subject: "[無害化] 見積", ReceivedSubject: &received}
	msg := releaseNotice("mugai.test", "postmaster@mugai.test", "20261130T000001-0123456789ab", m,
		sanitize.Part{Path: "2", Filename: "a.pdf", Body: []byte("x")}, ReleaseRequest{ID: m.ID, Operator: "yamada", Reason: "r", Now: time.Now()})
	parsed, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject")); s != "[原本の提供 / Original released] 見積" {
		t.Errorf("Subject decodes to %q", s)
	}
}
