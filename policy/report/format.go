package report

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"text/tabwriter"
)

// WriteText writes the report as aligned plain text.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "mugai report: %s\n%d records", r.period(), r.Records)
	if r.Unreadable > 0 {
		fmt.Fprintf(tw, ", %d unreadable lines skipped", r.Unreadable)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "\nメール / Messages")
	for _, t := range r.totals() {
		fmt.Fprintf(tw, "  %s\t%s\n", t[0], t[1])
	}
	for _, s := range r.sections() {
		fmt.Fprintf(tw, "\n%s\n", s.Title)
		if len(s.C) == 0 {
			fmt.Fprintln(tw, "  (none)")
		}
		for _, k := range top(s.C.Sorted(), s.Top) {
			fmt.Fprintf(tw, "  %s\t%d\n", k, s.C[k])
		}
	}
	return tw.Flush()
}

// WriteCSV writes one row per figure: section, key, count.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"section", "key", "count"})
	for _, t := range r.totals() {
		cw.Write([]string{"messages", t[0], t[1]})
	}
	for _, s := range r.sections() {
		for _, k := range top(s.C.Sorted(), s.Top) {
			cw.Write([]string{s.Name, k, fmt.Sprint(s.C[k])})
		}
	}
	cw.Flush()
	return cw.Error()
}

// bar is one row of an inline SVG bar chart.
type bar struct {
	Key   string
	Count int
	Width int // pixels
	Y     int
}

type htmlSection struct {
	Title  string
	Bars   []bar
	Height int
}

// WriteHTML writes one self-contained page: tables and inline SVG bar
// charts, no script, no stylesheet or font or image from anywhere else,
// so an auditor can open it offline. html/template escapes every value.
func (r *Report) WriteHTML(w io.Writer) error {
	var secs []htmlSection
	for _, s := range r.sections() {
		keys := top(s.C.Sorted(), s.Top)
		maxCount := 1
		for _, k := range keys {
			maxCount = max(maxCount, s.C[k])
		}
		hs := htmlSection{Title: s.Title, Height: 22*len(keys) + 4}
		for i, k := range keys {
			hs.Bars = append(hs.Bars, bar{Key: k, Count: s.C[k], Width: 1 + 380*s.C[k]/maxCount, Y: 22 * i})
		}
		secs = append(secs, hs)
	}
	return page.Execute(w, struct {
		Period     string
		Records    int
		Unreadable int
		Totals     [][2]string
		Sections   []htmlSection
	}{r.period(), r.Records, r.Unreadable, r.totals(), secs})
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>mugai report</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:60em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #999;padding:.2em .6em;text-align:left}
td.n{text-align:right}
svg text{font-size:12px}
</style></head><body>
<h1>無害化ゲートウェイ 集計 / mugai report</h1>
<p>期間 / Period: {{.Period}} — {{.Records}} records{{if .Unreadable}}, {{.Unreadable}} unreadable lines skipped{{end}}</p>
<h2>メール / Messages</h2>
<table>{{range .Totals}}<tr><th>{{index . 0}}</th><td class="n">{{index . 1}}</td></tr>{{end}}</table>
{{range .Sections}}<h2>{{.Title}}</h2>
{{if .Bars}}<svg width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<text x="0" y="{{.Y}}" dy="15">{{.Key}}</text><rect x="300" y="{{.Y}}" width="{{.Width}}" height="18" fill="#4a7ab8"/><text x="{{.Width}}" y="{{.Y}}" dx="306" dy="15">{{.Count}}</text>
{{end}}</svg>
<table><tr><th>key</th><th>count</th></tr>{{range .Bars}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td></tr>{{end}}</table>
{{else}}<p>(none)</p>{{end}}{{end}}
</body></html>
`))
