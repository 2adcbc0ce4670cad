package gateway

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	pngenc "image/png"
	"io"
	"maps"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"mugai/policy"
	"mugai/portal/browsertest"
	"mugai/sanitize/format"
	"mugai/sanitize/sanitizetest"
	"mugai/sanitize/textfile"
)

// The PPAP vectors of sanitize/archive, made by Debian's 7z and zip.
const (
	ppapVector   = "../sanitize/archive/testdata/encrypted/aes256.zip"
	ppapPassword = "ppap-Test#2026"
)

// TestBrowserPortalFlow is the staff self-service flow end to end, in
// Debian's chromium: a mail with a removed attachment and a PPAP ZIP goes
// through the gateway; the link is read from the delivered notice; the
// recipient asks for the attachment; an approver logs in and approves;
// the attachment arrives byte for byte; a wrong password delivers
// nothing; the right one delivers the ZIP's sanitized members. Every page
// is screenshot at 1280 px and 375 px and must not scroll sideways.
func TestBrowserPortalFlow(t *testing.T) {
	b := browsertest.Start(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "htpasswd")
	hash, err := bcrypt.GenerateFromPassword([]byte("shonin-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(users, []byte("suzuki:"+string(hash)+"\n"), 0o600)
	cfg := testConfig(t, func(c *Config) {
		c.Portal.Listen = "127.0.0.1:0"
		c.Portal.Users = users
		c.Portal.Approvers = []string{"suzuki"}
		c.Portal.Notify = []string{"admin@city.example.lg.jp"}
	})
	// Text files are rebuilt (so the ZIP's members arrive); images have no
	// sanitizer here, so the photo is removed and kept for release.
	reg := &format.Registry{}
	reg.Register(policy.ActionDisarm, &textfile.Disarmer{}, textfile.Types...)
	tg := startGatewaySanitizers(t, cfg, reg)
	zipData, err := os.ReadFile(ppapVector)
	if err != nil {
		t.Fatal(err)
	}
	// A photo: removed (no image sanitizer in this gateway), released on approval.
	secret := photo(t)
	const staff = "tanaka@city.example.lg.jp"
	msg := "From: Sender <sender@example.jp>\r\nTo: " + staff + "\r\nSubject: =?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("見積書の送付 <b>&amp;</b>")) + "?=\r\n" +
		"Message-ID: <ppap-1@example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nお世話になっております。パスワードは別送します。\r\n" +
		"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"genba.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(secret)) + "\r\n" +
		"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"mitsumori.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(zipData)) + "\r\n--b--\r\n"
	if _, err := send(tg.addr, "sender@example.jp", []string{staff}, msg); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(cfg.Deliver.Maildir, staff, "new")
	mails := waitMails(t, box, 1)
	notice := noticeText(t, newest(mails, nil))
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/m/[A-Za-z0-9_.~-]+`).FindString(notice)
	if link == "" {
		t.Fatalf("no portal link in the notice:\n%s", notice)
	}

	// The recipient's page: the message and both removed parts.
	if st := b.Navigate(link); st != 200 {
		t.Fatalf("message page: status %d", st)
	}
	page := b.Text("main")
	for _, want := range []string{"見積書の送付 <b>&amp;</b>", "genba.png", "mitsumori.zip", "sender@example.jp"} {
		if !strings.Contains(page, want) {
			t.Errorf("message page lacks %q:\n%s", want, page)
		}
	}
	shots(t, b, "message")
	b.Fill(`[id="part-2"] textarea[name=reason]`, "見積の比較に原本が必要です")
	if st := b.Submit(`[id="part-2"] button[type=submit]`); st != 200 {
		t.Fatalf("request: status %d", st)
	}
	if got := b.Text(`[id="part-2"]`); !strings.Contains(got, "承認待ち") {
		t.Errorf("part 2 after the request:\n%s", got)
	}
	shots(t, b, "requested")

	// The approver: login, the waiting request, approve.
	base := link[:strings.Index(link, "/m/")]
	b.Navigate(base + "/admin/")
	if b.Has(`textarea[name=comment]`) {
		t.Fatal("the approvers' page shows a request before login")
	}
	shots(t, b, "login")
	b.Fill(`input[name=user]`, "suzuki")
	b.Fill(`input[name=password]`, "shonin-pass")
	b.Submit(`form[action="/admin/login"] button[type=submit]`)
	list := b.Text("main")
	for _, want := range []string{"genba.png", "見積の比較に原本が必要です", staff} {
		if !strings.Contains(list, want) {
			t.Errorf("waiting list lacks %q:\n%s", want, list)
		}
	}
	shots(t, b, "requests")
	b.Fill(`textarea[name=comment]`, "確認しました")
	b.Submit(`button[value=approve]`)
	shots(t, b, "approved")
	released := waitMail(t, box, "X-Mugai-Released:")
	files, err := sanitizetest.Attachments(released)
	if err != nil {
		t.Fatal(err)
	}
	if got := files["genba.png"]; !bytes.Equal(got, secret) {
		t.Errorf("released part: %d bytes, want the original's %d byte for byte (attachments %v)", len(got), len(secret), slices.Sorted(maps.Keys(files)))
	}
	// The requester was told the request waits and was decided; the
	// portal.notify address, outside the accepted mailboxes here, too.
	if n := len(withHeader(readMails(t, box), "Auto-Submitted:")); n < 2 {
		t.Errorf("the requester got %d notices, want one when the request waited and one when it was decided", n)
	}

	// PPAP: a wrong password delivers nothing, the right one the members.
	b.Navigate(link)
	b.Fill(`[id="part-3"] input[name=password]`, "wrong-password")
	b.Submit(`[id="part-3"] button[type=submit]`)
	if got := b.Text(`[id="part-3"]`); !strings.Contains(got, "パスワードが違います") {
		t.Errorf("wrong password not said:\n%s", got)
	}
	shots(t, b, "wrong-password")
	time.Sleep(500 * time.Millisecond)
	if n := len(withHeader(readMails(t, box), "X-Mugai-Unlocked:")); n != 0 {
		t.Fatalf("a wrong password delivered %d unlocked mails", n)
	}
	b.Fill(`[id="part-3"] input[name=password]`, ppapPassword)
	b.Submit(`[id="part-3"] button[type=submit]`)
	shots(t, b, "unlocked")
	unlocked := waitMail(t, box, "X-Mugai-Unlocked:")
	members, err := sanitizetest.Attachments(unlocked)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(members["hello.txt"]); !strings.Contains(got, "パスワード付き ZIP の試験です") {
		t.Errorf("unlocked hello.txt %q (members %v)", got, slices.Sorted(maps.Keys(members)))
	}
	for _, c := range b.Console() {
		t.Errorf("browser console: %s", c)
	}
	for _, ev := range []string{"release-requested", "release-approved", "released", "unlock-failed", "unlocked"} {
		if !slices.Contains(eventNames(auditEvents(t, cfg.Audit, "")), ev) {
			t.Errorf("no %s record", ev)
		}
	}
	if data, _ := os.ReadFile(cfg.Audit); bytes.Contains(data, []byte(ppapPassword)) || bytes.Contains(data, []byte("wrong-password")) {
		t.Error("a password reached the audit log")
	}
}

// photo is a small PNG of noise.
func photo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(rand.IntN(256))
	}
	var png bytes.Buffer
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	return png.Bytes()
}

// wrap76 breaks base64 into lines of 76 characters.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// noticeText is the text part of a rebuilt multipart message.
func noticeText(t *testing.T, msg []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if params["boundary"] == "" {
		return bodyText(t, msg)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	p, err := r.NextRawPart()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(p)
	if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
		raw, _ = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	}
	return string(raw)
}

// shots takes the current page at 1280 px and 375 px, checking that the
// narrow one does not scroll sideways.
func shots(t *testing.T, b *browsertest.Browser, name string) {
	b.Screenshot(name + "-1280")
	b.SetWidth(375)
	if b.Overflows() {
		t.Errorf("%s: the page scrolls sideways at 375 px", name)
	}
	b.Screenshot(name + "-375")
	b.SetWidth(1280)
}

func readMails(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			out[e.Name()] = data
		}
	}
	return out
}

// waitMails waits until dir holds n mails and returns them by name.
func waitMails(t *testing.T, dir string, n int) map[string][]byte {
	t.Helper()
	var got map[string][]byte
	waitFor(t, fmt.Sprintf("%d mails in %s", n, dir), func() bool { got = readMails(t, dir); return len(got) >= n })
	return got
}

// withHeader are the mails holding a header field (name with its colon).
func withHeader(mails map[string][]byte, field string) [][]byte {
	var out [][]byte
	for _, m := range mails {
		head, _, _ := bytes.Cut(m, []byte("\r\n\r\n"))
		if bytes.Contains(head, []byte("\r\n"+field)) || bytes.HasPrefix(head, []byte(field)) {
			out = append(out, m)
		}
	}
	return out
}

// waitMail waits for a mail holding field in dir and returns it.
func waitMail(t *testing.T, dir, field string) []byte {
	t.Helper()
	var got [][]byte
	waitFor(t, field+" mail in "+dir, func() bool { got = withHeader(readMails(t, dir), field); return len(got) > 0 })
	return got[0]
}

// newest is the one mail of all that is not in before.
func newest(all, before map[string][]byte) []byte {
	for k, v := range all {
		if _, ok := before[k]; !ok {
			return v
		}
	}
	return nil
}
