package calendar

import (
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TZIDs resolved the same on every host, whatever its zoneinfo
)

// japanTime writes when an event given in another time zone happens in
// Japan time, "" when it is in Japan time already, floating, all-day, or
// in a zone that cannot be resolved.
func japanTime(e Event, zones map[string]*Component) string {
	start, ok := inUTC(e.Start, zones)
	if !ok {
		return ""
	}
	end, ok := inUTC(e.Span(), zones)
	if !ok {
		end = start
	}
	return formatSpan(start, end)
}

// inUTC turns a local DATE-TIME with a TZID other than Japan's into a
// UTC one.
func inUTC(w When, zones map[string]*Component) (When, bool) {
	if !w.OK || w.IsDate || w.UTC || w.TZID == "" {
		return When{}, false
	}
	off, ok := zoneOffset(w, zones)
	if !ok || off == 9*60*60 {
		return When{}, false
	}
	t := w.T.Add(-time.Duration(off) * time.Second)
	return When{T: t, UTC: true, OK: true}, true
}

// zoneOffset is a TZID's offset from UTC at a wall-clock time, in
// seconds: from the IANA time zone database when the TZID names one
// (Asia/Tokyo, America/New_York), else from the file's VTIMEZONE when its
// observances all have the same offset (Windows names without daylight
// saving time, such as Tokyo Standard Time). Daylight saving rules of a
// VTIMEZONE are not evaluated.
func zoneOffset(w When, zones map[string]*Component) (int, bool) {
	if w.TZID != "Local" && strings.Contains(w.TZID, "/") || w.TZID == "UTC" {
		if loc, err := time.LoadLocation(w.TZID); err == nil {
			t := time.Date(w.T.Year(), w.T.Month(), w.T.Day(), w.T.Hour(), w.T.Minute(), w.T.Second(), 0, loc)
			_, off := t.Zone()
			return off, true
		}
	}
	z := zones[w.TZID]
	if z == nil {
		return 0, false
	}
	offs := map[int]bool{}
	for _, ob := range z.Children {
		if p, ok := ob.Prop("TZOFFSETTO"); ok && (ob.Name == "STANDARD" || ob.Name == "DAYLIGHT") {
			off, ok := parseOffset(p.Value)
			if !ok {
				return 0, false
			}
			offs[off] = true
		}
	}
	if len(offs) != 1 {
		return 0, false
	}
	for off := range offs {
		return off, true
	}
	return 0, false
}

// parseOffset reads a UTC offset, +HHMM or -HHMMSS, in seconds.
func parseOffset(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if !isOffset(s) {
		return 0, false
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[3:5])
	sec := 0
	if len(s) == 7 {
		sec, _ = strconv.Atoi(s[5:7])
	}
	off := h*3600 + m*60 + sec
	if s[0] == '-' {
		off = -off
	}
	return off, true
}
