package gateway

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mugai/gateway/originals"
	"mugai/portal"
	"mugai/portal/token"
)

// portalGateway runs a gateway with its portal on 127.0.0.1:0 and sends it
// one mail with a photo (removed, release approval), a program (never) and
// the PPAP vector; it returns the gateway and the original's id.
func portalGateway(t *testing.T) (*testGateway, string) {
	t.Helper()
	cfg := testConfig(t, func(c *Config) { c.Portal.Listen = "127.0.0.1:0" })
	tg := startGatewayWith(t, cfg)
	zipData, err := os.ReadFile(ppapVector)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: s@example.jp\r\nSubject: =?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("資料")) + "?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=p.png\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(photo(t))) + "\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=setup.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n" +
		"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(zipData)) + "\r\n--b--\r\n"
	if _, err := send(tg.addr, "s@example.jp", []string{"a@city.example.lg.jp", "b@city.example.lg.jp"}, msg); err != nil {
		t.Fatal(err)
	}
	var id string
	waitFor(t, "the original", func() bool {
		ms, _, _ := tg.g.originals.List(originals.Filter{})
		if len(ms) == 1 {
			id = ms[0].ID
		}
		return id != ""
	})
	return tg, id
}

// TestPortalLinkInNotice: the delivered notice carries a link that the
// portal's key verifies, naming the message, valid until its original is
// purged (the end of its day plus the retention).
func TestPortalLinkInNotice(t *testing.T) {
	tg, id := portalGateway(t)
	box := filepath.Join(tg.cfg.Deliver.Maildir, "a@city.example.lg.jp", "new")
	notice := noticeText(t, waitMail(t, box, "Subject:"))
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/m/([A-Za-z0-9_-]+)`).FindStringSubmatch(notice)
	if m == nil || m[1] != tg.g.PortalAddr() {
		t.Fatalf("no link to %s in the notice:\n%s", tg.g.PortalAddr(), notice)
	}
	secret, err := token.LoadSecret(tg.cfg.Portal.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	got, exp, ok := token.Verify(secret, m[2], time.Now())
	meta, _, _ := tg.g.originals.Get(id)
	want := meta.Received.UTC().Truncate(24 * time.Hour).Add(24*time.Hour + tg.cfg.OriginalsRetention.D())
	if !ok || got != id || !exp.Equal(want) {
		t.Errorf("link names %q until %v (ok %v), want %q until %v", got, exp, ok, id, want)
	}
	for _, f := range []string{tg.cfg.Portal.SecretFile, tg.cfg.Portal.Users} {
		if info, err := os.Stat(f); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v (the key, and the approvers' file created empty, must be 0600)", f, info, err)
		}
	}
}

// TestPortalBackend: what the portal may do through the gateway, and what
// it may not: releases only to a recipient of the original and never of a
// part its rule says never; a wrong password delivers nothing and its
// record holds no password; notices leave with their record.
func TestPortalBackend(t *testing.T) {
	tg, id := portalGateway(t)
	b := portalBackend{tg.g}
	msg, err := b.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]string{}
	for _, p := range msg.Parts {
		modes[p.Filename] = p.Release
		if p.Filename == "a.zip" && !p.Encrypted {
			t.Error("the PPAP ZIP is not offered for unlock")
		}
	}
	if modes["p.png"] != portal.ReleaseApproval || modes["setup.exe"] != portal.ReleaseNever || modes["a.zip"] != portal.ReleaseNever {
		t.Errorf("release modes %v", modes)
	}
	if _, err := b.Message("20261130T000000-000000000000"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := b.Release(id, "2", "x@city.example.lg.jp", "x@city.example.lg.jp", "need"); !errors.Is(err, portal.ErrNotAllowed) {
		t.Errorf("release to a stranger: %v", err)
	}
	if _, err := b.Release(id, "3", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); !errors.Is(err, portal.ErrNotAllowed) {
		t.Errorf("release of the program: %v", err)
	}
	if _, err := b.Release(id, "", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); !errors.Is(err, portal.ErrNotAllowed) {
		t.Errorf("release of the whole original holding the program: %v", err)
	}
	spoolID, err := b.Release(id, "2", "B@city.example.lg.jp", "tanaka <admin>", "need")
	if err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(tg.cfg.Deliver.Maildir, "b@city.example.lg.jp", "new")
	if rel := waitMail(t, box, "X-Mugai-Released:"); !bytes.Contains(rel, []byte(id+" part 2 by tanaka__admin_")) {
		t.Errorf("released mail:\n%s", rel)
	}
	if _, err := b.Unlock(id, "4", "a@city.example.lg.jp", []byte("guess-1234")); !errors.Is(err, portal.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := b.Unlock(id, "2", "a@city.example.lg.jp", []byte("x")); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("unlock of a part that is no encrypted ZIP: %v", err)
	}
	if err := b.Notify([]string{"a@city.example.lg.jp"}, "申請 request", "本文 body"); err != nil {
		t.Fatal(err)
	}
	waitMail(t, filepath.Join(tg.cfg.Deliver.Maildir, "a@city.example.lg.jp", "new"), "Auto-Submitted:")
	if err := b.Notify([]string{"<x>"}, "s", "b"); err == nil {
		t.Error("a notice to a bad address was queued")
	}
	recs := auditEvents(t, tg.cfg.Audit, "")
	names := eventNames(recs)
	for _, ev := range []string{"released", "unlock-failed", "notified"} {
		if !slices.Contains(names, ev) {
			t.Errorf("no %s record in %v", ev, names)
		}
	}
	for _, r := range recs {
		if r["event"] == "released" && r["spool_id"] != spoolID {
			t.Errorf("released record %v, want spool id %s", r, spoolID)
		}
	}
	if data, _ := os.ReadFile(tg.cfg.Audit); bytes.Contains(data, []byte("guess-1234")) {
		t.Error("the password reached the audit log")
	}
	found, err := b.Search(portal.Search{Subject: "資料", Rcpt: "B@CITY", Limit: 5})
	if err != nil || len(found) != 1 || found[0].ID != id {
		t.Errorf("search: %v %v", found, err)
	}
	if found, _ := b.Search(portal.Search{From: "nobody"}); len(found) != 0 {
		t.Errorf("search by another sender found %d", len(found))
	}
	if !strings.Contains(operatorName(""), "portal") {
		t.Error("empty actor")
	}
}
