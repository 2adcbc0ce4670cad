package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mugai/policy"
	"mugai/policy/audit"
)

// jst is the zone the week's report is shown in (fixed, so the test does
// not depend on the machine's tzdata).
var jst = time.FixedZone("JST", 9*3600)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// week writes, through the audit package itself, five days of a city's
// gateway (2026-11-02 Mon to 11-06 Fri, JST) as two files split the way
// logrotate would, and returns them, the older first:
//   - Mon: start under policy A; m1 (an .exe removed), delivered.
//   - Tue: m2 to two, one bounced, so a DSN (mugai's own) is delivered;
//     a reload refused (A stays).
//   - Wed: reload to policy B; m3 (an .exe removed); m1's original
//     released (r1) and a portal notice; the log is rotated between the
//     release and its delivery.
//   - Thu: no mail; one transaction answered 4xx (tempfail: space).
//   - Fri: restart under B (the same version); m4; a part of m3 released
//     (r2), deferred once, then delivered.
func week(t *testing.T) (older, newer string) {
	t.Helper()
	dir := t.TempDir()
	older, newer = filepath.Join(dir, "audit.jsonl.1"), filepath.Join(dir, "audit.jsonl")
	log, err := audit.Open(older)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { log.Close() }()
	at := func(day, hour int) {
		log.Now = func() time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, jst) }
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	pinned := func(_ *os.File, unpin func(), err error) { check(err); unpin() }
	exe := func(id string) []policy.Decision {
		return []policy.Decision{
			{MsgID: id, Path: "1", DetectedType: "text/plain", Action: policy.ActionTextify, RuleID: "body-text", Clause: "2(13)", Reason: policy.ReasonBodyText},
			{MsgID: id, Path: "2", DetectedType: "application/x-msdownload", Filename: "a.exe", Action: policy.ActionStrip, RuleID: "builtin-dangerous-type", Clause: "6(6)", Reason: policy.ReasonDangerousType},
		}
	}
	in := func(id string, rcpts ...string) audit.Envelope {
		return audit.Envelope{From: "partner@example.jp", Rcpts: rcpts, Client: "192.0.2.1"}
	}
	at(2, 8)
	check(log.Policy("/etc/mugai/policy.yaml", shaA, "", ""))
	at(2, 10)
	pinned(log.AcceptedPinned("m1", in("m1", "x@city.lg.jp"), exe("m1"), shaA))
	check(log.Delivered("m1", "x@city.lg.jp", "lgwan", "250 ok"))

	at(3, 10)
	pinned(log.AcceptedPinned("m2", in("m2", "x@city.lg.jp", "nobody@city.lg.jp"), exe("m2")[:1], shaA))
	check(log.Delivered("m2", "x@city.lg.jp", "lgwan", "250 ok"))
	check(log.Bounced("m2", "nobody@city.lg.jp", "lgwan", "550 no such user"))
	pinned(log.AcceptedPinned("d1", audit.Envelope{Rcpts: []string{"partner@example.jp"}}, nil, shaA))
	check(log.Delivered("d1", "partner@example.jp", "internet", "250 ok"))
	at(3, 12)
	check(log.Policy("/etc/mugai/policy.yaml", shaA, shaA, "policy.yaml:3: unknown key \"rulez\""))

	at(4, 9)
	check(log.Policy("/etc/mugai/policy.yaml", shaB, shaA, ""))
	at(4, 10)
	pinned(log.AcceptedPinned("m3", in("m3", "x@city.lg.jp"), exe("m3"), shaB))
	check(log.Delivered("m3", "x@city.lg.jp", "lgwan", "250 ok"))
	at(4, 11)
	pinned(log.ReleasedPinned("m1", "yamada", "vendor tool", "r1", []string{"x@city.lg.jp"}, nil))
	pinned(log.NotifiedPinned(audit.PortalRecord{Header: audit.Header{ID: "m3"}, SpoolID: "n1", Rcpt: []string{"x@city.lg.jp"}}))

	check(log.Close()) // logrotate: the older file is complete
	if log, err = audit.Open(newer); err != nil {
		t.Fatal(err)
	}
	at(4, 11)
	check(log.Delivered("r1", "x@city.lg.jp", "lgwan", "250 ok"))
	check(log.Delivered("n1", "x@city.lg.jp", "lgwan", "250 ok"))

	at(5, 23) // Thu night: the disk filled and the sender was told to retry
	check(log.Tempfail("t1", audit.ClassSpace, in("t1", "y@city.lg.jp"), "452 4.3.1 Insufficient system storage"))
	at(6, 8)
	check(log.Policy("/etc/mugai/policy.yaml", shaB, "", ""))
	at(6, 9)
	pinned(log.AcceptedPinned("m4", in("m4", "y@city.lg.jp"), exe("m4")[:1], shaB))
	check(log.Delivered("m4", "y@city.lg.jp", "lgwan", "250 ok"))
	at(6, 15)
	pinned(log.ReleasedPinned("m3", "suzuki", "needed", "r2", []string{"x@city.lg.jp"}, nil))
	check(log.Deferred("r2", "x@city.lg.jp", "lgwan", "451 later"))
	at(6, 16)
	check(log.Delivered("r2", "x@city.lg.jp", "lgwan", "250 ok"))
	return older, newer
}

