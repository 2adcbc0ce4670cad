package sanitize

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"mugai/policy"
	"mugai/sanitize/archive"
	"mugai/sanitize/sanitizetest"
)

const vectorPassword = "ppap-Test#2026"

// vectorZip is one of the encrypted ZIPs of archive's test vectors
// (sanitize/archive/testdata/encrypted, made by zip -P and 7-Zip).
func vectorZip(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("archive", "testdata", "encrypted", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unlockRequest(t testing.TB, vector, password string) UnlockRequest {
	return UnlockRequest{
		Archive: vectorZip(t, vector), Filename: "資料.zip", Password: []byte(password),
		Env: Envelope{ID: "20261130T101500-aaaaaaaaaaaa", From: "postmaster@mugai.test", Rcpts: []string{"staff@city.example.lg.jp"},
			Received: time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)},
		OrigID: "20261126T000000-0123456789ab", Part: "3", Subject: "会議資料 (PPAP)", Sender: "sender@example.org",
	}
}

// unlocked is a delivered unlocked message as go-message reads it.
type unlocked struct {
	header mail.Header
	text   string
	files  map[string][]byte
}

func readUnlocked(t *testing.T, msg []byte) unlocked {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("the message does not parse: %v", err)
	}
	u := unlocked{header: mr.Header, files: map[string][]byte{}}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("a part does not parse: %v", err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			u.text += strings.ReplaceAll(string(b), "\r\n", "\n")
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				t.Fatal(err)
			}
			u.files[name] = b
		}
	}
	// The standard library's reader sees the same attachments.
	files, err := sanitizetest.Attachments(msg)
	if err != nil || len(files) != len(u.files) {
		t.Errorf("net/mail sees %d attachments (%v), go-message %d", len(files), err, len(u.files))
	}
	return u
}

// member is what a test expects of one member's decision.
type memberWant struct {
	path, filename string
	action         policy.Action
	reason         policy.Reason
	rule           string
}

func checkDecisions(t *testing.T, got []policy.Decision, want []memberWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d decisions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		d := got[i]
		if d.Path != w.path || d.Filename != w.filename || d.Action != w.action || d.Reason != w.reason || d.RuleID != w.rule || d.MsgID != "20261126T000000-0123456789ab" {
			t.Errorf("decision %d: %s %q %s %s %s (%s), want %+v", i, d.Path, d.Filename, d.Action, d.Reason, d.RuleID, d.MsgID, w)
		}
	}
}

// The committed vectors open through a Rebuilder with the default policy:
// each member decided as in any ZIP, the message parses and holds them.
func TestUnlockVectors(t *testing.T) {
	disarmed := func(path, name, rule string) memberWant {
		return memberWant{path, name, policy.ActionDisarm, policy.ReasonDisarmed, rule}
	}
	tests := []struct {
		vector string
		want   []memberWant
	}{
		// ZipCrypto (zip -P; CP932 names), in the archive's order.
		{"zipcrypto-cp932.zip", []memberWant{disarmed("3/1", "hello.txt", "text-disarm"), disarmed("3/2", "報告書.txt", "text-disarm"),
			disarmed("3/3", "inner.zip", "archive-open"), disarmed("3/3/1", "inner.txt", "text-disarm")}},
		// WinZip AES-256 (7-Zip; UTF-8 names).
		{"aes256.zip", []memberWant{disarmed("3/1", "hello.txt", "text-disarm"), disarmed("3/2", "inner.zip", "archive-open"),
			disarmed("3/2/1", "inner.txt", "text-disarm"), disarmed("3/3", "報告書.txt", "text-disarm")}},
	}
	for _, tc := range tests {
		req := unlockRequest(t, tc.vector, vectorPassword)
		res, err := testRebuilder().Unlock(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", tc.vector, err)
		}
		checkDecisions(t, res.Decisions, tc.want)
		if res.Kept != 3 || res.Removed != 0 {
			t.Errorf("%s: kept %d, removed %d", tc.vector, res.Kept, res.Removed)
		}
		u := readUnlocked(t, res.Message)
		checkUnlockedHeader(t, u.header)
		if len(u.files) != 3 || !strings.Contains(string(u.files["hello.txt"]), "パスワード付き ZIP の試験です") ||
			!strings.Contains(string(u.files["報告書.txt"]), "第8章 令和八年度") {
			t.Errorf("%s: attachments %v", tc.vector, keys(u.files))
		}
		inner, err := archive.Read(u.files["inner.zip"], archive.Limits{})
		if err != nil || len(inner) != 1 || !strings.Contains(string(inner[0].Data), "入れ子の ZIP の中身です") {
			t.Errorf("%s: inner.zip: %v", tc.vector, err)
		}
		for _, s := range []string{"原本 20261126T000000-0123456789ab に添付されていたパスワード付き ZIP ファイル「資料.zip」の中身です",
			"password-protected ZIP file \"資料.zip\"\nof original 20261126T000000-0123456789ab", "opened with the password the recipient entered",
			"・資料.zip › 報告書.txt（CSV、", "・資料.zip › hello.txt（テキスト / text、", "部分 part: 3/1）", "原本保管番号 / Original kept as: 20261126T000000-0123456789ab"} {
			if !strings.Contains(u.text, s) {
				t.Errorf("%s: the notice lacks %q:\n%s", tc.vector, s, u.text)
			}
		}
		if bytes.Contains(res.Message, []byte(vectorPassword)) || strings.Contains(u.text, vectorPassword) {
			t.Errorf("%s: the message holds the password", tc.vector)
		}
	}
}

