package sanitize

import (
	"bytes"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/calendar"
	"mugai/sanitize/detect"
	"mugai/sanitize/sanitizetest"
)

// calendarRebuilder is the test rebuilder with the calendar sanitizers
// main registers.
func calendarRebuilder() *Rebuilder {
	rb := testRebuilder()
	rb.Sanitizers.Register(policy.ActionExtract, &calendar.Extractor{}, calendar.Types...)
	rb.Sanitizers.Register(policy.ActionDisarm, &calendar.Disarmer{}, calendar.Types...)
	return rb
}

func readCalendarFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("calendar/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// meetingRequest builds a meeting request as Outlook (and Google) send
// it: multipart/mixed holding multipart/alternative (text/plain,
// text/html, text/calendar; method=REQUEST) and the same calendar as an
// attachment, declared as attachType and named invite.ics.
func meetingRequest(ics, attachType string) string {
	b64 := base64.StdEncoding.EncodeToString([]byte(ics))
	var wrapped strings.Builder
	for len(b64) > 76 {
		wrapped.WriteString(b64[:76] + "\n")
		b64 = b64[76:]
	}
	wrapped.WriteString(b64 + "\n")
	return crlf("From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@example.co.jp>\nTo: sato@city.example.lg.jp\n" +
		"Subject: =?UTF-8?B?56ysM+WbniDlnLDln5/pmLLngb3oqIjnlLsg5omT5ZCI44Gb?=\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=mixed\n\n--mixed\nContent-Type: multipart/alternative; boundary=alt\n\n" +
		"--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" +
		"佐藤様\n\n打合せを下記のとおり開催します。\n\n--alt\nContent-Type: text/html; charset=utf-8\n\n" +
		"<html><body><p>佐藤様</p><p>打合せを下記のとおり開催します。</p></body></html>\n" +
		"--alt\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\nContent-Transfer-Encoding: base64\n\n" +
		wrapped.String() + "--alt--\n\n--mixed\nContent-Type: " + attachType + "; name=\"invite.ics\"\n" +
		"Content-Disposition: attachment; filename=\"invite.ics\"\nContent-Transfer-Encoding: base64\n\n" +
		wrapped.String() + "--mixed--\n")
}

// TestMeetingRequest: the event is rendered once into the body after
// the body text, the calendar alternative is an extract by the calendar
// rule, and invite.ics (declared application/ics by Outlook, text/calendar
// by Google) is rebuilt and attached.
func TestMeetingRequest(t *testing.T) {
	tests := []struct {
		name, fixture, attachType, when string
	}{
		{"outlook", "outlook.ics", "application/ics", "日時 When: 2026年12月3日（木）14:00–15:00 (Tokyo Standard Time)"},
		{"google", "google.ics", "text/calendar; method=REQUEST", "日時 When: 2026年12月3日（木）14:00–15:00 (日本時間 / Japan time)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := calendarRebuilder().Rebuild(testEnvelope, strings.NewReader(meetingRequest(readCalendarFixture(t, tt.fixture), tt.attachType)))
			if err != nil {
				t.Fatal(err)
			}
			out, err := parseOutput(res.Message)
			if err != nil {
				t.Fatal(err)
			}
			if testing.Verbose() {
				t.Logf("%s", res.Message)
			}
			body := out.text
			i, j := strings.Index(body, "打合せを下記のとおり開催します。"), strings.Index(body, "――― 予定表 / Calendar ―――")
			if i < 0 || j < i {
				t.Fatalf("the event is not after the body text:\n%s", body)
			}
			if n := strings.Count(body, "種別 Type: 招待 / invitation (REQUEST)"); n != 1 {
				t.Errorf("the event is in the body %d times:\n%s", n, body)
			}
			for _, want := range []string{tt.when, "hxxps://"} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
			if strings.Contains(body, "https://") && !strings.Contains(body, "https://portal") {
				t.Errorf("a live link in the body:\n%s", body)
			}
			files := attachmentsOf(t, res.Message)
			ics, ok := files["invite.ics"]
			if !ok || len(files) != 1 || !strings.Contains(string(ics), "METHOD:PUBLISH\r\n") || strings.Contains(string(ics), "X-") {
				t.Fatalf("attachments %v:\n%s", keys(files), ics)
			}
			var alt, att *policy.Decision
			for k := range res.Decisions {
				switch d := &res.Decisions[k]; d.Path {
				case "1.3":
					alt = d
				case "2":
					att = d
				}
			}
			if alt == nil || alt.RuleID != "calendar" || alt.Action != policy.ActionExtract || alt.Reason != policy.ReasonExtracted {
				t.Errorf("calendar alternative: %+v", alt)
			}
			if att == nil || att.RuleID != "calendar" || att.Action != policy.ActionDisarm || att.DetectedType != "text/calendar" {
				t.Errorf("invite.ics: %+v", att)
			}
		})
	}
}

