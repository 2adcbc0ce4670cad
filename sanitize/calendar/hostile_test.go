package calendar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

func toShiftJIS(t *testing.T, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qp writes bytes as quoted-printable, every byte encoded, soft line
// breaks every 60 characters (as old phones write vCard 2.1).
func qp(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%20 == 0 {
			s.WriteString("=\r\n")
		}
		fmt.Fprintf(&s, "=%02X", c)
	}
	return s.String()
}

// TestHostileCalendar: alarms that run programs, attachments, script and
// web links, ten thousand attendees, a 1 MB folded line, bad dates and
// nested components: the text shows what staff need, the file holds none
// of the rest.
func TestHostileCalendar(t *testing.T) {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nX-WR-CALNAME:x\r\n")
	b.WriteString("BEGIN:VEVENT\r\nUID:evil\r\nDTSTAMP:20261125T013000Z\r\nDTSTART:20261203T050000Z\r\nDTEND:20261203T060000Z\r\n")
	b.WriteString("SUMMARY:請求書の確認\r\nURL:https://evil.example/login\r\n")
	b.WriteString("DESCRIPTION:ここをクリック javascript:alert(1) または http://evil.example/a?b=c\r\n")
	b.WriteString("ATTACH;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=application/x-msdownload:TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQA==\r\n")
	b.WriteString("ATTACH:http://evil.example/payload.exe\r\n")
	b.WriteString("BEGIN:VALARM\r\nACTION:AUDIO\r\nATTACH;FMTTYPE=audio/basic:ftp://evil.example/a.wav\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n")
	b.WriteString("BEGIN:VALARM\r\nACTION:PROCEDURE\r\nATTACH:file:///C:/Windows/System32/calc.exe\r\nTRIGGER:-PT1M\r\nEND:VALARM\r\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "ATTENDEE;CN=\"User %d\";RSVP=TRUE:mailto:u%d@example.jp\r\n", i, i)
	}
	b.WriteString("X-HUGE:" + strings.Repeat("A", 74) + "\r\n")
	for range 1 << 20 / 74 {
		b.WriteString(" " + strings.Repeat("B", 73) + "\r\n")
	}
	b.WriteString("END:VEVENT\r\n")
	b.WriteString("BEGIN:VEVENT\r\nUID:bad\r\nDTSTART:20261331T250000\r\nSUMMARY:壊れた日付\r\nBEGIN:VTODO\r\nSUMMARY:nested\r\nEND:VTODO\r\nEND:VEVENT\r\n")
	b.WriteString("BEGIN:VTODO\r\nSUMMARY:task\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")

	v, file := run(t, &Disarmer{Now: fixedNow}, "invite.ics", detect.TypeCalendar, []byte(b.String()))
	mustContain(t, "body", v.Body, "件名 Subject: 請求書の確認", "出席者 Attendees (10000):", "ほか 9950 名 / and 9950 others",
		"件名 Subject: 壊れた日付", "日時 When: （日時を読み取れませんでした")
	if n := strings.Count(v.Body, "\n  ・"); n != maxShownAttendees {
		t.Errorf("%d attendees shown, want %d", n, maxShownAttendees)
	}
	mustNotContain(t, "file", file, "VALARM", "ATTACH", "PROCEDURE", "AUDIO", "TVqQ", "X-", "javascript:", "http://", "https://", "file:", "VTODO", "BBBB")
	mustContain(t, "file", file, "javascript[:]alert(1)", "hxxp://evil[.]example/a?b=c", "ATTENDEE;CN=\"User 9999\";RSVP=TRUE:mailto:u9999@example.jp")
	mustContain(t, "notes", noteText(v), "2 alarms removed", "2 files attached to the event removed", "1 URL or conference link field removed",
		"1 extension field (X-) removed", "2 other components", "1 unreadable or over-long line left out")
	assertReparses(t, file, 1) // the event with a bad date is not written
}

