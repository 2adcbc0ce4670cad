package report

import (
	"html/template"
	"io"
)

// bar is one row of an inline SVG bar chart.
type bar struct {
	Key   string
	Count int
	Note  string
	Width int // pixels
	Y     int
}

type htmlSection struct {
	Title  string
	Bars   []bar
	Height int
	Notes  bool
}

// column is one vertical bar of a per-day chart.
type column struct {
	Date       string
	Count      int
	X, Y, W, H int
}

type dayChart struct {
	Title   string
	Columns []column
	Width   int
	Most    int // the largest day's count: the full height
}

type htmlVersion struct {
	Version
	From, Until, Source string
}

// Per-day charts: at most chartWidth pixels wide, chartHeight high.
const chartWidth, chartHeight = 720, 80

func (r *Report) dayCharts(days []Day) []dayChart {
	if len(days) == 0 {
		return nil
	}
	step := min(16, max(2, chartWidth/len(days)))
	charts := []dayChart{{Title: "受信したメール / Messages received"}, {Title: "削除した部分 / Parts removed"}, {Title: "原本の提供 / Releases"}}
	for i := range charts {
		most := 1
		for _, d := range days {
			most = max(most, [3]int{d.Received, d.Removed, d.Released}[i])
		}
		for j, d := range days {
			n := [3]int{d.Received, d.Removed, d.Released}[i]
			h := n * chartHeight / most
			if n > 0 {
				h = max(h, 1)
			}
			charts[i].Columns = append(charts[i].Columns, column{Date: dayLabel(d.Date), Count: n,
				X: j * step, Y: chartHeight - h, W: max(1, step-2), H: h})
		}
		charts[i].Width, charts[i].Most = len(days)*step, most
	}
	return charts
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
		hs := htmlSection{Title: s.Title, Height: 22*len(keys) + 4, Notes: s.Note != nil}
		for i, k := range keys {
			b := bar{Key: k, Count: s.C[k], Width: 1 + 380*s.C[k]/maxCount, Y: 22 * i}
			if s.Note != nil {
				b.Note = s.Note(k)
			}
			hs.Bars = append(hs.Bars, b)
		}
		secs = append(secs, hs)
	}
	var versions []htmlVersion
	for _, v := range r.Versions() {
		from, until := r.versionRange(v)
		versions = append(versions, htmlVersion{v, from, until, source(v)})
	}
	days := r.Days()
	var dayRows [][4]string
	for _, d := range days {
		dayRows = append(dayRows, [4]string{dayLabel(d.Date), itoa(d.Received), itoa(d.Removed), itoa(d.Released)})
	}
	return page.Execute(w, map[string]any{
		"Period": r.periodLines(), "Lines": r.Lines(), "Sections": secs, "Charts": r.dayCharts(days), "Days": dayRows,
		"Versions": versions, "Refusals": r.Refusals(), "When": r.when, "Height": chartHeight,
	})
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{"dec": func(n int) int { return n - 1 }}).Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>mugai report</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:60em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #999;padding:.2em .6em;text-align:left}
td.n{text-align:right}
svg text{font-size:12px}
</style></head><body>
<h1>無害化ゲートウェイ 集計 / mugai report</h1>
{{range .Period}}<p>{{.}}</p>
{{end}}<h2>メール / Messages</h2>
<table>{{range .Lines}}<tr><th>{{.Label}}</th><td class="n">{{.N}}</td><td>{{.Meaning}}</td></tr>{{end}}</table>
<h2>日別の件数 / Per day</h2>
{{if .Days}}{{range .Charts}}<h3>{{.Title}}</h3>
<svg width="{{.Width}}" height="{{$.Height}}" role="img" aria-label="{{.Title}}">
{{range .Columns}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#4a7ab8"><title>{{.Date}}: {{.Count}}</title></rect>
{{end}}</svg>
<p>{{(index .Columns 0).Date}} – {{(index .Columns (len .Columns | dec)).Date}}; 最も多い日 {{.Most}} 件が棒の全高 / the full height is the largest day, {{.Most}}</p>
{{end}}<table><tr><th>日付 / day</th><th>受信 / received</th><th>削除 / removed</th><th>提供 / releases</th></tr>
{{range .Days}}<tr><td>{{index . 0}}</td><td class="n">{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td></tr>
{{end}}</table>
{{else}}<p>(none)</p>{{end}}
<h2>適用したポリシーの版 / Policy versions in force</h2>
{{if .Versions}}<table><tr><th>から / from</th><th>まで / until</th><th>ファイル / file</th><th>sha256</th><th>判定 / decisions</th></tr>
{{range .Versions}}<tr><td>{{.From}}</td><td>{{.Until}}</td><td>{{.Source}}</td><td><code>{{.SHA256}}</code></td><td class="n">{{.Decisions}}</td></tr>
{{end}}</table>
{{else}}<p>(none)</p>{{end}}{{if .Refusals}}<p>読み込みを拒否した版（前の版のまま） / Reloads refused (the version in force stayed):</p>
<ul>{{range .Refusals}}<li>{{call $.When .Time}}: {{.Source}}: {{.Error}}</li>{{end}}</ul>
{{end}}{{range .Sections}}<h2>{{.Title}}</h2>
{{if .Bars}}<svg width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<text x="0" y="{{.Y}}" dy="15">{{.Key}}</text><rect x="300" y="{{.Y}}" width="{{.Width}}" height="18" fill="#4a7ab8"/><text x="{{.Width}}" y="{{.Y}}" dx="306" dy="15">{{.Count}}</text>
{{end}}</svg>
<table><tr><th>項目 / key</th><th>件数 / count</th>{{if .Notes}}<th>題名 / title</th>{{end}}</tr>{{range .Bars}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td>{{if .Note}}<td>{{.Note}}</td>{{end}}</tr>{{end}}</table>
{{else}}<p>(none)</p>{{end}}{{end}}
</body></html>
`))