// TestCalendarPolicy: extract drops the file; a policy without a
// calendar rule leaves the alternative unused and strips the attachment,
// as before.
func TestCalendarPolicy(t *testing.T) {
	msg := meetingRequest(readCalendarFixture(t, "outlook.ics"), "application/ics")
	extract := calendarRebuilder()
	extract.Policy = policy.Default()
	var without []policy.Rule
	for _, r := range extract.Policy.Rules {
		if r.ID == "calendar" {
			r.Action = policy.ActionExtract
		}
		without = append(without, r)
	}
	extract.Policy.Rules = without
	res, err := extract.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := parseOutput(res.Message)
	if files := attachmentsOf(t, res.Message); len(files) != 0 || !strings.Contains(out.text, "件名 Subject: 第3回 地域防災計画 打合せ") {
		t.Errorf("extract: files %v, body:\n%s", keys(files), out.text)
	}

	strict := calendarRebuilder()
	strict.Policy = policy.Default()
	without = nil
	for _, r := range strict.Policy.Rules {
		if r.ID != "calendar" {
			without = append(without, r)
		}
	}
	strict.Policy.Rules = without
	res, err = strict.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = parseOutput(res.Message)
	if strings.Contains(out.text, "予定表 / Calendar") || len(attachmentsOf(t, res.Message)) != 0 {
		t.Errorf("without a calendar rule:\n%s", out.text)
	}
	for _, d := range res.Decisions {
		if d.Path == "1.3" && d.Reason != policy.ReasonAlternativeUnused || d.Path == "2" && d.RuleID != "attachment-strip" {
			t.Errorf("without a calendar rule: %+v", d)
		}
	}
}

// TestContactCardAttachment: a vCard from an old phone is written into
// the body and attached as a vCard 3.0.
func TestContactCardAttachment(t *testing.T) {
	card := "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:=8E=52=93=63;=91=BE=98=59;;;\r\n" +
		"TEL;CELL:090-1234-5678\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ\r\n\r\nEND:VCARD\r\n"
	res, err := calendarRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("text/x-vcard", "yamada.vcf", []byte(card))))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := parseOutput(res.Message)
	files := attachmentsOf(t, res.Message)
	vcf := string(files["yamada.vcf"])
	if !strings.Contains(out.text, "氏名 Name: 山田 太郎\n電話 Phone: 090-1234-5678（携帯 mobile）") ||
		!strings.Contains(vcf, "VERSION:3.0\r\nFN:山田 太郎\r\n") || strings.Contains(vcf, "PHOTO") {
		t.Errorf("body:\n%s\nfile:\n%s", out.text, vcf)
	}
}