func checkUnlockedHeader(t *testing.T, h mail.Header) {
	t.Helper()
	subject, err := h.Subject()
	if err != nil || subject != "開封済み: 会議資料 (PPAP)" {
		t.Errorf("Subject %q (%v)", subject, err)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?") {
		t.Errorf("Subject not RFC 2047-encoded: %q", raw)
	}
	from, _ := h.AddressList("From")
	to, _ := h.AddressList("To")
	if len(from) != 1 || from[0].Address != "postmaster@mugai.test" || len(to) != 1 || to[0].Address != "staff@city.example.lg.jp" {
		t.Errorf("From %v, To %v", from, to)
	}
	if id, err := h.MessageID(); err != nil || id != "20261130T101500-aaaaaaaaaaaa@mugai.test" {
		t.Errorf("Message-ID %q (%v)", id, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("Date %v (%v)", d, err)
	}
	if got := h.Get("X-Mugai-Unlocked"); got != "20261126T000000-0123456789ab part 3" {
		t.Errorf("X-Mugai-Unlocked %q", got)
	}
	if got := h.Get("X-Mugai-Id"); got != "20261130T101500-aaaaaaaaaaaa" {
		t.Errorf("X-Mugai-Id %q", got)
	}
	if h.Get("Received") != "" {
		t.Error("a Received field on a message the gateway made")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A wrong password gives ErrWrongPassword and no message.
func TestUnlockWrongPassword(t *testing.T) {
	for _, vector := range []string{"zipcrypto-deflate.zip", "aes256.zip"} {
		res, err := testRebuilder().Unlock(context.Background(), unlockRequest(t, vector, "ppap-Test#2025"))
		if !errors.Is(err, ErrWrongPassword) || res != nil {
			t.Errorf("%s: %v, %v", vector, res, err)
		}
	}
}

// An executable member is removed and the notice says so; an encrypted
// ZIP inside stays removed as an encrypted archive; the text is kept.
func TestUnlockHostileMembers(t *testing.T) {
	res, err := testRebuilder().Unlock(context.Background(), unlockRequest(t, "hostile-aes256.zip", vectorPassword))
	if err != nil {
		t.Fatal(err)
	}
	checkDecisions(t, res.Decisions, []memberWant{
		{"3/1", "locked.zip", policy.ActionStrip, policy.ReasonEncryptedArchive, policy.RuleEncrypted.ID},
		{"3/2", "note.txt", policy.ActionDisarm, policy.ReasonDisarmed, "text-disarm"},
		{"3/3", "setup.exe", policy.ActionStrip, policy.ReasonDangerousType, policy.RuleDangerous.ID},
	})
	if res.Kept != 1 || res.Removed != 2 {
		t.Errorf("kept %d, removed %d", res.Kept, res.Removed)
	}
	u := readUnlocked(t, res.Message)
	if len(u.files) != 1 || u.files["note.txt"] == nil {
		t.Errorf("attachments %v", keys(u.files))
	}
	for _, s := range []string{"・資料.zip › setup.exe", policy.RuleDangerous.Reason.JA, policy.RuleDangerous.Reason.EN,
		"・資料.zip › locked.zip", policy.ReasonEncryptedArchive.Notice().JA, "→ 削除 / removed"} {
		if !strings.Contains(u.text, s) {
			t.Errorf("the notice lacks %q:\n%s", s, u.text)
		}
	}
}

// What is not an encrypted ZIP, or a ZIP the policy would not open, is
// refused with its own error and no message.
func TestUnlockRefused(t *testing.T) {
	strictYAML, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	strict, err := policy.Parse("strict.yaml", strictYAML, policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	plainZip := makeZip(t, zipEntry{name: "a.txt", data: []byte("hello")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		rb   *Rebuilder
		ctx  context.Context
		edit func(*UnlockRequest)
		want error
	}{
		{"a plain ZIP", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.Archive = plainZip }, ErrNotEncrypted},
		{"a PDF", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.Archive = []byte("%PDF-1.4\n%%EOF\n") }, ErrNotEncrypted},
		{"a policy that does not open ZIPs", &Rebuilder{Policy: strict, Hostname: "mugai.test"}, context.Background(), func(*UnlockRequest) {}, ErrNotOpened},
		{"an encrypted ZIP named .exe", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.Filename = "資料.exe" }, ErrNotOpened},
		// The rebuild removes an unencrypted ZIP declared as a PDF, or named
		// two ways, as disguised: so is an encrypted one.
		{"an encrypted ZIP declared a PDF", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.DeclaredType = "application/pdf" }, ErrNotOpened},
		{"an encrypted ZIP named .zip and .pdf", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.Filenames = []string{"資料.zip", "資料.pdf"} }, ErrNotOpened},
		{"a truncated ZIP", testRebuilder(), context.Background(), func(r *UnlockRequest) { r.Archive = r.Archive[:len(r.Archive)-30] }, ErrNotEncrypted},
		{"an archive over the members' limit", &Rebuilder{Policy: policy.Default(), Limits: Limits{MaxArchiveMembers: 2}}, context.Background(), func(*UnlockRequest) {}, archive.ErrTooMany},
		{"the deadline passed", testRebuilder(), ctx, func(*UnlockRequest) {}, ErrDeadline},
	}
	for _, tc := range tests {
		req := unlockRequest(t, "aes256.zip", vectorPassword)
		tc.edit(&req)
		res, err := tc.rb.Unlock(tc.ctx, req)
		if !errors.Is(err, tc.want) || res != nil {
			t.Errorf("%s: %v, %v; want %v", tc.name, res, err, tc.want)
		}
	}
}

