// Package report summarises audit logs for the mail admins and the
// auditors (policy clause 7, 自己点検): what came in, what was done to it
// under which rule and clause, what went out, what was released.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"mugai/policy"
)

// Report is the summary of one or more audit logs over a period.
type Report struct {
	Since, Until time.Time // records with time in [Since, Until); zero = open

	Records    int // records counted
	Unreadable int // lines that were not audit records

	Received  int // messages accepted (250)
	Rejected  int // transactions refused
	Delivered int // per recipient
	Deferred  int // per recipient and attempt
	Bounced   int // per recipient

	Actions  Counts // decisions by action
	Rules    Counts // by rule
	Clauses  Counts // by clause
	Types    Counts // by detected type
	Stripped Counts // removed parts (not unused alternatives) by reason
	Senders  Counts // envelope senders of messages with removed parts
	Releases Counts // releases by operator
	Purges   int

	from map[string]string // message id → envelope sender, for Senders
}

// Counts is a tally by key.
type Counts map[string]int

// Sorted returns the keys by count, highest first, then by name.
func (c Counts) Sorted() []string {
	keys := slices.Collect(maps.Keys(c))
	slices.SortFunc(keys, func(a, b string) int {
		if c[a] != c[b] {
			return c[b] - c[a]
		}
		return strings.Compare(a, b)
	})
	return keys
}

// New returns an empty report for [since, until).
func New(since, until time.Time) *Report {
	return &Report{Since: since, Until: until, Actions: Counts{}, Rules: Counts{}, Clauses: Counts{}, Types: Counts{},
		Stripped: Counts{}, Senders: Counts{}, Releases: Counts{}, from: map[string]string{}}
}

// record holds the fields of every record type the report reads.
type record struct {
	Time         time.Time     `json:"time"`
	Event        string        `json:"event"`
	ID           string        `json:"id"`
	From         string        `json:"from"`
	Action       policy.Action `json:"action"`
	Rule         string        `json:"rule"`
	Clause       string        `json:"clause"`
	Reason       policy.Reason `json:"reason"`
	DetectedType string        `json:"detected_type"`
	Operator     string        `json:"operator"`
}

// Add reads one audit log (JSON lines), streaming: a month of a busy
// city's log is not held in memory, only a sender per message id.
func (r *Report) Add(rd io.Reader) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil || rec.Event == "" {
			r.Unreadable++
			continue
		}
		if !r.Since.IsZero() && rec.Time.Before(r.Since) || !r.Until.IsZero() && !rec.Time.Before(r.Until) {
			continue
		}
		r.Records++
		r.add(rec)
	}
	return sc.Err()
}

func (r *Report) add(rec record) {
	switch rec.Event {
	case "received":
		r.Received++
		r.from[rec.ID] = rec.From
	case "rejected":
		r.Rejected++
	case "delivered":
		r.Delivered++
	case "deferred":
		r.Deferred++
	case "bounced":
		r.Bounced++
	case "released":
		r.Releases[rec.Operator]++
	case "purged":
		r.Purges++
	case "decision":
		r.Actions[string(rec.Action)]++
		r.Rules[rec.Rule]++
		r.Clauses[rec.Clause]++
		if rec.DetectedType != "" {
			r.Types[rec.DetectedType]++
		}
		if rec.Action == policy.ActionStrip && rec.Reason != policy.ReasonAlternativeUnused {
			r.Stripped[string(rec.Reason)]++
			sender := r.from[rec.ID]
			if sender == "" {
				sender = "<>"
			}
			r.Senders[sender]++
		}
	}
}

// section is one tally as the formats print it.
type section struct {
	Name, Title string
	C           Counts
	Top         int // rows shown at most; 0: all
}

// sections are the tallies in the order every format prints them.
func (r *Report) sections() []section {
	return []section{
		{"action", "処理別の件数 / Decisions by action", r.Actions, 0},
		{"rule", "規則別 / Decisions by rule", r.Rules, 0},
		{"clause", "条項別 / Decisions by clause", r.Clauses, 0},
		{"type", "検出した種類別 / Parts by detected type", r.Types, 20},
		{"stripped", "削除した部分の理由別 / Removed parts by reason", r.Stripped, 0},
		{"sender", "削除された部分が多い差出人 / Top senders of removed content", r.Senders, 10},
		{"released", "原本の提供（担当者別） / Releases by operator", r.Releases, 0},
	}
}

func (r *Report) totals() [][2]string {
	return [][2]string{
		{"received", fmt.Sprint(r.Received)}, {"rejected", fmt.Sprint(r.Rejected)},
		{"delivered", fmt.Sprint(r.Delivered)}, {"deferred", fmt.Sprint(r.Deferred)},
		{"bounced", fmt.Sprint(r.Bounced)}, {"purges", fmt.Sprint(r.Purges)},
	}
}

func (r *Report) period() string {
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.Format("2006-01-02 15:04 MST")
	}
	return f(r.Since, "(start of the log)") + " – " + f(r.Until, "(end of the log)")
}

func top(keys []string, n int) []string {
	if n > 0 && len(keys) > n {
		return keys[:n]
	}
	return keys
}