// weekReport reads the newer file first, as `mugai report audit.jsonl*`
// would, and shows it in JST.
func weekReport(t *testing.T, since, until time.Time) *Report {
	t.Helper()
	older, newer := week(t)
	r := New(since, until)
	r.Loc = jst
	for _, name := range []string{newer, older} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Add(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestWeekMessages: releases and mugai's own mail are counted apart from
// the sanitized mail delivered, whatever order the files are read in.
func TestWeekMessages(t *testing.T) {
	r := weekReport(t, time.Time{}, time.Time{})
	got := map[string]int{}
	for _, l := range r.Lines() {
		if l.Meaning == "" || !strings.Contains(l.Label, " / ") {
			t.Errorf("%s has no meaning or no Japanese and English label: %+v", l.Key, l)
		}
		got[l.Key] = l.N
	}
	want := map[string]int{"received": 4, "delivered": 4, "bounced": 1, "released": 2, "release_delivered": 2,
		"release_deferred": 1, "own": 2, "own_delivered": 2, "deferred": 0, "rejected": 0, "tempfail": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

// TestWeekDays: one row per day of the period, the empty Thursday too.
func TestWeekDays(t *testing.T) {
	r := weekReport(t, time.Time{}, time.Time{})
	var got []string
	for _, d := range r.Days() {
		got = append(got, fmtDay(d))
	}
	want := []string{"2026-11-02 月 1 1 0", "2026-11-03 火 1 0 0", "2026-11-04 水 1 1 1", "2026-11-05 木 0 0 0", "2026-11-06 金 1 0 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("days:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A requested period is charted whole, mail or not.
	r = weekReport(t, time.Date(2026, 11, 1, 0, 0, 0, 0, jst), time.Date(2026, 11, 8, 0, 0, 0, 0, jst))
	if days := r.Days(); len(days) != 7 || fmtDay(days[0]) != "2026-11-01 日 0 0 0" || fmtDay(days[6]) != "2026-11-07 土 0 0 0" {
		t.Errorf("requested week: %v", days)
	}
}

func fmtDay(d Day) string {
	return strings.Join([]string{dayLabel(d.Date), itoa(d.Received), itoa(d.Removed), itoa(d.Released)}, " ")
}

// TestWeekVersions: A from Monday until Wednesday's reload, B from then
// to the end (Friday's restart under B is not a new version), each with
// the decisions made under it; the refused reload is listed apart.
func TestWeekVersions(t *testing.T) {
	r := weekReport(t, time.Time{}, time.Time{})
	vs := r.Versions()
	if len(vs) != 2 {
		t.Fatalf("versions: %+v", vs)
	}
	wed := time.Date(2026, 11, 4, 9, 0, 0, 0, jst)
	if v := vs[0]; v.SHA256 != shaA || v.Source != "/etc/mugai/policy.yaml" || !v.From.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, jst)) || !v.Until.Equal(wed) || v.Decisions != 3 {
		t.Errorf("A: %+v", v)
	}
	if v := vs[1]; v.SHA256 != shaB || !v.From.Equal(wed) || !v.Until.IsZero() || v.Decisions != 3 {
		t.Errorf("B: %+v", v)
	}
	if f := r.Refusals(); len(f) != 1 || !strings.Contains(f[0].Error, "rulez") {
		t.Errorf("refusals: %+v", f)
	}
	// From Thursday on, only B was in force; its start is still shown.
	r = weekReport(t, time.Date(2026, 11, 5, 0, 0, 0, 0, jst), time.Time{})
	if vs := r.Versions(); len(vs) != 1 || vs[0].SHA256 != shaB || !vs[0].From.Equal(wed) || vs[0].Decisions != 1 {
		t.Errorf("from Thursday: %+v", vs)
	}
	if f := r.Refusals(); len(f) != 0 {
		t.Errorf("refusals from Thursday: %+v", f)
	}
}

// TestWeekText: the auditor's page, whole (golden), and what it must say.
func TestWeekText(t *testing.T) {
	var b bytes.Buffer
	if err := weekReport(t, time.Time{}, time.Time{}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "week.txt", b.Bytes())
	for _, want := range []string{
		"期間 / Period: 2026-11-02 08:00 JST (最初の記録 / first record) – 2026-11-06 16:00 JST (最後の記録 / last record)",
		"時刻の表示 / Times shown in: JST (JST, UTC+09:00)",
		"6(6)   2  技術的セキュリティ / Technical security",
		"  2026-11-04 水      1 ##########      1 ##########      1 ##########",
		"  2026-11-05 木      0                 0                 0",
		"sha256:              " + shaB,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if chartRow.MatchString(line) && columns(line) > 72 {
			t.Errorf("chart line %d is %d columns wide: %q", i+1, columns(line), line)
		}
	}
}

var chartRow = regexp.MustCompile(`^  \d{4}-\d\d-\d\d [日月火水木金土] `)

// TestClauseTitles: the deployment's own catalogue gives the titles; a
// clause it lacks says so.
func TestClauseTitles(t *testing.T) {
	cs, err := policy.ParseClauses("own.yaml", []byte(strings.ReplaceAll(string(mustRead(t, "../clauses.yaml")), "技術的セキュリティ", "技術的対策")))
	if err != nil {
		t.Fatal(err)
	}
	r := New(time.Time{}, time.Time{})
	r.Catalogue = cs
	if got := r.ClauseTitle("6(6)"); got != "技術的対策 / Technical security" {
		t.Errorf("own catalogue: %q", got)
	}
	if got := r.ClauseTitle("99"); !strings.Contains(got, "not in the clause catalogue") {
		t.Errorf("unknown clause: %q", got)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWeekCSVAndHTML: the chart, the versions and the clause titles are
// in the other formats too.
func TestWeekCSVAndHTML(t *testing.T) {
	r := weekReport(t, time.Time{}, time.Time{})
	var c, h bytes.Buffer
	if err := r.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"period,since,2026-11-02T08:00:00+09:00\n", "period,until,2026-11-06T16:00:00+09:00\n",
		"messages,delivered,4\n", "messages,release_delivered,2\n", "messages,own,2\n",
		"day-received,2026-11-05,0\n", "day-removed,2026-11-04,1\n", "day-released,2026-11-06,1\n",
		"policy-version-1,sha256," + shaA + "\n", "policy-version-1,until,2026-11-04T09:00:00+09:00\n",
		"policy-version-2,source,/etc/mugai/policy.yaml\n", "policy-version-2,decisions,3\n",
		"clause-title,6(6),技術的セキュリティ / Technical security\n",
		"policy-refused,2026-11-03T12:00:00+09:00,",
	} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("csv lacks %q", want)
		}
	}
	for _, want := range []string{
		"<title>2026-11-04 水: 1</title>", "<td>2026-11-05 木</td><td class=\"n\">0</td>",
		"<code>" + shaB + "</code>", "(最後まで有効 / still in force at the end)",
		"<th>提供の配送 / release deliveries</th><td class=\"n\">2</td>", "unknown key &#34;rulez&#34;",
		"最も多い日 1 件が棒の全高 / the full height is the largest day, 1",
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
}
