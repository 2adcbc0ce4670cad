package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	"mugai/gateway/originals"
	"mugai/portal"
)

// zipOf is a plain ZIP of the named files.
func zipOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sendOne sends a mail with one attachment (its header fields given
// whole) to rcpts and returns the original's id.
func sendOne(t *testing.T, tg *testGateway, fields string, data []byte, rcpts ...string) string {
	t.Helper()
	before, _, _ := tg.g.originals.List(originals.Filter{})
	msg := "From: s@example.jp\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\n" + fields + "Content-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(data)) + "\r\n--b--\r\n"
	if _, err := send(tg.addr, "s@example.jp", rcpts, msg); err != nil {
		t.Fatal(err)
	}
	var id string
	waitFor(t, "the original", func() bool {
		ms, _, _ := tg.g.originals.List(originals.Filter{})
		if len(ms) == len(before)+1 {
			id = ms[len(ms)-1].ID
		}
		return id != ""
	})
	return id
}

const zipFields = "Content-Type: application/zip\r\nContent-Disposition: attachment; filename=plain.zip\r\n"

// minimalPE is a program as the detector knows one.
var minimalPE = "MZ" + strings.Repeat("\x00", 58) + "\x40\x00\x00\x00PE\x00\x00" + strings.Repeat("\x00", 64)

// TestPortalNeverInsideArchive: a ZIP whose member is a program (never)
// is never too: asking for the archive would release the program.
func TestPortalNeverInsideArchive(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Portal.Listen = "127.0.0.1:0" })
	tg := startGatewayWith(t, cfg)
	b := portalBackend{tg.g}
	id := sendOne(t, tg, zipFields, zipOf(t, [2]string{"note.txt", "hello\n"}, [2]string{"setup.exe", minimalPE}), "a@city.example.lg.jp")
	msg, err := b.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range msg.Parts {
		if p.Path == "2" && p.Release != portal.ReleaseNever {
			t.Errorf("the ZIP holding a program is offered as %q", p.Release)
		}
	}
	if _, err := b.Release(id, "2", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); !errors.Is(err, portal.ErrNotAllowed) {
		t.Errorf("release of the ZIP holding a program: %v", err)
	}
	// A ZIP of harmless members stays as its rule says.
	id = sendOne(t, tg, zipFields, zipOf(t, [2]string{"note.txt", "hello\n"}), "a@city.example.lg.jp")
	if _, err := b.Release(id, "2", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); err != nil {
		t.Errorf("release of a harmless ZIP: %v", err)
	}
}

func TestInside(t *testing.T) {
	for _, c := range []struct {
		path, outer string
		want        bool
	}{
		{"2/1", "2", true}, {"2.1", "2", true}, {"2/1.3", "2", true}, {"2", "2", false},
		{"21", "2", false}, {"21/1", "2", false}, {"3/1", "2", false}, {"2", "2/1", false},
	} {
		if got := inside(c.path, c.outer); got != c.want {
			t.Errorf("inside(%q, %q) = %v", c.path, c.outer, got)
		}
	}
}

// TestPortalUnlockDisguised: an encrypted ZIP declared as a PDF is
// removed as an encrypted archive (that check comes first), but the same
// ZIP unencrypted would be removed as disguised: the password must not
// open it either. The same ZIP declared as one is opened.
func TestPortalUnlockDisguised(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Portal.Listen = "127.0.0.1:0" })
	tg := startGatewayWith(t, cfg)
	b := portalBackend{tg.g}
	data, err := os.ReadFile(ppapVector)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, fields string
		opens        bool
	}{
		{"declared a PDF", "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.zip\r\n", false},
		{"named .zip and .pdf", "Content-Type: application/zip; name=a.pdf\r\nContent-Disposition: attachment; filename=a.zip\r\n", false},
		{"a ZIP", zipFields, true},
	} {
		id := sendOne(t, tg, c.fields, data, "a@city.example.lg.jp")
		m, _, _ := tg.g.originals.Get(id)
		if len(m.Parts) < 2 || m.Parts[1].Reason != "encrypted-archive" {
			t.Fatalf("%s: parts %+v", c.name, m.Parts)
		}
		_, err := b.Unlock(id, "2", "a@city.example.lg.jp", []byte("ppap-Test#2026"))
		if opened := err == nil; opened != c.opens {
			t.Errorf("%s: unlock: %v", c.name, err)
		}
	}
}

// TestReleaseArchiveMember: a member of an attached ZIP is not a part of
// the original of its own: the admin's release and the portal's refuse
// it, naming the archive's part to release instead, rather than failing
// on a part they cannot read back; the archive itself is released.
func TestReleaseArchiveMember(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Portal.Listen = "127.0.0.1:0" })
	tg := startGatewayWith(t, cfg)
	b := portalBackend{tg.g}
	id := sendOne(t, tg, zipFields, zipOf(t, [2]string{"note.txt", "hello\n"}), "a@city.example.lg.jp")
	m, _, err := tg.g.originals.Get(id)
	if err != nil || len(m.Parts) != 3 || m.Parts[2].Path != "2/1" {
		t.Fatalf("parts %+v, %v: the test needs member 2/1 in the index", m.Parts, err)
	}
	const want = "part 2/1 is inside part 2 (plain.zip); release part 2 instead"
	_, err = Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, ReleaseRequest{ID: id, Operator: "yamada", Reason: "need", Part: "2/1", Now: tg.g.Now()})
	if !errors.Is(err, ErrInsidePart) || !strings.Contains(err.Error(), want) {
		t.Errorf("admin release of a member: %v", err)
	}
	_, err = b.Release(id, "2/1", "a@city.example.lg.jp", "a@city.example.lg.jp", "need")
	if !errors.Is(err, portal.ErrNotAllowed) || !errors.Is(err, ErrInsidePart) || !strings.Contains(err.Error(), want) {
		t.Errorf("portal release of a member: %v", err)
	}
	if _, err := b.Release(id, "2/9", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); err == nil || errors.Is(err, ErrInsidePart) {
		t.Errorf("a member the index does not have: %v", err)
	}
	if _, err := b.Release(id, "2", "a@city.example.lg.jp", "a@city.example.lg.jp", "need"); err != nil {
		t.Errorf("release of the archive: %v", err)
	}
}