// TestLimits: what is over a limit fails the file (the part is removed),
// never holds unbounded memory.
func TestLimits(t *testing.T) {
	deep := "BEGIN:VCALENDAR\r\n" + strings.Repeat("BEGIN:X\r\n", 10) + strings.Repeat("END:X\r\n", 10) + "END:VCALENDAR\r\n"
	tests := []struct {
		name, data string
		want       error
	}{
		{"nesting", deep, ErrLimit},
		{"components", strings.Repeat("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 3000), ErrLimit},
		{"properties", "BEGIN:VCALENDAR\r\n" + strings.Repeat("X-A:1\r\n", 40000) + "END:VCALENDAR\r\n", ErrLimit},
		{"unclosed", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", ErrStructure},
		{"crossed", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\nEND:VEVENT\r\n", ErrStructure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{SniffedType: detect.TypeCalendar}, strings.NewReader(tt.data), &bytes.Buffer{})
			if !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
		})
	}
	big := strings.Repeat("X", 9<<20)
	if _, err := (&Extractor{}).Sanitize(context.Background(), format.Part{SniffedType: detect.TypeCalendar}, strings.NewReader(big), &bytes.Buffer{}); err == nil {
		t.Error("a 9 MiB file was read")
	}
}

// TestVCard21ShiftJIS: an old Japanese phone's vCard 2.1, its values
// quoted-printable Shift_JIS with soft line breaks, a raw Shift_JIS card
// holding 0x5C trail bytes, and a vCard 4.0 with a photo and a URL.
func TestVCard21ShiftJIS(t *testing.T) {
	sj := func(s string) string { return qp(toShiftJIS(t, s)) }
	card := "BEGIN:VCARD\r\nVERSION:2.1\r\n" +
		"N;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:" + sj("山田") + ";" + sj("太郎") + ";;;\r\n" +
		"ORG;CHARSET=SHIFT_JIS;QUOTED-PRINTABLE:" + sj("〇〇市役所;総務部 情報政策課") + "\r\n" +
		"TEL;CELL;VOICE:090-1234-5678\r\nTEL;WORK:03-1234-5678\r\nEMAIL;INTERNET:yamada@example.jp\r\n" +
		"ADR;WORK;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:;;" + sj("千代田1-1") + ";" + sj("千代田区") + ";" + sj("東京都") + ";100-0001;\r\n" +
		"NOTE;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:" + sj("表計算の担当です。詳細は http://evil.example/ へ") + "\r\n" +
		"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\r\n  AAAQABAAD\r\n\r\n" +
		"SOUND;X-IRMC-N;CHARSET=SHIFT_JIS:" + string(toShiftJIS(t, "ﾔﾏﾀﾞ")) + "\r\nEND:VCARD\r\n" +
		string(toShiftJIS(t, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:表 申\r\nTITLE:表示係長\r\nEND:VCARD\r\n")) +
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Doe\r\nPHOTO:data:image/jpeg;base64,AAAA\r\nURL:https://evil.example\r\nKEY:x\r\n" +
		"item1.EMAIL;TYPE=work:jane@example.com\r\nEND:VCARD\r\n"
	v, file := run(t, &Disarmer{}, "yamada.vcf", detect.TypeVCard, []byte(card))
	mustContain(t, "body", v.Body, "氏名 Name: 山田 太郎", "所属 Organization: 〇〇市役所 総務部 情報政策課",
		"電話 Phone: 090-1234-5678（携帯 mobile）", "電話 Phone: 03-1234-5678（勤務先 work）", "メール Email: yamada@example.jp",
		"住所 Address: 〒100-0001 東京都 千代田区 千代田1-1（勤務先 work）", "メモ Note:\n  表計算の担当です。",
		"氏名 Name: 表 申", "役職 Title: 表示係長", "氏名 Name: Jane Doe", "メール Email: jane@example.com（勤務先 work）")
	mustNotContain(t, "body", v.Body, "\ufffd", "ﾔﾏﾀﾞ")
	mustContain(t, "file", file, "VERSION:3.0\r\nFN:山田 太郎\r\nN:山田;太郎;;;\r\n", "ORG:〇〇市役所;総務部 情報政策課\r\n",
		"TEL;TYPE=cell,voice:090-1234-5678", "ADR;TYPE=work:;;千代田1-1;千代田区;東京都;100-0001;\r\n",
		"hxxp://evil[.]example/", "FN:表 申", "EMAIL;TYPE=internet,work:jane@example.com")
	mustNotContain(t, "file", file, "PHOTO", "SOUND", "URL", "KEY", "BASE64", "https://", "CHARSET", "\ufffd")
	if v.Filename != "yamada.vcf" || !strings.HasPrefix(v.Type, "text/vcard") {
		t.Errorf("file %q type %q", v.Filename, v.Type)
	}
	p, err := Parse([]byte(file), Limits{})
	if err != nil || len(ReadContacts(p)) != 3 {
		t.Fatalf("rebuilt cards do not read back: %v", err)
	}
}

// TestParseLine: parameters with quoted values, vCard 2.1 bare
// parameters, groups, RFC 6868 escapes.
func TestParseLine(t *testing.T) {
	tests := []struct {
		line, name, param, pval, value string
	}{
		{`ATTENDEE;CN="Doe; John: Jr.";ROLE=CHAIR:mailto:j@example.jp`, "ATTENDEE", "CN", "Doe; John: Jr.", "mailto:j@example.jp"},
		{`DTSTART;TZID=Asia/Tokyo:20261203T140000`, "DTSTART", "TZID", "Asia/Tokyo", "20261203T140000"},
		{`TEL;CELL;VOICE:090`, "TEL", "TYPE", "CELL", "090"},
		{`item1.EMAIL;type=INTERNET:a@b`, "EMAIL", "TYPE", "INTERNET", "a@b"},
		{`X-A;P="say ^'hi^'":v`, "X-A", "P", `say "hi"`, "v"},
		{`summary:lower case name`, "SUMMARY", "", "", "lower case name"},
	}
	for _, tt := range tests {
		p, ok := parseLine(tt.line)
		if !ok || p.Name != tt.name || p.Value != tt.value || tt.param != "" && p.Param(tt.param) != tt.pval {
			t.Errorf("%q: %+v %v", tt.line, p, ok)
		}
	}
	for _, bad := range []string{"no colon", ";X:y", `A;P="unterminated:v`, "A B:c"} {
		if _, ok := parseLine(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestDurationsAndDates: the value grammars.
func TestDurationsAndDates(t *testing.T) {
	for s, ok := range map[string]bool{"PT1H30M": true, "P1D": true, "P2W": true, "-PT15M": true, "P1DT2H": true,
		"P": false, "PT": false, "P1H": false, "PT1D": false, "P1W2D": false, "1H": false, "P99999999D": false} {
		if _, got := ParseDuration(s); got != ok {
			t.Errorf("ParseDuration(%q) ok=%v", s, got)
		}
	}
	for s, ok := range map[string]bool{"20261203": true, "20261203T140000": true, "20261203T140000Z": true,
		"20261331": false, "20261203T250000": false, "2026120": false, "20261203T1400": false, "+0261203": false} {
		if got := parseWhenValue(s, When{}).OK; got != ok {
			t.Errorf("parseWhenValue(%q) ok=%v", s, got)
		}
	}
}

// TestLinksInIdentifiers: a UID, a TZID or a zone name holding a link
// ("http://" alone, a full URL, www., a UNC path, a full-width scheme) is
// not written back as it is; an identifier becomes a name derived from
// it, the same for the same input, so an update still matches its event
// and the event still finds its zone; plain identifiers are kept.
func TestLinksInIdentifiers(t *testing.T) {
	cal := func(uid, tzid, tzname string) []byte {
		esc := strings.NewReplacer(`\`, `\\`).Replace // TEXT values escape "\"; parameters do not
		return []byte("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:" + esc(tzid) + "\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n" +
			"TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nTZNAME:" + esc(tzname) + "\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
			"BEGIN:VEVENT\r\nUID:" + esc(uid) + "\r\nDTSTART;TZID=\"" + tzid + "\":20261203T090000\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	for _, link := range []string{"http://", "https://evil.example/x", "www.evil.example", `\\evil\share`, "ｈｔｔｐ：／／evil.example", "file:///C:/x.exe"} {
		_, file := run(t, &Disarmer{Now: fixedNow}, "x.ics", detect.TypeCalendar, cal(link, link, link))
		_, again := run(t, &Disarmer{Now: fixedNow}, "x.ics", detect.TypeCalendar, cal(link, link, link))
		unfolded := strings.ReplaceAll(file, "\r\n ", "")
		read := strings.ReplaceAll(unfolded, `\\`, `\`) // as a client reads the TEXT values
		if strings.Contains(read, link) || text.Defang(read) != read || file != again {
			t.Errorf("%q written back:\n%s", link, unfolded)
		}
		p, err := Parse([]byte(file), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		c := ReadCalendar(p)
		if len(c.Events) != 1 || !strings.HasSuffix(c.Events[0].UID, "@mugai.invalid") || c.Zones[c.Events[0].Start.TZID] == nil {
			t.Errorf("%q: event or zone lost: %+v\n%s", link, c.Events, unfolded)
		}
	}
	_, file := run(t, &Disarmer{Now: fixedNow}, "x.ics", detect.TypeCalendar, cal("abc@google.com", "China Standard Time", "CST"))
	for _, want := range []string{"UID:abc@google.com\r\n", "TZID:China Standard Time\r\n", "TZNAME:CST\r\n", ";TZID=China Standard Time:"} {
		if !strings.Contains(file, want) {
			t.Errorf("plain identifier changed, no %q:\n%s", want, file)
		}
	}
}
