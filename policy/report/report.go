// Package report summarises audit logs for the mail admins and the
// auditors (policy clause 7, 自己点検): what came in, what was done to it
// under which rule, clause and policy version, what went out, what was
// released, day by day.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"mugai/policy"
)

// Report is the summary of one or more audit logs over a period. Set Loc
// and Catalogue before the first Add.
type Report struct {
	Since, Until time.Time // records with time in [Since, Until); zero = open

	// Loc is the time zone days and times are shown in; nil: time.Local.
	Loc *time.Location
	// Catalogue gives the clauses their titles; nil: the embedded one.
	Catalogue policy.Catalogue

	First, Last time.Time // the earliest and the latest record counted

	Records    int // records counted
	Unreadable int // lines that were not audit records

	Received int // messages accepted from the Internet side
	Rejected int // transactions refused
	Own      int // messages mugai wrote itself: DSNs, portal notices

	// Tempfails are the transactions answered 4xx for a local failure
	// (the tempfail records), by cause: spool, originals, audit, space...
	Tempfails Counts

	Actions  Counts // decisions by action
	Rules    Counts // by rule
	Clauses  Counts // by clause
	Types    Counts // by detected type
	Stripped Counts // removed parts (not unused alternatives) by reason
	Senders  Counts // envelope senders of messages with removed parts
	Releases Counts // releases by operator
	Purges   int

	ids      map[string]*message // message id → what it is, read in or out of the period
	flows    [kinds]Flow         // deliveries of messages whose kind was known when read
	pending  map[string]*Flow    // deliveries of messages not (yet) known
	days     map[string]*Day     // by date in Loc
	policies []policyRecord      // every policy record, in or out of the period
	cited    map[string]*citing  // decisions by policy sha256
}

// message is what the report remembers of one message id.
type message struct {
	from string
	kind kind
}

// Counts is a tally by key.
type Counts map[string]int

// Total is the sum of the counts.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

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
		Stripped: Counts{}, Senders: Counts{}, Releases: Counts{}, Tempfails: Counts{}, ids: map[string]*message{},
		pending: map[string]*Flow{}, days: map[string]*Day{}, cited: map[string]*citing{}}
}

// record holds the fields of every record type the report reads.
type record struct {
	Time         time.Time     `json:"time"`
	Event        string        `json:"event"`
	ID           string        `json:"id"`
	From         string        `json:"from"`
	Client       string        `json:"client"`
	Action       policy.Action `json:"action"`
	Rule         string        `json:"rule"`
	Clause       string        `json:"clause"`
	Reason       policy.Reason `json:"reason"`
	DetectedType string        `json:"detected_type"`
	Operator     string        `json:"operator"`
	SpoolID      string        `json:"spool_id"`
	Source       string        `json:"source"`
	Policy       string        `json:"policy"`
	Previous     string        `json:"previous"`
	Error        string        `json:"error"`
	Class        string        `json:"class"`
}

// orNone is a cause for a tally: a record without one is counted as such.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Add reads one audit log (JSON lines), streaming: a month of a busy
// city's log is not held in memory, only a sender per message id. Logs
// may be added in any order (a rotated one after the current one).
func (r *Report) Add(rd io.Reader) error {
	return eachLine(rd, maxLine, func(line []byte) {
		if line != nil && len(bytes.TrimSpace(line)) == 0 {
			return
		}
		var rec record
		if line == nil || json.Unmarshal(line, &rec) != nil || rec.Event == "" {
			r.Unreadable++
			return
		}
		// What a message is and which policy was in force are read
		// from the whole log: a release queued before the period may
		// be delivered in it, a policy loaded before it is in force.
		r.identify(rec)
		if !r.Since.IsZero() && rec.Time.Before(r.Since) || !r.Until.IsZero() && !rec.Time.Before(r.Until) {
			return
		}
		r.Records++
		if r.First.IsZero() || rec.Time.Before(r.First) {
			r.First = rec.Time
		}
		if rec.Time.After(r.Last) {
			r.Last = rec.Time
		}
		r.add(rec)
	})
}

// maxLine bounds one audit record: a longer line is not one mugai wrote
// whole (a crash mid-write, a file appended to by something else), and
// is counted unreadable like any other.
const maxLine = 4 << 20

