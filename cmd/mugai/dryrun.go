package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message/textproto"

	"mugai/policy"
	"mugai/sanitize"
	"mugai/sanitize/text"
)

// envFlags are the envelope a dry run (policy test, sanitize) gives the
// rebuild, so that rules on the sender, the recipients and
// authentication see what the gateway would see.
type envFlags struct {
	from   optString
	rcpts  stringList
	client string
}

// optString is a flag that knows whether it was given (-from "" and -from
// <> both name the null sender).
type optString struct {
	v   string
	set bool
}

func (o *optString) String() string     { return o.v }
func (o *optString) Set(v string) error { o.v, o.set = v, true; return nil }

func envelopeFlags(fs *flags) *envFlags {
	e := &envFlags{}
	fs.Var(&e.from, "from", "envelope sender (MAIL FROM; <> for the null sender); default: the message's Return-Path")
	fs.Var(&e.rcpts, "rcpt", "envelope recipient (repeatable); default: the message's Delivered-To, X-Original-To or To")
	fs.StringVar(&e.client, "client", "", "IP address of the sending client, shown with the envelope (no rule matches on it today)")
	return e
}

func (e *envFlags) check() error {
	if e.client != "" {
		if _, err := netip.ParseAddr(e.client); err != nil {
			return usagef("-client %q is not an IP address", e.client)
		}
	}
	return nil
}

// dryEnvelope is the envelope of one message of a dry run, where each
// piece came from, and what is missing.
type dryEnvelope struct {
	env              sanitize.Envelope
	fromSrc, rcptSrc string // "-from", "Return-Path", …; "" when missing
	missing          []policy.Need
}

// forMessage is the envelope for msg: the flags, else what its header
// says (the topmost Return-Path; the topmost Delivered-To or
// X-Original-To, else To).
func (e *envFlags) forMessage(msg []byte) dryEnvelope {
	d := dryEnvelope{env: sanitize.Envelope{ClientIP: e.client, Received: time.Now()}}
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg))) // a broken header gives what it can
	switch {
	case e.from.set:
		d.env.From, d.fromSrc = bareAddr(e.from.v), "-from"
	case h.Has("Return-Path") && !hasControl(bareAddr(h.Get("Return-Path"))):
		d.env.From, d.fromSrc = bareAddr(h.Get("Return-Path")), "Return-Path"
	default: // none, or one no MAIL FROM could have given (a CR or other control character in it)
		d.missing = append(d.missing, policy.NeedSender)
	}
	if len(e.rcpts) > 0 {
		d.env.Rcpts, d.rcptSrc = e.rcpts, "-rcpt"
		return d
	}
	for _, k := range []string{"Delivered-To", "X-Original-To", "To"} {
		vs := h.Values(k)
		if k != "To" && len(vs) > 1 {
			// One recipient each, written at the top by the last
			// delivery: those below are an earlier hop's or forged.
			vs = vs[:1]
		}
		if rs := headerAddrs(vs); len(rs) > 0 {
			d.env.Rcpts, d.rcptSrc = rs, k
			return d
		}
	}
	d.missing = append(d.missing, policy.NeedRcpts)
	return d
}

// bareAddr is an address as MAIL FROM has it: "<a@b>" → "a@b", "<>" → "".
func bareAddr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j >= 0 {
			s = s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

// hasControl reports whether s holds a control character (a header cut
// short can leave a bare CR in its last value).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func headerAddrs(values []string) []string {
	var out []string
	as, _ := text.ParseAddressList(strings.Join(values, ", "))
	for _, a := range as {
		if a.Address != "" {
			out = append(out, a.Address)
		}
	}
	return out
}

// print says which envelope the dry run assumed.
func (d dryEnvelope) print(w io.Writer) {
	from := "none (pass -from)"
	if d.fromSrc != "" {
		from = "<" + printable(d.env.From) + "> (" + d.fromSrc + ")"
	}
	rcpts := "none (pass -rcpt)"
	if d.rcptSrc != "" {
		rcpts = printable(strings.Join(d.env.Rcpts, ", ")) + " (" + d.rcptSrc + ")"
	}
	fmt.Fprintf(w, "envelope: from %s; rcpt %s; client %s\n", from, rcpts, dash(d.env.ClientIP))
}

// observation is a subject the rules were asked about and the rules that
// could not apply to it for lack of data.
type observation struct {
	s         policy.Subject
	unapplied []policy.Unapplied
}

// observer collects, through a copy of a policy, the rules a dry run
// could not evaluate.
type observer struct {
	mu      sync.Mutex
	missing []policy.Need // what the message being rebuilt lacks
	obs     []observation
}

// watch returns a copy of pol whose evaluations o records.
func (o *observer) watch(pol *policy.Policy) *policy.Policy {
	q := *pol
	q.Observe = func(s policy.Subject, _ policy.Rule) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if us := pol.Unapplied(s, o.missing...); len(us) > 0 {
			o.obs = append(o.obs, observation{s, us})
		}
	}
	return &q
}

// start begins a message that lacks missing.
func (o *observer) start(missing []policy.Need) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.missing, o.obs = missing, nil
}

// take returns what was observed since start.
func (o *observer) take() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.obs
}

// printUnapplied prints, after the decisions, each rule that could not be
// evaluated for a part and why: a dry run without an envelope would
// otherwise show another rule deciding, with no warning.
func printUnapplied(w io.Writer, pol *policy.Policy, ds []policy.Decision, obs []observation) {
	seen := map[string]bool{}
	at := 0
	for _, ob := range obs {
		part := "message"
		if j := findDecision(ds, ob.s, at); j >= 0 {
			at, part = j, "part "+ds[j].Path+", decided by "+ds[j].RuleID
		}
		for _, u := range ob.unapplied {
			line := fmt.Sprintf("%s: rule %s not applied: %s", part, u.Rule.ID, lacking(pol, u.Missing))
			if !seen[line] {
				seen[line] = true
				fmt.Fprintln(w, printable(line))
			}
		}
	}
}

// findDecision returns the decision about the part s describes: the first
// from at (evaluations come in the decisions' order), else any; -1 if none.
func findDecision(ds []policy.Decision, s policy.Subject, at int) int {
	same := func(d policy.Decision) bool {
		return d.Size == s.Size && d.DeclaredType == s.DeclaredType && (d.Filename == s.Filename || path.Base(d.Filename) == s.Filename)
	}
	for _, from := range []int{at, 0} {
		for j := from; j < len(ds); j++ {
			if same(ds[j]) {
				return j
			}
		}
	}
	return -1
}

// lacking says what a dry run lacked, and how to give it.
func lacking(pol *policy.Policy, needs []policy.Need) string {
	var out []string
	for _, n := range needs {
		switch n {
		case policy.NeedSender:
			out = append(out, "no envelope sender (pass -from)")
		case policy.NeedRcpts:
			out = append(out, "no envelope recipients (pass -rcpt)")
		case policy.NeedAuth:
			if ids := pol.Authentication.AuthservIDs; len(ids) > 0 {
				out = append(out, "no Authentication-Results from a trusted authserv-id ("+strings.Join(ids, ", ")+") in the message")
			} else {
				out = append(out, "the policy trusts no authserv-id (authentication.authserv_ids)")
			}
		}
	}
	return strings.Join(out, "; ")
}
