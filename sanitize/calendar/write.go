package calendar

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"mugai/sanitize/text"
)

// lineWriter writes content lines folded at 75 octets (RFC 5545 3.1),
// never inside a UTF-8 sequence, with CRLF.
type lineWriter struct{ bytes.Buffer }

func (w *lineWriter) line(s string) {
	for first := true; ; first = false {
		limit := 75
		if !first {
			w.WriteByte(' ')
			limit = 74
		}
		if len(s) <= limit {
			w.WriteString(s + "\r\n")
			return
		}
		n := limit
		for n > limit-4 && s[n]&0xC0 == 0x80 {
			n--
		}
		w.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// safeText is text from the file made fit to write again: links defanged,
// bounded.
func safeText(s string) string {
	s, _ = cutText(text.Defang(s), maxFieldText)
	return s
}

// paramValue is a parameter value, always quoted: no DQUOTE, no
// controls, bounded, "^" written as RFC 6868 asks.
func paramValue(s string) string {
	return `"` + strings.ReplaceAll(paramText(s), "^", "^^") + `"` // RFC 6868
}

// paramText is what paramValue writes of s between its quotes: s without
// quotes and control characters, clipped, and trimmed as a reader trims
// a parameter value, so that a file rebuilt again writes the same (a CN
// of spaces and a quote was written as CN="", then read as no CN).
func paramText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(clip(s, 200))
}

// opaqueID is an identifier from the file (a UID, a TZID) fit to write
// again: as it is, unless it holds something a client could follow as a
// link ("http://", "www.", "\\\\host"), then a name derived from all of
// it, so that the rebuilt copy of an update still matches the rebuilt
// event and two identifiers stay two. suffix ends the derived name.
func opaqueID(s, suffix string) string {
	if s == "" || text.Defang(s) == s && !strings.Contains(s, "://") {
		return s
	}
	return derivedName(s, suffix)
}

// derivedName is a name made from seed (the same seed, the same name):
// 24 hex digits of its SHA-256, then suffix.
func derivedName(seed, suffix string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:12]) + suffix
}

// tzidParam is a TZID parameter as Outlook and Google write it:
// unquoted ("Tokyo Standard Time", Asia/Tokyo), quoted only when it
// holds ":", ";" or ",".
func tzidParam(s string) string {
	q := paramValue(opaqueID(s, ""))
	if strings.ContainsAny(q, ":;,") {
		return q
	}
	return strings.Trim(q, `"`)
}

// whenProp writes a DATE or DATE-TIME property.
func whenProp(name string, w When) string {
	switch {
	case w.IsDate:
		return name + ";VALUE=DATE:" + w.T.Format("20060102")
	case w.UTC:
		return name + ":" + w.T.Format("20060102T150405") + "Z"
	case w.TZID != "":
		return name + ";TZID=" + tzidParam(w.TZID) + ":" + w.T.Format("20060102T150405")
	}
	return name + ":" + w.T.Format("20060102T150405")
}

