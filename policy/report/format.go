package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// when shows a time in the report's zone, with the zone.
func (r *Report) when(t time.Time) string {
	return t.In(r.loc()).Format("2006-01-02 15:04 MST")
}

// zone names the time zone the report shows times in.
func (r *Report) zone() string {
	name := r.loc().String()
	if name == "Local" {
		name = "この計算機の現地時間 / this machine's local time"
	}
	at := r.First
	if at.IsZero() {
		at = time.Now()
	}
	return name + " (" + at.In(r.loc()).Format("MST, UTC-07:00") + ")"
}

// periodLines say what the report covers: the period (the requested
// bounds, or the first and the last record), the records and the zone.
func (r *Report) periodLines() []string {
	bound := func(t, rec time.Time, which string) string {
		switch {
		case !t.IsZero():
			return r.when(t)
		case rec.IsZero():
			return "(記録なし / no records)"
		}
		return r.when(rec) + " " + which
	}
	lines := []string{
		"期間 / Period: " + bound(r.Since, r.First, "(最初の記録 / first record)") + " – " +
			bound(r.Until, r.Last, "(最後の記録 / last record)"),
		fmt.Sprintf("記録 / Records: %d", r.Records),
		"時刻の表示 / Times shown in: " + r.zone(),
	}
	if r.Records > 0 {
		lines[1] += fmt.Sprintf(" (%s – %s)", r.when(r.First), r.when(r.Last))
	}
	if r.Unreadable > 0 {
		lines[1] += fmt.Sprintf("; 読めない行 %d 行は飛ばした / %d unreadable lines skipped", r.Unreadable, r.Unreadable)
	}
	return lines
}

// versionRange is a version's stretch in words.
func (r *Report) versionRange(v Version) (from, until string) {
	from, until = "(記録より前 / before the logs read)", "(最後まで有効 / still in force at the end)"
	if !v.From.IsZero() {
		from = r.when(v.From)
	}
	if !v.Until.IsZero() {
		until = r.when(v.Until)
	}
	return from, until
}

func source(v Version) string {
	if v.Source == "" {
		return "(ファイル名の記録なし / no policy record names it)"
	}
	return clean(v.Source)
}

// inert keeps a CSV cell from being taken for a formula by a spreadsheet
// (a sender "=HYPERLINK(…)"): a leading ' as OWASP advises. Leading
// spaces are looked past: a spreadsheet that trims cells on import would
// find the formula behind them.
func inert(s string) string {
	// Full-width signs too, as the CSV rebuild does (sanitize/textfile).
	if t := strings.TrimLeft(s, " "); t != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", firstRune(t)) {
		return "'" + s
	}
	return s
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// clean keeps a value from the log to one line of printable text.
func clean(s string) string {
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || unicode.In(c, unicode.Cf, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return c
	}, s)
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// WriteText writes the report as plain text for a terminal or a mail:
// Japanese first with English beside it, at most about 80 columns but
// for the long meanings.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintln(w, "無害化ゲートウェイ 集計 / mugai report")
	for _, l := range r.periodLines() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "\nメール / Messages")
	for _, l := range r.Lines() {
		fmt.Fprintf(w, "  %s%7d\n      %s\n", pad(l.Label, 36), l.N, l.Meaning)
	}
	r.writeChart(w)
	r.writeVersions(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range r.sections() {
		fmt.Fprintf(tw, "\n%s\n", s.Title)
		if len(s.C) == 0 {
			fmt.Fprintln(tw, "  (none)")
		}
		for _, k := range top(s.C.Sorted(), s.Top) {
			if s.Note != nil {
				fmt.Fprintf(tw, "  %s\t%d\t%s\n", clean(k), s.C[k], s.Note(k))
				continue
			}
			fmt.Fprintf(tw, "  %s\t%d\n", clean(k), s.C[k])
		}
	}
	return tw.Flush()
}

func (r *Report) writeVersions(w io.Writer) {
	fmt.Fprintln(w, "\n適用したポリシーの版 / Policy versions in force")
	vs := r.Versions()
	if len(vs) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for i, v := range vs {
		from, until := r.versionRange(v)
		fmt.Fprintf(w, "  %d. %s – %s\n     ファイル / file:      %s\n     sha256:              %s\n     判定 / decisions:    %d\n",
			i+1, from, until, source(v), v.SHA256, v.Decisions)
	}
	if fs := r.Refusals(); len(fs) > 0 {
		fmt.Fprintln(w, "  読み込みを拒否した版（前の版のまま） / Reloads refused (the version in force stayed):")
		for _, f := range fs {
			fmt.Fprintf(w, "  - %s  %s\n    %s\n", r.when(f.Time), clean(f.Source), clean(f.Error))
		}
	}
}

// WriteCSV writes one row per figure: section, key, value (a cell that a
// spreadsheet would take for a formula starts with '). The message
// counts are in section "messages", a clause's title in "clause-title",
// the per-day chart in "day-received", "day-removed" and "day-released"
// (key: the date), each policy version in "policy-version-N".
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(cells ...string) {
		for i, c := range cells {
			cells[i] = inert(c)
		}
		cw.Write(cells)
	}
	row("section", "key", "value")
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(r.loc()).Format(time.RFC3339)
	}
	row("period", "since", stamp(r.start()))
	row("period", "until", stamp(r.end()))
	row("period", "time_zone", r.loc().String())
	row("period", "records", itoa(r.Records))
	row("period", "unreadable", itoa(r.Unreadable))
	for _, l := range r.Lines() {
		row("messages", l.Key, itoa(l.N))
	}
	for _, s := range r.sections() {
		for _, k := range top(s.C.Sorted(), s.Top) {
			row(s.Name, k, itoa(s.C[k]))
		}
		for _, k := range top(s.C.Sorted(), s.Top) {
			if s.Note != nil {
				row(s.Name+"-title", k, s.Note(k))
			}
		}
	}
	for _, d := range r.Days() {
		date := d.Date.Format(time.DateOnly)
		row("day-received", date, itoa(d.Received))
		row("day-removed", date, itoa(d.Removed))
		row("day-released", date, itoa(d.Released))
	}
	for i, v := range r.Versions() {
		sec := fmt.Sprintf("policy-version-%d", i+1)
		row(sec, "sha256", v.SHA256)
		row(sec, "source", v.Source)
		if !v.From.IsZero() {
			row(sec, "from", stamp(v.From))
		}
		if !v.Until.IsZero() {
			row(sec, "until", stamp(v.Until))
		}
		row(sec, "decisions", itoa(v.Decisions))
	}
	for _, f := range r.Refusals() {
		row("policy-refused", stamp(f.Time), clean(f.Source)+": "+clean(f.Error))
	}
	cw.Flush()
	return cw.Error()
}
