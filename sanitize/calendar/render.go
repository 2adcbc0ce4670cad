package calendar

import (
	"fmt"
	"strings"
	"time"
)

// jst is the time zone staff read times in: a UTC time (…Z) is shown in it.
var jst = time.FixedZone("JST", 9*60*60)

// renderLimits: how much of one event the body shows.
const (
	maxShownAttendees = 50
	maxShownEvents    = 20
	maxFieldText      = 32 << 10
)

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// methodLabel names an iTIP method for staff.
func methodLabel(m string) string {
	switch m {
	case "REQUEST":
		return "招待 / invitation"
	case "CANCEL":
		return "取消 / cancellation"
	case "REPLY":
		return "返信 / reply"
	case "PUBLISH":
		return "予定の案内 / published event"
	case "COUNTER":
		return "日時の変更提案 / counter-proposal"
	case "DECLINECOUNTER":
		return "変更提案の辞退 / counter-proposal declined"
	case "ADD":
		return "予定の追加 / added occurrences"
	case "REFRESH":
		return "最新情報の依頼 / refresh request"
	}
	return ""
}

// RenderCalendar writes a calendar for staff: a heading naming the file,
// then each event's fields, Japanese labels first, English beside.
func RenderCalendar(c *Calendar, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "――― 予定表 / Calendar%s ―――\n", nameSuffix(name))
	if l := methodLabel(c.Method); l != "" {
		fmt.Fprintf(&b, "種別 Type: %s (%s)\n", l, c.Method)
	}
	if len(c.Events) == 0 {
		b.WriteString("予定が見つかりませんでした。 No event was found.\n")
	}
	for i, e := range c.Events {
		if i == maxShownEvents {
			fmt.Fprintf(&b, "\nほか %d 件の予定は省略しました。 %s not shown.\n", len(c.Events)-i, plural(len(c.Events)-i, "more event", "more events"))
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		renderEvent(&b, e, c.Method, c.Zones)
	}
	return b.String()
}

func renderEvent(b *strings.Builder, e Event, method string, zones map[string]*Component) {
	field(b, "件名 Subject", e.Summary)
	if e.Status == "CANCELLED" || method == "CANCEL" {
		b.WriteString("状態 Status: ⚠ この予定は取り消されました / this event is cancelled\n")
	}
	when := "（日時を読み取れませんでした / the date could not be read）"
	if e.Start.OK {
		when = formatSpan(e.Start, e.Span())
	}
	if e.RecurrenceID.OK {
		when += "（繰り返しのうちこの回 / this occurrence of a series）"
	}
	field(b, "日時 When", when)
	if jt := japanTime(e, zones); jt != "" {
		field(b, "　日本時間 In Japan", strings.TrimSuffix(jt, " "+zoneLabel(When{UTC: true})))
	}
	if e.RRule != "" {
		field(b, "繰り返し Repeats", freqLabel(e.RRule)+" ("+e.RRule+")")
	}
	field(b, "場所 Location", e.Location)
	if p := personText(e.Organizer); p != "" {
		field(b, "主催者 Organizer", p)
	}
	if len(e.Attendees) > 0 {
		fmt.Fprintf(b, "出席者 Attendees (%d):\n", len(e.Attendees))
		for i, a := range e.Attendees {
			if i == maxShownAttendees {
				n := len(e.Attendees) - i
				fmt.Fprintf(b, "  ほか %d 名 / and %s\n", n, plural(n, "other", "others"))
				break
			}
			fmt.Fprintf(b, "  ・%s\n", personText(a))
		}
	}
	if d := strings.TrimSpace(e.Description); d != "" {
		d, _ = cutText(d, maxFieldText)
		b.WriteString("説明 Description:\n")
		indent(b, d)
	}
}

func field(b *strings.Builder, label, v string) {
	v, _ = cutText(strings.ReplaceAll(strings.TrimSpace(v), "\n", " / "), maxFieldText)
	if v != "" {
		fmt.Fprintf(b, "%s: %s\n", label, v)
	}
}