// TestCalendarDeliveredSafely: the active-format samples for .ics and
// .vcf (an ATTACH, a URL) as attachments, in a ZIP and in a forwarded
// message: whatever is delivered is mugai's rebuilt file (or the event's
// text in a ZIP), typed as what it is, and holds no live link. An event
// without a date gives no file.
func TestCalendarDeliveredSafely(t *testing.T) {
	safe := map[string]string{"ics": "text/calendar", "vcf": "text/vcard", "txt": "text/plain", "zip": "application/zip", "eml": "message/rfc822"}
	rb := calendarRebuilder()
	for _, c := range activeText {
		if c.ext != "ics" && c.ext != "vcf" {
			continue
		}
		file, body := "sample."+c.ext, []byte(c.body)
		for vname, msg := range map[string]string{
			"octet-stream": withAttachment("application/octet-stream", file, body),
			"zip":          withAttachment("application/zip", "files.zip", makeZip(t, zipEntry{name: "dir/" + file, data: body})),
			"forwarded":    forwardedWith(withAttachment("application/octet-stream", file, body)),
		} {
			res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			var files []deliveredFile
			if err := collectFiles(res.Message, "", &files, 0); err != nil {
				t.Fatalf("%s/%s: %v", c.ext, vname, err)
			}
			found := false
			for _, f := range files {
				ext := detect.Ext(f.name)
				found = found || ext == c.ext || vname == "zip" && ext == "txt"
				if want, ok := safe[ext]; !ok || f.ctype != "" && f.ctype != want {
					t.Errorf("%s/%s: delivered %s as %s", c.ext, vname, f.name, f.ctype)
				}
				if strings.Contains(string(f.data), "https://evil") || strings.Contains(string(f.data), "ATTACH") {
					t.Errorf("%s/%s: %s holds the payload:\n%s", c.ext, vname, f.name, f.data)
				}
			}
			if !found && c.ext == "vcf" { // the .ics sample has no date: its text only, no file
				t.Errorf("%s/%s: the rebuilt file is missing: %v", c.ext, vname, files)
			}
		}
	}
}

// FuzzCalendarMessage: meeting requests and contact cards, mutated,
// through the default policy with the calendar sanitizers: no error, the
// output re-parses, only rebuilt calendars, cards and text are attached,
// and neither the body nor a rebuilt file holds a link a client would
// follow.
func FuzzCalendarMessage(f *testing.F) {
	for _, name := range []string{"outlook.ics", "google.ics"} {
		b, err := os.ReadFile("calendar/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(meetingRequest(string(b), "application/ics")))
	}
	f.Add([]byte(withAttachment("text/x-vcard", "a.vcf", []byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS;QUOTED-PRINTABLE:=8E=52=\r\n=93=63\r\nURL:https://x.example/\r\nEND:VCARD\r\n"))))
	rb := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: fastSanitizers(),
		Limits: Limits{MaxDepth: 8, MaxParts: 50, MaxHeaderBytes: 4096, MaxPartBytes: 1 << 20}}
	rb.Sanitizers.Register(policy.ActionExtract, &calendar.Extractor{}, calendar.Types...)
	rb.Sanitizers.Register(policy.ActionDisarm, &calendar.Disarmer{}, calendar.Types...)
	allowed := map[string]bool{"multipart/mixed": true, "text/plain": true, "text/calendar": true, "text/vcard": true}
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := rb.Rebuild(testEnvelope, bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		out, err := parseOutput(res.Message)
		if err != nil {
			t.Fatalf("output does not re-parse: %v", err)
		}
		for _, typ := range out.types {
			if !allowed[typ] {
				return // other sanitizers' output (images, ZIPs…): FuzzRebuild's concern
			}
		}
		if l := sanitizetest.LiveLink(out.text); l != "" {
			t.Fatalf("live link in the body: %.80q", l)
		}
		files, err := sanitizetest.Attachments(res.Message)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			unfolded := strings.ReplaceAll(string(data), "\r\n ", "")
			if l := sanitizetest.LiveLink(strings.ReplaceAll(unfolded, "mailto:", "")); l != "" && (strings.HasSuffix(name, ".ics") || strings.HasSuffix(name, ".vcf")) {
				t.Fatalf("live link in %s: %.80q", name, l)
			}
		}
	})
}
