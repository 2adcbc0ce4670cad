package calendar

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mugai/sanitize/text"
)

// Decode turns a file's bytes into UTF-8 text: UTF-8 as RFC 5545 and
// vCard 3.0/4.0 require, or, for old Japanese phones' vCards and mislabelled
// calendars, the Japanese charset the bytes are in (Shift_JIS, EUC-JP,
// ISO-2022-JP), decoded whole before parsing so that a Shift_JIS trail
// byte 0x5C is never read as a backslash escape.
func Decode(b []byte) string {
	b = trimBOM(b)
	if utf8.Valid(b) && !hasJISEscape(b) {
		return string(b)
	}
	s, _, _ := text.Decode(b, "")
	return s
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

func hasJISEscape(b []byte) bool {
	return strings.Contains(string(b), "\x1b$B") || strings.Contains(string(b), "\x1b$@")
}

// Text is a property's value as text: quoted-printable and base64 (vCard
// 2.1) decoded, its CHARSET applied to those bytes, escapes (\n \, \; \\)
// undone, control characters and invisible characters dropped.
func (p Prop) Text() string {
	return clean(unescape(p.decoded()))
}

// Parts splits a structured value (vCard N and ADR, ORG) at unescaped ";"
// and returns each part as text.
func (p Prop) Parts() []string {
	raw := p.decoded()
	var parts []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case ';':
			parts = append(parts, clean(unescape(raw[start:i])))
			start = i + 1
		}
	}
	return append(parts, clean(unescape(raw[start:])))
}

// decoded is the value with a transfer encoding of vCard 2.1 undone.
func (p Prop) decoded() string {
	enc := strings.ToUpper(p.Param("ENCODING"))
	var b []byte
	switch enc {
	case "QUOTED-PRINTABLE":
		b = qpDecode(p.Value)
	default:
		return p.Value
	}
	if utf8.Valid(b) {
		return string(b)
	}
	s, _, _ := text.Decode(b, p.Param("CHARSET"))
	return s
}

// qpDecode decodes quoted-printable leniently: a "=" not followed by two
// hex digits is kept as it is.
func qpDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) {
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				out = append(out, v[0])
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

// unescape undoes RFC 5545 3.3.11 / RFC 6350 text escapes.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default: // \\ \; \, and anything else: the character itself
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// clean normalises text from the file: LF line ends, no controls, no
// invisible or direction-changing characters, no surrounding space.
func clean(s string) string {
	s, _ = text.Normalize(s)
	return strings.TrimSpace(s)
}

// When is a DATE or DATE-TIME value.
type When struct {
	T      time.Time // wall clock as written (UTC when Z), in time.UTC
	IsDate bool      // a DATE (all-day)
	UTC    bool      // a DATE-TIME ending in Z
	TZID   string    // the TZID parameter of a local DATE-TIME, cleaned
	OK     bool
}

// ParseWhen parses a DTSTART-like property: VALUE=DATE or 8 digits is a
// date; YYYYMMDDTHHMMSS with an optional Z is a date-time. A date that
// does not exist (20261331) is not OK.
func ParseWhen(p Prop) When {
	v := strings.TrimSpace(p.Value)
	w := When{TZID: clean(p.Param("TZID"))}
	if len(v) > 0 && strings.Contains(v, ",") {
		v = v[:strings.IndexByte(v, ',')] // a list (EXDATE): the first
	}
	return parseWhenValue(v, w)
}

func parseWhenValue(v string, w When) When {
	switch {
	case len(v) == 8:
		t, err := time.Parse("20060102", v)
		if err != nil || !digits(v) {
			return When{}
		}
		w.T, w.IsDate, w.TZID, w.OK = t, true, "", true
	case len(v) == 15 || len(v) == 16 && (v[15] == 'Z' || v[15] == 'z'):
		t, err := time.Parse("20060102T150405", strings.ToUpper(v[:15]))
		if err != nil || !digits(v[:8]) || !digits(v[9:15]) {
			return When{}
		}
		w.T, w.OK = t, true
		if len(v) == 16 {
			w.UTC, w.TZID = true, ""
		}
	default:
		return When{}
	}
	if y := w.T.Year(); y < 1600 || y > 2500 {
		return When{}
	}
	return w
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ParseDuration parses an RFC 5545 duration: [+-]P[nW] or
// [+-]P[nD][T[nH][nM][nS]]. ok is false for anything else, and for more
// than about ten years.
func ParseDuration(s string) (time.Duration, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, false
	}
	s = s[1:]
	var d time.Duration
	inTime, n, have, weeks := false, 0, false, false
	for _, c := range []byte(s) {
		var unit time.Duration
		switch {
		case weeks: // dur-week stands alone
			return 0, false
		case c >= '0' && c <= '9':
			if n > 100_000 {
				return 0, false
			}
			n, have = n*10+int(c-'0'), true
			continue
		case c == 'T' && !inTime && !have:
			inTime = true
			continue
		case c == 'W' && !inTime && d == 0:
			unit, weeks = 7*24*time.Hour, true
		case c == 'D' && !inTime:
			unit = 24 * time.Hour
		case c == 'H' && inTime:
			unit = time.Hour
		case c == 'M' && inTime:
			unit = time.Minute
		case c == 'S' && inTime:
			unit = time.Second
		default:
			return 0, false
		}
		if !have {
			return 0, false
		}
		d += time.Duration(n) * unit
		n, have = 0, false
	}
	if have || d > 3660*24*time.Hour {
		return 0, false
	}
	if neg {
		d = -d
	}
	return d, true
}

// formatDuration writes d as an RFC 5545 duration.
func formatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := sign + "P"
	if days > 0 {
		s += strconv.Itoa(int(days)) + "D"
	}
	if d > 0 || days == 0 {
		s += "T" + strconv.Itoa(int(d/time.Hour)) + "H" + strconv.Itoa(int(d%time.Hour/time.Minute)) + "M" +
			strconv.Itoa(int(d%time.Minute/time.Second)) + "S"
	}
	return s
}