// personText is "name <address>" with the role or the reply beside it.
func personText(p Person) string {
	s := p.Name
	switch {
	case p.Addr != "" && s != "" && !strings.EqualFold(s, p.Addr):
		s += " <" + p.Addr + ">"
	case p.Addr != "":
		s = p.Addr
	}
	if s == "" {
		return ""
	}
	var tags []string
	switch p.Role {
	case "CHAIR":
		tags = append(tags, "議長 chair")
	case "OPT-PARTICIPANT":
		tags = append(tags, "任意 optional")
	case "NON-PARTICIPANT":
		tags = append(tags, "情報共有 for information")
	}
	switch p.PartStat {
	case "ACCEPTED":
		tags = append(tags, "承諾 accepted")
	case "DECLINED":
		tags = append(tags, "辞退 declined")
	case "TENTATIVE":
		tags = append(tags, "仮承諾 tentative")
	case "DELEGATED":
		tags = append(tags, "代理 delegated")
	}
	if len(tags) > 0 {
		s += "（" + strings.Join(tags, "、") + "）"
	}
	return s
}

// formatSpan writes when an event happens: all day, one day or several;
// in its time zone as written (a UTC time in Japan time).
func formatSpan(start, end When) string {
	s, e := start.T, end.T
	if start.IsDate {
		last := e.AddDate(0, 0, -1)
		if !end.IsDate || !last.After(s) {
			return jaDate(s, true) + "終日 / all day"
		}
		return jaDate(s, true) + "～" + jaDate(last, last.Year() != s.Year()) + "終日 / all day"
	}
	zone := zoneLabel(start)
	if start.UTC {
		s = s.In(jst)
	}
	if end.UTC {
		e = e.In(jst)
	}
	switch {
	case end.IsDate || !e.After(s):
		return fmt.Sprintf("%s%s %s", jaDate(s, true), hm(s), zone)
	case e.Year() == s.Year() && e.YearDay() == s.YearDay() || e.Sub(s) < 24*time.Hour && hm(e) == "00:00":
		return fmt.Sprintf("%s%s–%s %s", jaDate(s, true), hm(s), endHM(s, e), zone)
	}
	return fmt.Sprintf("%s%s – %s%s %s", jaDate(s, true), hm(s), jaDate(e, e.Year() != s.Year()), hm(e), zone)
}

// endHM writes an end at midnight of the next day as 24:00.
func endHM(s, e time.Time) string {
	if e.YearDay() != s.YearDay() && hm(e) == "00:00" {
		return "24:00"
	}
	return hm(e)
}

func zoneLabel(w When) string {
	switch {
	case w.UTC:
		return "(日本時間 / Japan time)"
	case w.TZID != "":
		return "(" + clip(w.TZID, 80) + ")"
	}
	return "(時間帯の指定なし / no time zone given)"
}

// jaDate writes 2026年12月3日（木）; without the year when year is false.
func jaDate(t time.Time, year bool) string {
	s := fmt.Sprintf("%d月%d日（%s）", int(t.Month()), t.Day(), weekdays[t.Weekday()])
	if year {
		s = fmt.Sprintf("%d年", t.Year()) + s
	}
	return s
}

func hm(t time.Time) string { return fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute()) }

func freqLabel(rule string) string {
	switch {
	case strings.Contains(rule, "FREQ=DAILY"):
		return "毎日 daily"
	case strings.Contains(rule, "FREQ=WEEKLY"):
		return "毎週 weekly"
	case strings.Contains(rule, "FREQ=MONTHLY"):
		return "毎月 monthly"
	case strings.Contains(rule, "FREQ=YEARLY"):
		return "毎年 yearly"
	}
	return "繰り返しあり recurring"
}

// plural picks the English word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return "（" + clip(clean(name), 120) + "）"
}

// cutText cuts s to at most n bytes at a rune boundary.
func cutText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…", true
}

// indent writes text indented by two spaces; empty lines stay empty.
func indent(b *strings.Builder, s string) {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " \t"); l != "" {
			b.WriteString("  " + l)
		}
		b.WriteString("\n")
	}
}
