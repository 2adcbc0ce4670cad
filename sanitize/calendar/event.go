package calendar

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is what an iCalendar file holds that staff need: its method
// and events, the time zones the events name, and counts of what was left
// out.
type Calendar struct {
	Method string // REQUEST, CANCEL, REPLY, PUBLISH… upper-case; "" for none
	Events []Event
	Zones  map[string]*Component // VTIMEZONE by TZID
	Left   Left
}

// Left counts what reading left out, for the notes.
type Left struct {
	Alarms, Attachments, Extensions, URLs, Components, Unreadable, BadRules int
}

// Event is one VEVENT.
type Event struct {
	UID, Summary, Location, Description, Status string
	Start, End, Stamp, RecurrenceID             When
	Duration                                    time.Duration
	HasDuration                                 bool
	RRule                                       string // checked and written anew; "" for none
	ExDates                                     []When
	Organizer                                   Person
	Attendees                                   []Person
	Sequence                                    int
}

// Person is an ORGANIZER or ATTENDEE: a name and a mail address (the only
// kind of address kept).
type Person struct {
	Name, Addr, Role, PartStat, CUType string
	RSVP                               bool
}

// ReadCalendar reads the VCALENDAR components of a parse.
func ReadCalendar(p *Parsed) *Calendar {
	c := &Calendar{Zones: map[string]*Component{}}
	c.Left.Unreadable = p.LongLines + p.BadLines
	for _, top := range p.Components {
		if top.Name != "VCALENDAR" {
			c.Left.Components++
			continue
		}
		if m, ok := top.Prop("METHOD"); ok && c.Method == "" {
			c.Method = strings.ToUpper(clip(clean(m.Value), 20))
		}
		for _, pr := range top.Props {
			c.Left.count(pr, "VERSION", "PRODID", "METHOD", "CALSCALE")
		}
		for _, ch := range top.Children {
			switch ch.Name {
			case "VEVENT":
				c.Events = append(c.Events, c.readEvent(ch))
			case "VTIMEZONE":
				if id, ok := ch.Prop("TZID"); ok {
					c.Zones[id.Text()] = ch
				}
			default:
				c.Left.Components++
			}
		}
	}
	return c
}

// eventProps are the VEVENT properties read; every other is counted as
// left out.
var eventProps = []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "SUMMARY", "LOCATION", "DESCRIPTION",
	"STATUS", "ORGANIZER", "ATTENDEE", "RRULE", "EXDATE", "RECURRENCE-ID", "SEQUENCE"}

func (c *Calendar) readEvent(comp *Component) Event {
	var e Event
	for _, ch := range comp.Children {
		if ch.Name == "VALARM" {
			c.Left.Alarms++
		} else {
			c.Left.Components++
		}
	}
	for _, p := range comp.Props {
		c.Left.count(p, eventProps...)
		switch p.Name {
		case "UID":
			e.UID = clip(p.Text(), 255)
		case "SUMMARY":
			e.Summary = p.Text()
		case "LOCATION":
			e.Location = p.Text()
		case "DESCRIPTION":
			e.Description = p.Text()
		case "STATUS":
			e.Status = strings.ToUpper(clip(clean(p.Value), 20))
		case "DTSTART":
			e.Start = ParseWhen(p)
		case "DTEND":
			e.End = ParseWhen(p)
		case "DTSTAMP":
			e.Stamp = ParseWhen(p)
		case "RECURRENCE-ID":
			e.RecurrenceID = ParseWhen(p)
		case "DURATION":
			e.Duration, e.HasDuration = ParseDuration(p.Value)
		case "SEQUENCE":
			e.Sequence, _ = strconv.Atoi(strings.TrimSpace(p.Value))
			e.Sequence = max(0, min(e.Sequence, 1<<20))
		case "RRULE":
			if e.RRule = checkRRule(p.Value); e.RRule == "" {
				c.Left.BadRules++
			}
		case "EXDATE":
			e.ExDates = append(e.ExDates, readDates(p)...)
		case "ORGANIZER":
			e.Organizer = readPerson(p)
		case "ATTENDEE":
			if a := readPerson(p); a.Addr != "" || a.Name != "" {
				e.Attendees = append(e.Attendees, a)
			}
		}
	}
	return e
}