// WriteCalendar writes a minimal iCalendar of the events that have a
// start: what a calendar program needs to import them with the right time
// (UID, DTSTAMP, DTSTART, DTEND or DURATION, the recurrence, the time
// zones they name) and what staff read (summary, location, organizer,
// attendees, description with links defanged). METHOD is PUBLISH: the
// file is for importing, and does not act on the recipient's calendar
// (see the Disarmer). now stands in for a missing DTSTAMP. It returns nil
// when no event has a start.
func WriteCalendar(c *Calendar, now time.Time) []byte {
	var w lineWriter
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//mugai//rebuilt calendar//JA")
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	zones := map[string]bool{}
	for _, e := range c.Events {
		for _, t := range []When{e.Start, e.End, e.RecurrenceID} {
			if t.OK && t.TZID != "" && c.Zones[t.TZID] != nil && !zones[t.TZID] {
				zones[t.TZID] = true
				writeZone(&w, t.TZID, c.Zones[t.TZID])
			}
		}
	}
	n := 0
	for _, e := range c.Events {
		if e.Start.OK {
			writeEvent(&w, e, now)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	w.line("END:VCALENDAR")
	return w.Bytes()
}

func writeEvent(w *lineWriter, e Event, now time.Time) {
	w.line("BEGIN:VEVENT")
	uid := opaqueID(e.UID, "@mugai.invalid")
	if uid == "" || strings.ContainsAny(uid, "\r\n") {
		uid = derivedName(e.Summary+"\x00"+e.Start.T.String(), "@mugai.invalid")
	}
	w.line("UID:" + escapeText(uid))
	stamp := e.Stamp
	if !stamp.OK || stamp.IsDate {
		stamp = When{T: now.UTC().Truncate(time.Second), UTC: true, OK: true}
	}
	w.line(whenProp("DTSTAMP", stamp))
	if e.Sequence > 0 {
		w.line("SEQUENCE:" + strconv.Itoa(e.Sequence))
	}
	w.line(whenProp("DTSTART", e.Start))
	switch {
	case e.End.OK && e.End.IsDate == e.Start.IsDate && e.End.T.After(e.Start.T):
		w.line(whenProp("DTEND", e.End))
	case e.HasDuration && e.Duration > 0:
		w.line("DURATION:" + formatDuration(e.Duration))
	}
	if e.RecurrenceID.OK {
		w.line(whenProp("RECURRENCE-ID", e.RecurrenceID))
	}
	if e.RRule != "" {
		w.line("RRULE:" + e.RRule)
	}
	for _, x := range e.ExDates {
		w.line(whenProp("EXDATE", x))
	}
	for _, f := range []struct{ name, v string }{{"SUMMARY", e.Summary}, {"LOCATION", e.Location}, {"DESCRIPTION", e.Description}} {
		if f.v != "" {
			w.line(f.name + ":" + escapeText(safeText(f.v)))
		}
	}
	switch e.Status {
	case "CONFIRMED", "TENTATIVE", "CANCELLED":
		w.line("STATUS:" + e.Status)
	}
	if e.Organizer.Addr != "" {
		w.line("ORGANIZER" + personParams(e.Organizer) + ":mailto:" + e.Organizer.Addr)
	}
	for _, a := range e.Attendees {
		if a.Addr != "" {
			w.line("ATTENDEE" + personParams(a) + ":mailto:" + a.Addr)
		}
	}
	w.line("END:VEVENT")
}

func personParams(p Person) string {
	var s string
	if name := paramText(text.Defang(p.Name)); name != "" { // a name of quotes and spaces is none
		s += ";CN=" + paramValue(name)
	}
	for _, kv := range [][2]string{{"CUTYPE", p.CUType}, {"ROLE", p.Role}, {"PARTSTAT", p.PartStat}} {
		if kv[1] != "" {
			s += ";" + kv[0] + "=" + kv[1]
		}
	}
	if p.RSVP {
		s += ";RSVP=TRUE"
	}
	return s
}

// writeZone writes a VTIMEZONE anew from its observances: their start,
// offsets, name and yearly rule, each checked. A zone without a readable
// observance is not written (the events keep their TZID).
func writeZone(out *lineWriter, tzid string, z *Component) {
	var w lineWriter
	for _, ob := range z.Children {
		if ob.Name != "STANDARD" && ob.Name != "DAYLIGHT" {
			continue
		}
		start, ok1 := ob.Prop("DTSTART")
		from, ok2 := ob.Prop("TZOFFSETFROM")
		to, ok3 := ob.Prop("TZOFFSETTO")
		st := ParseWhen(start)
		if !ok1 || !ok2 || !ok3 || !st.OK || st.IsDate || !isOffset(from.Value) || !isOffset(to.Value) {
			continue
		}
		st.TZID, st.UTC = "", false // observance starts are local times without a zone
		w.line("BEGIN:" + ob.Name)
		w.line(whenProp("DTSTART", st))
		w.line("TZOFFSETFROM:" + strings.TrimSpace(from.Value))
		w.line("TZOFFSETTO:" + strings.TrimSpace(to.Value))
		if n, ok := ob.Prop("TZNAME"); ok {
			if name := clip(n.Text(), 64); name != "" {
				w.line("TZNAME:" + escapeText(safeText(name)))
			}
		}
		if r, ok := ob.Prop("RRULE"); ok {
			if rule := checkRRule(r.Value); rule != "" {
				w.line("RRULE:" + rule)
			}
		}
		w.line("END:" + ob.Name)
	}
	if w.Len() == 0 {
		return
	}
	out.line("BEGIN:VTIMEZONE")
	out.line("TZID:" + escapeText(strings.Trim(paramValue(opaqueID(tzid, "")), `"`))) // as the events' TZID parameters spell it
	out.Write(w.Bytes())
	out.line("END:VTIMEZONE")
}

// isOffset reports a UTC offset: +HHMM or -HHMMSS.
func isOffset(s string) bool {
	s = strings.TrimSpace(s)
	return (len(s) == 5 || len(s) == 7) && (s[0] == '+' || s[0] == '-') && digits(s[1:]) &&
		s[1:3] < "24" && s[3:5] < "60"
}
