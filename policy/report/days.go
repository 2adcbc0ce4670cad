package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Day is one day's figures in the per-day chart.
type Day struct {
	Date     time.Time // midnight in the report's time zone
	Received int       // messages accepted from the Internet side
	Removed  int       // parts removed (unused alternatives not counted)
	Released int       // releases
}

// maxChartDays bounds the chart: a requested period wider than it is
// charted from the first record's day to the last's, and a log of more
// days than that by its last maxChartDays days.
const maxChartDays = 400

func (r *Report) day(t time.Time) *Day {
	t = t.In(r.loc())
	key := t.Format(time.DateOnly)
	d := r.days[key]
	if d == nil {
		d = &Day{Date: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, r.loc())}
		r.days[key] = d
	}
	return d
}

// Days returns every day of the period, in order, those without any
// mail too: the requested period (-since, -until) where given, the log's
// first and last records elsewhere.
func (r *Report) Days() []Day {
	if r.Records == 0 {
		return nil
	}
	first, last := r.start(), r.end()
	if !r.Until.IsZero() {
		last = r.Until.Add(-time.Nanosecond)
	}
	if last.Sub(first) > maxChartDays*24*time.Hour {
		first, last = r.First, r.Last
	}
	if last.Sub(first) > maxChartDays*24*time.Hour { // a log of years: its last days
		first = last.AddDate(0, 0, -maxChartDays)
	}
	loc := r.loc()
	first, last = first.In(loc), last.In(loc)
	var days []Day
	for d := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc); !d.After(last); d = d.AddDate(0, 0, 1) {
		day := Day{Date: d}
		if got := r.days[d.Format(time.DateOnly)]; got != nil {
			day = *got
		}
		days = append(days, day)
	}
	return days
}

// weekdays are the days of the week as a Japanese calendar writes them.
var weekdays = [7]string{"日", "月", "火", "水", "木", "金", "土"}

// dayLabel is "2026-11-01 日": the date and its day of the week.
func dayLabel(d time.Time) string { return d.Format(time.DateOnly) + " " + weekdays[d.Weekday()] }

// The text chart: one row per day, for each figure its count and a bar
// of '#'. ASCII only in the rows: block characters such as █ are of
// ambiguous width and take two columns in a Japanese terminal or mail
// font, which would break the alignment. 72 columns at most.
const (
	barWidth   = 10
	countWidth = 5
	cellWidth  = countWidth + 1 + barWidth + 2
	dayWidth   = 15
)

// writeChart writes the per-day chart as text.
func (r *Report) writeChart(w io.Writer) {
	days := r.Days()
	fmt.Fprintln(w, "\n日別の件数 / Per day")
	if len(days) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	fmt.Fprintln(w, "  受信 = 受け付けたメール、削除 = 削除した部分、提供 = 原本の提供")
	fmt.Fprintln(w, "  received = messages accepted, removed = parts removed, releases = originals released")
	fmt.Fprintln(w, "  棒の長さは列ごとの最大値に対する割合 / each bar is scaled to its column's largest day")
	fmt.Fprintln(w)
	maxes := [3]int{1, 1, 1}
	for _, d := range days {
		maxes = [3]int{max(maxes[0], d.Received), max(maxes[1], d.Removed), max(maxes[2], d.Released)}
	}
	fmt.Fprintln(w, strings.TrimRight("  "+pad("日付 / day", dayWidth)+pad("受信 / received", cellWidth)+
		pad("削除 / removed", cellWidth)+"提供 / releases", " "))
	for _, d := range days {
		row := "  " + pad(dayLabel(d.Date), dayWidth)
		for i, n := range [3]int{d.Received, d.Removed, d.Released} {
			row += pad(fmt.Sprintf("%*d %s", countWidth, n, hashes(n, maxes[i])), cellWidth)
		}
		fmt.Fprintln(w, strings.TrimRight(row, " "))
	}
}

// hashes is n's share of most in '#', at least one for any n > 0.
func hashes(n, most int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("#", max(1, (n*barWidth+most/2)/most))
}

// pad fills s with spaces to width columns of a fixed-width font.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-columns(s)))
}

// columns is how many columns s takes in a fixed-width font: two for the
// wide characters of East Asian scripts (kana, kanji, full-width forms),
// one for the others.
func columns(s string) int {
	n := 0
	for _, c := range s {
		n++
		if wide(c) {
			n++
		}
	}
	return n
}

func wide(c rune) bool {
	switch {
	case c < 0x1100 || c == utf8.RuneError:
		return false
	case c <= 0x115f, c >= 0x2e80 && c <= 0xa4cf && c != 0x303f, c >= 0xac00 && c <= 0xd7a3,
		c >= 0xf900 && c <= 0xfaff, c >= 0xfe30 && c <= 0xfe4f, c >= 0xff00 && c <= 0xff60,
		c >= 0xffe0 && c <= 0xffe6, c >= 0x20000 && c <= 0x3fffd:
		return true
	}
	return false
}