// Rules that match on the sender and its authentication decide members as
// they would in the original's rebuild, given the original's sender and
// TrustedAuth of its header.
func TestUnlockSenderRules(t *testing.T) {
	pol, err := policy.Parse("sender.yaml", []byte(`authentication:
  authserv_ids: [mx.pref.example.lg.jp]
rules:
`+bodyRuleYAML+`  - id: bad-sender
    clause: "6(6)"
    match: {role: attachment, sender: "*@bad.example", type: text/plain}
    action: strip
    reason: {ja: この差出人の添付は削除, en: this sender's attachments are removed}
  - id: partner-keep
    clause: "6(6)"
    match: {role: attachment, sender: "*.lg.jp", authenticated: dmarc, type: text/plain}
    action: keep
    reason: {ja: 連携自治体のテキスト, en: text from a partner municipality}
  - id: archive-open
    clause: "2(13)"
    match: {role: attachment, type: application/zip}
    action: disarm
    reason: {ja: ZIP を開いた, en: ZIP opened}
  - id: text-disarm
    clause: "2(13)"
    match: {role: attachment, type: text/plain}
    action: disarm
    reason: {ja: テキストを作り直した, en: text rewritten}
  - id: strip-rest
    clause: "6(3)②"
    match: {role: attachment}
    action: strip
    reason: {ja: 添付は削除, en: attachments removed}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	rb := &Rebuilder{Policy: pol, Hostname: "mugai.test", Sanitizers: fastSanitizers()}
	trusted := "Authentication-Results: mx.pref.example.lg.jp;\r\n dmarc=pass header.from=town.example.lg.jp\r\nReceived: from outside by mx.pref.example.lg.jp\r\nSubject: x\r\n\r\nbody\r\n"
	forged := "Received: from outside by mx.pref.example.lg.jp\r\nAuthentication-Results: mx.pref.example.lg.jp; dmarc=pass header.from=town.example.lg.jp\r\n\r\nbody\r\n"
	for _, tc := range []struct {
		name, sender, original, rule string
	}{
		{"a sender the policy strips", "a@bad.example", "", "bad-sender"},
		{"a partner with a trusted DMARC pass", "a@town.example.lg.jp", trusted, "partner-keep"},
		{"a partner with a pass written below the upstream", "a@town.example.lg.jp", forged, "text-disarm"},
		{"no sender given", "", trusted, "text-disarm"},
	} {
		req := unlockRequest(t, "aes256.zip", vectorPassword)
		req.Sender, req.Auth = tc.sender, rb.TrustedAuth(strings.NewReader(tc.original))
		res, err := rb.Unlock(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if d := res.Decisions[0]; d.Filename != "hello.txt" || d.RuleID != tc.rule {
			t.Errorf("%s: %s decided by %s, want %s", tc.name, d.Filename, d.RuleID, tc.rule)
		}
	}
}

// With the original's portal page in the envelope, the notice links to it
// (the one live link); without it, it names the admin.
func TestUnlockPortalLink(t *testing.T) {
	const link = "http://127.0.0.1:8025/m/AbC_d-1.x"
	req := unlockRequest(t, "hostile-aes256.zip", vectorPassword)
	req.Env.Portal = link
	res, err := testRebuilder().Unlock(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, line := range strings.Split(readUnlocked(t, res.Message).text, "\n") {
		if l := sanitizetest.LiveLink(line); l != "" {
			live = append(live, line)
		}
	}
	if len(live) != 1 || strings.TrimSpace(live[0]) != link {
		t.Errorf("live links %q, want only the portal's", live)
	}
	req.Env.Portal = ""
	if res, err = testRebuilder().Unlock(context.Background(), req); err != nil || !strings.Contains(readUnlocked(t, res.Message).text, "ask the mail administrator") {
		t.Errorf("without a portal: %v", err)
	}
}

// FindLocked gives Unlock what the rebuild decided the part on: its
// declared type and every name it gives.
func TestFindLocked(t *testing.T) {
	msg := "From: s@example.jp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.zip\r\n\r\nPK\r\n--b--\r\n"
	p, err := FindLocked(strings.NewReader(msg), "2", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.DeclaredType != "application/pdf" || len(p.Filenames) != 2 || p.SHA256 != sha256Hex(p.Body) {
		t.Errorf("found %+v", p)
	}
	if _, err := FindLocked(strings.NewReader(msg), "3", Limits{}); err == nil {
		t.Error("found a part the message does not have")
	}
}

// An unlocked message says what was done in X-Mugai-Actions, as every
// message mugai delivers does, and its notice follows the policy's
// notice_languages.
func TestUnlockActionsAndLanguages(t *testing.T) {
	req := unlockRequest(t, "aes256.zip", vectorPassword)
	res, err := testRebuilder().Unlock(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	u := readUnlocked(t, res.Message)
	if got := u.header.Get("X-Mugai-Actions"); got != "no-body; disarm=4" {
		t.Errorf("X-Mugai-Actions %q, want the members' decisions", got)
	}
	if !strings.Contains(u.text, "The password entered was not stored.") {
		t.Errorf("the default notice lacks its English:\n%s", u.text)
	}
	rb := testRebuilder()
	rb.Policy.Body.NoticeLanguages = []string{policy.LangJA}
	if res, err = rb.Unlock(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	u = readUnlocked(t, res.Message)
	for _, en := range []string{"Sanitization notice", "password-protected ZIP file", "Parts changed or removed", "The password entered", "Original kept as", "clause:"} {
		if strings.Contains(u.text, en) {
			t.Errorf("notice_languages [ja]: the notice has %q:\n%s", en, u.text)
		}
	}
	for _, ja := range []string{"【無害化処理のお知らせ】", "パスワード付き ZIP ファイル「資料.zip」", "処理した部分:", "原本保管番号: 20261126T000000-0123456789ab"} {
		if !strings.Contains(u.text, ja) {
			t.Errorf("notice_languages [ja]: the notice lacks %q:\n%s", ja, u.text)
		}
	}
}