// count counts a property outside the ones read: attachments, URLs,
// X- properties and the rest.
func (l *Left) count(p Prop, read ...string) {
	for _, r := range read {
		if p.Name == r {
			return
		}
	}
	switch {
	case p.Name == "ATTACH" || p.Name == "IMAGE":
		l.Attachments++
	case p.Name == "URL" || p.Name == "CONFERENCE":
		l.URLs++
	case strings.HasPrefix(p.Name, "X-"):
		l.Extensions++
	}
}

func readDates(p Prop) []When {
	var out []When
	for _, v := range strings.Split(p.Value, ",") {
		if len(out) == 366 {
			break
		}
		if w := parseWhenValue(strings.TrimSpace(v), When{TZID: clean(p.Param("TZID"))}); w.OK {
			out = append(out, w)
		}
	}
	return out
}

// readPerson reads a CAL-ADDRESS property. Only mailto: addresses are
// kept; the name is the CN parameter.
func readPerson(p Prop) Person {
	per := Person{Name: clip(clean(p.Param("CN")), 200), Role: upperToken(p.Param("ROLE")),
		PartStat: upperToken(p.Param("PARTSTAT")), CUType: upperToken(p.Param("CUTYPE")),
		RSVP: strings.EqualFold(p.Param("RSVP"), "TRUE")}
	v := strings.TrimSpace(p.Value)
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		per.Addr = cleanAddr(v[7:])
	}
	return per
}

// cleanAddr keeps a mail address that looks like one: no spaces, no
// brackets or quotes, one "@", at most 254 bytes.
func cleanAddr(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 254 || !utf8.ValidString(s) || strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t\r\n<>()[]\",;:\\") {
		return ""
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return ""
		}
	}
	return s
}

// upperToken is a parameter value that is an upper-case token, "" if not.
func upperToken(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !isName(s) {
		return ""
	}
	return s
}

// rruleParts are the parts of a recurrence rule (RFC 5545 3.3.10) and
// the characters their values may hold.
var rruleParts = map[string]string{
	"FREQ": "A", "UNTIL": "dt", "COUNT": "0", "INTERVAL": "0", "BYSECOND": "0,", "BYMINUTE": "0,",
	"BYHOUR": "0,", "BYDAY": "A0,+-", "BYMONTHDAY": "0,+-", "BYYEARDAY": "0,+-", "BYWEEKNO": "0,+-",
	"BYMONTH": "0,", "BYSETPOS": "0,+-", "WKST": "A",
}

var freqs = map[string]bool{"SECONDLY": true, "MINUTELY": true, "HOURLY": true, "DAILY": true, "WEEKLY": true,
	"MONTHLY": true, "YEARLY": true}

// checkRRule returns a recurrence rule written anew from its checked
// parts, or "" when it is not one.
func checkRRule(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if len(v) > 512 {
		return ""
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		kind, known := rruleParts[k]
		if !ok || !known || seen[k] || val == "" {
			return ""
		}
		seen[k] = true
		switch kind {
		case "dt":
			if w := parseWhenValue(val, When{}); !w.OK {
				return ""
			}
		default:
			for _, c := range val {
				ok := strings.ContainsRune(kind, c) || strings.Contains(kind, "A") && c >= 'A' && c <= 'Z' ||
					strings.Contains(kind, "0") && c >= '0' && c <= '9'
				if !ok {
					return ""
				}
			}
		}
		if k == "FREQ" && !freqs[val] {
			return ""
		}
		out = append(out, k+"="+val)
	}
	if !seen["FREQ"] {
		return ""
	}
	return strings.Join(out, ";")
}

// Span is an event's end as a time: DTEND, else DTSTART + DURATION, else
// (RFC 5545 3.6.1) one day after a date, the start itself for a date-time.
func (e Event) Span() When {
	switch {
	case e.End.OK:
		return e.End
	case e.Start.OK && e.HasDuration:
		end := e.Start
		end.T = end.T.Add(e.Duration)
		return end
	case e.Start.OK && e.Start.IsDate:
		end := e.Start
		end.T = end.T.AddDate(0, 0, 1)
		return end
	}
	return e.Start
}
