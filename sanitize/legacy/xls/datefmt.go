package xls

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// civil is a calendar date as Excel counts it (1900-02-29 included).
type civil struct{ y, m, d, wd int }

// serialDay converts the whole days of a date serial: in the 1900 system
// day 1 is 1900-01-01 and day 60 the 1900-02-29 Excel keeps from Lotus
// 1-2-3; in the 1904 system (DATEMODE) day 0 is 1904-01-01.
func serialDay(days int64, date1904 bool) civil {
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 0:
		return civil{1900, 1, 0, 6}
	case days == 60:
		return civil{1900, 2, 29, 3}
	case days < 60:
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	t := base.AddDate(0, 0, int(days))
	return civil{t.Year(), int(t.Month()), t.Day(), int(t.Weekday())}
}

// eras are the Japanese eras a date format's g and e codes show.
var eras = []struct {
	start             int // yyyymmdd of the first day
	abbr, short, name string
}{
	{20190501, "R", "令", "令和"}, {19890108, "H", "平", "平成"}, {19261225, "S", "昭", "昭和"},
	{19120730, "T", "大", "大正"}, {18681023, "M", "明", "明治"},
}

// era returns the era of c and the year within it; ok is false before Meiji.
func era(c civil) (abbr, short, name string, year int, ok bool) {
	ymd := c.y*10000 + c.m*100 + c.d
	for _, e := range eras {
		if ymd >= e.start {
			return e.abbr, e.short, e.name, c.y - e.start/10000 + 1, true
		}
	}
	return "", "", "", c.y, false
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	dayNamesJA = []string{"日", "月", "火", "水", "木", "金", "土"}
)

// clock is the time of day and the elapsed totals of a serial.
type clock struct {
	days, h, mi, s, frac int64
	fracDigits           int
}

// formatDate writes the serial v by a date or time section. ok is false
// for values no date shows (negative, past 9999-12-31): Excel shows ####
// there, the caller writes the number.
func formatDate(toks []tok, v float64, date1904 bool) (string, bool) {
	if v < 0 || v >= 2958466 {
		return "", false
	}
	sub := subsecond(toks)
	scale := int64(math.Pow10(sub))
	units := int64(math.Round(v * 86400 * float64(scale)))
	secs := units / scale
	k := clock{days: secs / 86400, h: secs / 3600 % 24, mi: secs / 60 % 60, s: secs % 60, frac: units % scale, fracDigits: sub}
	c := serialDay(k.days, date1904)
	twelve := false
	for _, t := range toks {
		twelve = twelve || strings.HasPrefix(t.s, "am/pm") || strings.HasPrefix(t.s, "a/p")
	}
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.k == tDate:
			b.WriteString(dateCode(toks, i, c, k, twelve))
		case t.k == tNum && t.s == "." && sub > 0 && prevDate(toks, i) != "" && prevDate(toks, i)[0] == 's':
			b.WriteString("." + pad(k.frac, sub))
			for i+1 < len(toks) && toks[i+1].s == "0" {
				i++
			}
		case t.k == tGen:
			b.WriteString(general(v))
		default:
			b.WriteString(t.s)
		}
	}
	return b.String(), true
}

// subsecond counts the 0s after "ss." (fractions of a second), at most 3.
func subsecond(toks []tok) int {
	for i, t := range toks {
		if t.k != tNum || t.s != "." || prevDate(toks, i) == "" || prevDate(toks, i)[0] != 's' {
			continue
		}
		n := 0
		for j := i + 1; j < len(toks) && toks[j].s == "0"; j++ {
			n++
		}
		return min(n, 3)
	}
	return 0
}

// prevDate and nextDate return the date code before or after toks[i].
func prevDate(toks []tok, i int) string {
	for j := i - 1; j >= 0; j-- {
		if toks[j].k == tDate {
			return strings.Trim(toks[j].s, "[]")
		}
	}
	return ""
}

func nextDate(toks []tok, i int) string {
	for j := i + 1; j < len(toks); j++ {
		if toks[j].k == tDate {
			return strings.Trim(toks[j].s, "[]")
		}
	}
	return ""
}

// dateCode writes one date or time code; m is minutes after an hour or
// before seconds, months elsewhere.
func dateCode(toks []tok, i int, c civil, k clock, twelve bool) string {
	code := toks[i].s
	n := len(code)
	switch code[0] {
	case 'y':
		if n <= 2 {
			return pad(int64(c.y%100), 2)
		}
		return strconv.Itoa(c.y)
	case 'e', 'g':
		abbr, short, name, year, ok := era(c)
		switch {
		case !ok && code[0] == 'g':
			return ""
		case code[0] == 'e' && n >= 2:
			return pad(int64(year), 2)
		case code[0] == 'e':
			return strconv.Itoa(year)
		case n == 1:
			return abbr
		case n == 2:
			return short
		}
		return name
	case 'm':
		if p, nx := prevDate(toks, i), nextDate(toks, i); (p != "" && p[0] == 'h') || (nx != "" && nx[0] == 's') {
			return pad(k.mi, n)
		}
		return month(c.m, n)
	case 'd':
		switch {
		case n <= 2:
			return pad(int64(c.d), n)
		case n == 3:
			return dayNames[c.wd][:3]
		}
		return dayNames[c.wd]
	case 'a':
		if strings.HasPrefix(code, "am/pm") || strings.HasPrefix(code, "a/p") {
			return meridiem(code, k.h)
		}
		if n == 3 {
			return dayNamesJA[c.wd]
		}
		return dayNamesJA[c.wd] + "曜日"
	case 'h':
		h := k.h
		if twelve {
			h = (h+11)%12 + 1
		}
		return pad(h, n)
	case 's':
		return pad(k.s, n)
	case '[':
		return elapsed(code, k)
	}
	return ""
}

func month(m, n int) string {
	switch {
	case n <= 2:
		return pad(int64(m), n)
	case n == 3:
		return monthNames[m-1][:3]
	case n == 5:
		return monthNames[m-1][:1]
	}
	return monthNames[m-1]
}

// meridiem writes AM/PM or A/P, in the case the code's first letter has.
func meridiem(code string, h int64) string {
	s := "AM"
	if h >= 12 {
		s = "PM"
	}
	if strings.HasPrefix(code, "a/p") {
		s = s[:1]
	}
	if code[len(code)-1] == 'a' || code[len(code)-1] == 'p' {
		s = strings.ToLower(s)
	}
	return s
}

// elapsed writes [h], [m] or [s]: the whole time in that unit.
func elapsed(code string, k clock) string {
	hours := k.days*24 + k.h
	inner := strings.Trim(code, "[]")
	switch inner[0] {
	case 'h':
		return pad(hours, len(inner))
	case 'm':
		return pad(hours*60+k.mi, len(inner))
	}
	return pad((hours*60+k.mi)*60+k.s, len(inner))
}

// pad writes v with at least n digits; no code asks for more than 4
// ("yyyy"), so longer runs of a letter count as 2 ("hhhh" is "hh").
func pad(v int64, n int) string {
	s := strconv.FormatInt(v, 10)
	if n > 4 {
		n = 2
	}
	if len(s) < n {
		s = strings.Repeat("0", n-len(s)) + s
	}
	return s
}