// eachLine calls fn with each line of rd, without its line ending; a line
// longer than max is skipped to its end and passed as nil, so that one
// damaged line does not end the report. The error is rd's.
func eachLine(rd io.Reader, max int, fn func([]byte)) error {
	br := bufio.NewReaderSize(rd, 64<<10)
	var long []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case tooLong:
		case len(long)+len(chunk) > max:
			tooLong, long = true, long[:0]
		case err == bufio.ErrBufferFull || len(long) > 0:
			long = append(long, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(chunk) > 0 || len(long) > 0 || tooLong {
			switch {
			case tooLong:
				fn(nil)
			case len(long) > 0:
				fn(bytes.TrimRight(long, "\r\n"))
			default:
				fn(bytes.TrimRight(chunk, "\r\n"))
			}
		}
		long, tooLong = long[:0], false
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// identify notes what an id is, whatever the record's time.
func (r *Report) identify(rec record) {
	switch rec.Event {
	case "received":
		k := kindReceived
		if rec.Client == "" { // no SMTP client: a DSN mugai queued itself
			k = kindOwn
		}
		r.ids[rec.ID] = &message{from: rec.From, kind: k}
	case "released", "notified":
		if rec.SpoolID == "" {
			break
		}
		k := kindRelease
		if rec.Event == "notified" {
			k = kindOwn
		}
		r.ids[rec.SpoolID] = &message{kind: k}
	case "policy":
		r.policies = append(r.policies, policyRecord{rec.Time, rec.Source, rec.Policy, rec.Previous, rec.Error})
	}
}

func (r *Report) add(rec record) {
	switch rec.Event {
	case "received":
		if r.ids[rec.ID].kind == kindOwn {
			r.Own++
			break
		}
		r.Received++
		r.day(rec.Time).Received++
	case "notified":
		r.Own++
	case "rejected":
		r.Rejected++
	case "tempfail":
		r.Tempfails[orNone(rec.Class)]++
	case "delivered", "deferred", "bounced":
		r.flow(rec.ID).count(rec.Event)
	case "released":
		r.Releases[rec.Operator]++
		r.day(rec.Time).Released++
	case "purged":
		r.Purges++
	case "decision":
		r.decision(rec)
	}
}

func (r *Report) decision(rec record) {
	r.Actions[string(rec.Action)]++
	r.Rules[rec.Rule]++
	r.Clauses[rec.Clause]++
	r.cite(rec.Policy, rec.Time)
	if rec.DetectedType != "" {
		r.Types[rec.DetectedType]++
	}
	if rec.Action == policy.ActionStrip && rec.Reason != policy.ReasonAlternativeUnused {
		r.Stripped[string(rec.Reason)]++
		r.day(rec.Time).Removed++
		sender := "<>"
		if m := r.ids[rec.ID]; m != nil && m.from != "" {
			sender = m.from
		}
		r.Senders[sender]++
	}
}

func (r *Report) loc() *time.Location {
	if r.Loc == nil {
		return time.Local
	}
	return r.Loc
}

func (r *Report) catalogue() policy.Catalogue {
	if r.Catalogue == nil {
		return policy.DefaultClauses()
	}
	return r.Catalogue
}

// ClauseTitle is the title of a clause in the catalogue, or says that the
// catalogue lacks it (a log written under another catalogue).
func (r *Report) ClauseTitle(id string) string {
	if c, ok := r.catalogue().Lookup(id); ok {
		return c.Title
	}
	return "（条項の目録にない / not in the clause catalogue）"
}

// section is one tally as the formats print it.
type section struct {
	Name, Title string
	C           Counts
	Top         int                 // rows shown at most; 0: all
	Note        func(string) string // a line beside each key, or nil
}

// sections are the tallies in the order every format prints them.
func (r *Report) sections() []section {
	return []section{
		{"action", "処理別の件数 / Decisions by action", r.Actions, 0, nil},
		{"rule", "規則別 / Decisions by rule", r.Rules, 0, nil},
		{"clause", "条項別 / Decisions by clause", r.Clauses, 0, r.ClauseTitle},
		{"type", "検出した種類別 / Parts by detected type", r.Types, 20, nil},
		{"stripped", "削除した部分の理由別 / Removed parts by reason", r.Stripped, 0, nil},
		{"sender", "削除された部分が多い差出人 / Top senders of removed content", r.Senders, 10, nil},
		{"released", "原本の提供（担当者別） / Releases by operator", r.Releases, 0, nil},
		{"tempfail", "一時エラーの原因別 / Temporary local failures by cause", r.Tempfails, 0, nil},
	}
}

func top(keys []string, n int) []string {
	if n > 0 && len(keys) > n {
		return keys[:n]
	}
	return keys
}
