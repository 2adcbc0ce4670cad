package calendar

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) }

// run runs a sanitizer on data and returns its verdict and file.
func run(t *testing.T, s format.Sanitizer, name, typ string, data []byte) (format.Verdict, string) {
	t.Helper()
	var out bytes.Buffer
	v, err := s.Sanitize(context.Background(), format.Part{Filename: name, SniffedType: typ, Size: int64(len(data))}, bytes.NewReader(data), &out)
	if err != nil {
		t.Fatalf("Sanitize: %v", err)
	}
	return v, out.String()
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	s = strings.ReplaceAll(s, "\r\n ", "") // a rebuilt file's folded lines
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func mustNotContain(t *testing.T, what, s string, bads ...string) {
	t.Helper()
	s = strings.ReplaceAll(s, "\r\n ", "")
	for _, b := range bads {
		if strings.Contains(strings.ToLower(s), strings.ToLower(b)) {
			t.Errorf("%s holds %q:\n%s", what, b, s)
		}
	}
}

// TestOutlookInvitation: the text staff read and the file rebuilt from an
// Outlook meeting request.
func TestOutlookInvitation(t *testing.T) {
	data, _ := os.ReadFile("testdata/outlook.ics")
	v, file := run(t, &Disarmer{Now: fixedNow}, "invite.ics", detect.TypeCalendar, data)
	mustContain(t, "body", v.Body,
		"種別 Type: 招待 / invitation (REQUEST)",
		"件名 Subject: 第3回 地域防災計画 打合せ",
		"日時 When: 2026年12月3日（木）14:00–15:00 (Tokyo Standard Time)",
		"場所 Location: 本庁舎 3階 第2会議室",
		"主催者 Organizer: 山田 太郎 <yamada@example.co.jp>",
		"出席者 Attendees (2):",
		"・佐藤 花子 <sato@city.example.lg.jp>",
		"・Suzuki, Ichiro <suzuki@city.example.lg.jp>（任意 optional）",
		"説明 Description:\n  定例の打合せです。\n  資料: https://example.co.jp/docs/agenda.pdf",
	)
	mustNotContain(t, "body", v.Body, "evil.example", "REMINDER")
	if v.Filename != "invite.ics" || !strings.HasPrefix(v.Type, "text/calendar") {
		t.Errorf("file %q type %q", v.Filename, v.Type)
	}
	mustContain(t, "file", file,
		"METHOD:PUBLISH\r\n", "BEGIN:VTIMEZONE\r\nTZID:Tokyo Standard Time\r\n", "TZOFFSETTO:+0900",
		"DTSTART;TZID=Tokyo Standard Time:20261203T140000\r\n", "DTEND;TZID=Tokyo Standard Time:20261203T150000\r\n",
		"UID:040000008200E00074C5B7101A82E00800000000B0A1D2C3E4F5", "DTSTAMP:20261125T013000Z",
		"SUMMARY:第3回 地域防災計画 打合せ", "hxxps://example[.]co[.]jp/docs/agenda.pdf",
		"ORGANIZER;CN=\"山田 太郎\":mailto:yamada@example.co.jp",
		"ATTENDEE;CN=\"Suzuki, Ichiro\";ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:suzuki@city.example.lg.jp")
	mustNotContain(t, "file", file, "VALARM", "X-", "https://", "evil", "METHOD:REQUEST")
	for _, l := range strings.Split(file, "\r\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
	}
	mustContain(t, "notes", noteText(v), "1 alarm removed", "3 extension fields (X-) removed")
	assertReparses(t, file, 1)
}

// assertReparses: the rebuilt file is read back by this parser with every
// event's start.
func assertReparses(t *testing.T, file string, events int) {
	t.Helper()
	p, err := Parse([]byte(file), Limits{})
	if err != nil {
		t.Fatalf("rebuilt file does not parse: %v", err)
	}
	c := ReadCalendar(p)
	if len(c.Events) != events || p.BadLines+p.LongLines > 0 {
		t.Fatalf("rebuilt file: %d events, %d bad lines", len(c.Events), p.BadLines+p.LongLines)
	}
	for _, e := range c.Events {
		if !e.Start.OK || e.UID == "" || !e.Stamp.OK {
			t.Errorf("rebuilt event lacks start, UID or stamp: %+v", e)
		}
	}
}

func noteText(v format.Verdict) string {
	var ss []string
	for _, n := range v.Notes {
		ss = append(ss, n.JA+" / "+n.EN)
	}
	return strings.Join(ss, "\n")
}

// TestGoogleInvitation: UTC times are shown in Japan time; the
// recurrence rule is shown as written; the conference link is not kept.
func TestGoogleInvitation(t *testing.T) {
	data, _ := os.ReadFile("testdata/google.ics")
	v, file := run(t, &Disarmer{Now: fixedNow}, "invite.ics", detect.TypeCalendar, data)
	mustContain(t, "body", v.Body,
		"日時 When: 2026年12月3日（木）14:00–15:00 (日本時間 / Japan time)",
		"繰り返し Repeats: 毎週 weekly (FREQ=WEEKLY;COUNT=4;BYDAY=TH)",
		"・tanaka@example.jp（承諾 accepted）",
		"Google Meet に参加: https://meet.google.com/abc-defg-hij\n\n  この予定についての詳細:")
	if strings.Contains(v.Body, "場所 Location") {
		t.Errorf("an empty location is shown:\n%s", v.Body)
	}
	mustContain(t, "file", file, "DTSTART:20261203T050000Z\r\n", "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=TH\r\n")
	mustNotContain(t, "file", file, "X-NUM-GUESTS", "X-GOOGLE", "https://")
	assertReparses(t, file, 1)
}

// TestAllDayJapanese: a Shift_JIS calendar (mislabelled, as some
// Japanese tools write it) with an all-day event and a multi-day one.
func TestAllDayJapanese(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a1\r\nDTSTART;VALUE=DATE:20261203\r\nDTEND;VALUE=DATE:20261204\r\n" +
		"SUMMARY:市民まつり（表彰式）\r\nLOCATION:中央公園\\, 野外ステージ\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:a2\r\nDTSTART;VALUE=DATE:20261230\r\nDTEND;VALUE=DATE:20270104\r\nSUMMARY:年末年始休業\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	sjis := toShiftJIS(t, ics)
	v, file := run(t, &Disarmer{Now: fixedNow}, "matsuri.ics", detect.TypeCalendar, sjis)
	mustContain(t, "body", v.Body,
		"件名 Subject: 市民まつり（表彰式）",
		"日時 When: 2026年12月3日（木）終日 / all day",
		"場所 Location: 中央公園, 野外ステージ",
		"日時 When: 2026年12月30日（水）～2027年1月3日（日）終日 / all day")
	mustContain(t, "file", file, "DTSTART;VALUE=DATE:20261203\r\n", "DTEND;VALUE=DATE:20261204\r\n",
		"SUMMARY:市民まつり（表彰式）", "LOCATION:中央公園\\, 野外ステージ", "DTSTAMP:20261130T000000Z")
	assertReparses(t, file, 2)
}

// TestCancelled: a cancellation is shown as one and gives no file.
func TestCancelled(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:x\r\nSEQUENCE:2\r\nSTATUS:CANCELLED\r\n" +
		"DTSTART;TZID=Asia/Tokyo:20261203T140000\r\nDURATION:PT1H30M\r\nSUMMARY:中止: 説明会\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	v, file := run(t, &Disarmer{Now: fixedNow}, "cancel.ics", detect.TypeCalendar, []byte(ics))
	mustContain(t, "body", v.Body, "種別 Type: 取消 / cancellation (CANCEL)", "状態 Status: ⚠ この予定は取り消されました",
		"2026年12月3日（木）14:00–15:30 (Asia/Tokyo)")
	if file != "" {
		t.Errorf("a cancellation gave a file:\n%s", file)
	}
	mustContain(t, "notes", noteText(v), "no file is attached")
}

// TestExtractWritesNoFile: extract gives the text only.
func TestExtractWritesNoFile(t *testing.T) {
	data, _ := os.ReadFile("testdata/outlook.ics")
	v, file := run(t, &Extractor{}, "invite.ics", detect.TypeCalendar, data)
	if file != "" || !strings.Contains(v.Body, "第3回 地域防災計画 打合せ") {
		t.Errorf("extract: file %q, body %q", file, v.Body)
	}
}

// TestFormatSpan: how 日時 reads for each shape of event.
func TestFormatSpan(t *testing.T) {
	at := func(v, tzid string) When { return parseWhenValue(v, When{TZID: tzid}) }
	tests := []struct {
		start, end When
		want       string
	}{
		{at("20261203T140000", "Asia/Tokyo"), at("20261203T150000", "Asia/Tokyo"), "2026年12月3日（木）14:00–15:00 (Asia/Tokyo)"},
		{at("20261203T220000", "Asia/Tokyo"), at("20261204T000000", "Asia/Tokyo"), "2026年12月3日（木）22:00–24:00 (Asia/Tokyo)"},
		{at("20261203T140000", "Asia/Tokyo"), at("20261205T100000", "Asia/Tokyo"), "2026年12月3日（木）14:00 – 12月5日（土）10:00 (Asia/Tokyo)"},
		{at("20261231T230000", ""), at("20270101T010000", ""), "2026年12月31日（木）23:00 – 2027年1月1日（金）01:00 (時間帯の指定なし / no time zone given)"},
		{at("20261203T230000Z", ""), at("20261204T000000Z", ""), "2026年12月4日（金）08:00–09:00 (日本時間 / Japan time)"},
		{at("20261203T140000", "Asia/Tokyo"), at("20261203T140000", "Asia/Tokyo"), "2026年12月3日（木）14:00 (Asia/Tokyo)"},
		{at("20261203", ""), at("20261204", ""), "2026年12月3日（木）終日 / all day"},
		{at("20261203", ""), at("20261206", ""), "2026年12月3日（木）～12月5日（土）終日 / all day"},
	}
	for _, tt := range tests {
		if got := formatSpan(tt.start, tt.end); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

// TestJapanTime: an event in another time zone is also shown in Japan
// time, from the time zone database or from a VTIMEZONE without daylight
// saving; one in Japan time, or in a zone with daylight saving rules only
// the file knows, is not.
func TestJapanTime(t *testing.T) {
	cal := func(tzid, zone string) []byte {
		return []byte("BEGIN:VCALENDAR\r\n" + zone + "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=" + tzid + ":20261203T090000\r\n" +
			"DTEND;TZID=" + tzid + ":20261203T100000\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	vtz := func(id string, offs ...string) string {
		s := "BEGIN:VTIMEZONE\r\nTZID:" + id + "\r\n"
		for i, o := range offs {
			kind := []string{"STANDARD", "DAYLIGHT"}[i]
			s += "BEGIN:" + kind + "\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:" + o + "\r\nTZOFFSETTO:" + o + "\r\nEND:" + kind + "\r\n"
		}
		return s + "END:VTIMEZONE\r\n"
	}
	tests := []struct {
		name string
		data []byte
		want string // "" for no Japan-time line
	}{
		{"iana", cal("America/New_York", ""), "　日本時間 In Japan: 2026年12月3日（木）23:00–24:00\n"},
		{"windows name, one offset", cal("China Standard Time", vtz("China Standard Time", "+0800")), "　日本時間 In Japan: 2026年12月3日（木）10:00–11:00\n"},
		{"japan", cal("Asia/Tokyo", ""), ""},
		{"tokyo standard time", cal("Tokyo Standard Time", vtz("Tokyo Standard Time", "+0900", "+0900")), ""},
		{"daylight rules of the file", cal("Eastern Standard Time", vtz("Eastern Standard Time", "-0500", "-0400")), ""},
		{"unknown", cal("Nowhere/Special", ""), ""},
		{"local", cal("Local", ""), ""},
	}
	for _, tt := range tests {
		v, _ := run(t, &Extractor{}, "x.ics", detect.TypeCalendar, tt.data)
		got := ""
		if i := strings.Index(v.Body, "　日本時間 In Japan"); i >= 0 {
			got = v.Body[i : i+strings.IndexByte(v.Body[i:], '\n')+1]
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q\n%s", tt.name, got, tt.want, v.Body)
		}
	}
}
