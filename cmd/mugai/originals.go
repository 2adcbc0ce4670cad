package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"mugai/gateway"
	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/policy"
	"mugai/policy/audit"
)

// originalsSetup parses -config (and extra flags) and attaches to the
// originals store without crash recovery (the gateway may be writing).
func originalsSetup(name string, args []string, stderr io.Writer, usage string, extra func(*flags)) (*flags, gateway.Config, *originals.Store, error) {
	fs, cfg, err := configSetup(name, args, stderr, usage, extra)
	if err != nil {
		return nil, cfg, nil, err
	}
	st, err := originals.Attach(cfg.Originals)
	if err != nil {
		return nil, cfg, nil, usagef("originals directory %s (%s): %v", cfg.Originals, configName(fs), err)
	}
	return fs, cfg, st, nil
}

// parseDay reads 2026-11-26 (local midnight) or an RFC 3339 time.
func parseDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, usagef("%s %q is not a date (2026-11-26) or an RFC 3339 time", flag, s)
	}
	return t, nil
}

// printable keeps what a sender chose (a filename, a subject, an address,
// a reply) from driving the admin's terminal or disguising itself on it:
// control characters, format characters (Unicode Cf: the bidi overrides
// and isolates such as U+202E, zero-width characters), line and paragraph
// separators, and invalid UTF-8 each become '?'. Every admin command
// prints input text through it.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

func cmdOriginalsList(args []string, stdout, stderr io.Writer) error {
	var from, rcpt, since, until, id, msgID *string
	fs, _, st, err := originalsSetup("originals list", args, stderr, "[-config FILE] [-from ADDR] [-rcpt ADDR] [-since DATE] [-until DATE] [-id ID] [-message-id ID]", func(fs *flags) {
		id = fs.String("id", "", "gateway id")
		msgID = fs.String("message-id", "", "Message-ID header of the original")
		from = fs.String("from", "", "envelope sender")
		rcpt = fs.String("rcpt", "", "envelope recipient")
		since = fs.String("since", "", "received on or after this date (2026-11-01) or time (RFC 3339)")
		until = fs.String("until", "", "received before this date or time")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments (to see one original: mugai originals show ID)")
	}
	f := originals.Filter{From: *from, Rcpt: *rcpt, ID: *id, MessageID: *msgID}
	if f.Since, err = parseDay("-since", *since); err != nil {
		return err
	}
	if f.Until, err = parseDay("-until", *until); err != nil {
		return err
	}
	ms, problems, err := st.List(f)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, "unreadable index entry:", p)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tFROM\tRECIPIENTS\tSIZE\tPARTS (changed)\tSUBJECT")
	for _, m := range ms {
		changed := 0
		for _, p := range m.Parts {
			if policy.Action(p.Action) != policy.ActionTextify || policy.Reason(p.Reason) != policy.ReasonBodyText {
				changed++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d (%d)\t%s\n", printable(m.ID), m.Received.Local().Format("2006-01-02 15:04:05"),
			printable(dash(m.From)), printable(strings.Join(m.Rcpts, ",")), m.Size, len(m.Parts), changed, printable(m.SubjectAsReceived()))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d originals\n", len(ms))
	return nil
}

func cmdOriginalsShow(args []string, stdout, stderr io.Writer) error {
	fs, _, st, err := originalsSetup("originals show", args, stderr, "[-config FILE] ID", nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("needs one gateway id")
	}
	id, err := checkID(fs.Arg(0))
	if err != nil {
		return err
	}
	m, path, err := st.Get(id)
	if errors.Is(err, originals.ErrNotFound) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "id:         %s\nreceived:   %s\nfrom:       %s\nrecipients: %s\nclient:     %s (HELO %s)\n",
		printable(m.ID), m.Received.Local().Format(time.RFC3339), printable(dash(m.From)), printable(strings.Join(m.Rcpts, ", ")), printable(m.Client), printable(m.Helo))
	fmt.Fprintf(stdout, "message-id: %s\nsubject:    %s\n", dash(printable(m.MessageID)), printable(m.SubjectAsReceived()))
	if m.Subject != m.SubjectAsReceived() {
		fmt.Fprintf(stdout, "delivered:  %s\n", printable(m.Subject))
	}
	fmt.Fprintf(stdout, "size:       %d bytes, sha256 %s\nkept at:    %s\nauth:       %s\n",
		m.Size, printable(m.SHA256), printable(path), dash(printable(m.Auth)))
	if err := checkOriginal(m, path); err != nil {
		fmt.Fprintf(stdout, "\n(header not shown: %v; a release refuses it)\n", err)
	} else if err := printHeader(stdout, path); err != nil {
		fmt.Fprintf(stdout, "\n(header not readable: %v)\n", err)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tACTION\tRULE\tCLAUSE\tREASON\tRELEASE\tDECLARED\tDETECTED\tSIZE\tFILENAME\tSHA256\tDETAIL")
	for _, p := range m.Parts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", printable(p.Path), printable(p.Action), printable(p.Rule), printable(p.Clause), printable(p.Reason), dash(printable(p.Release)),
			printable(dash(p.DeclaredType)), printable(dash(p.DetectedType)), p.Size, dash(printable(p.Filename)), printable(p.SHA256[:min(12, len(p.SHA256))]), dash(printable(p.Detail)))
	}
	return tw.Flush()
}

// checkOriginal checks the original kept at path against its index m,
// as a release does: a power cut during the commit of a message that got
// no 250 may leave it cut short or reading as zeros.
func checkOriginal(m originals.Meta, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return m.Check(f)
}

// printHeader prints the original's top-level header block as it came,
// line by line, at most 200 lines of 200 characters, control characters
// masked: what an admin needs to judge a release, never the body.
func printHeader(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(w, "\nheader as received:")
	br := bufio.NewReaderSize(f, 4096)
	for n := 0; n < 200; n++ {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil // end of the header (or of the file)
		}
		if len(line) > 200 {
			line = line[:200] + "…"
		}
		fmt.Fprintln(w, "  "+printable(line))
		if err != nil {
			return nil
		}
	}
	fmt.Fprintln(w, "  … (more header lines not shown)")
	return nil
}

func cmdOriginalsPurge(args []string, stdout, stderr io.Writer) error {
	var operator *string
	fs, cfg, st, err := originalsSetup("originals purge", args, stderr, "[-config FILE] -operator NAME", func(fs *flags) {
		operator = fs.String("operator", "", "who runs the purge (audited)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments")
	}
	if *operator == "" {
		return usagef("-operator is required: purges are audited")
	}
	if err := checkOperator(*operator); err != nil {
		return err
	}
	log, err := audit.Open(cfg.Audit)
	if err != nil {
		return usagef("audit: %v", err)
	}
	defer log.Close()
	p, err := gateway.PurgeOriginals(st, log, cfg.OriginalsRetention.D(), time.Now(), *operator)
	if err != nil {
		return err
	}
	if len(p.Days) == 0 {
		fmt.Fprintf(stdout, "nothing older than the retention (%s)\n", cfg.OriginalsRetention)
		return nil
	}
	fmt.Fprintf(stdout, "purged %d originals (%d bytes) of %s\n", p.Messages, p.Bytes, strings.Join(p.Days, ", "))
	return nil
}

// stringList is a repeatable flag (-to a -to b).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdOriginalsRelease(args []string, stdout, stderr io.Writer) error {
	var operator, reason, part *string
	var force *bool
	var to stringList
	fs, cfg, st, err := originalsSetup("originals release", args, stderr,
		"[-config FILE] -operator NAME -reason TEXT [-part PATH] [-to ADDR]... [-force] ID", func(fs *flags) {
			operator = fs.String("operator", "", "who releases (audited; "+gateway.OperatorRule+")")
			reason = fs.String("reason", "", "why (audited and written in the released mail; one line, cut at 200 characters)")
			part = fs.String("part", "", "release only this part (a path from originals show), attached to a short notice")
			fs.Var(&to, "to", "recipient (repeatable; default: the original's recipients)")
			force = fs.Bool("force", false, "release a part removed as type-mismatch, encrypted-archive or sanitize-failed")
		})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("needs one gateway id")
	}
	if _, err := checkID(fs.Arg(0)); err != nil {
		return err
	}
	if *operator == "" || *reason == "" {
		return usagef("-operator and -reason are required: releases are audited")
	}
	if err := checkOperator(*operator); err != nil {
		return err
	}
	why, err := cleanReason(*reason)
	if err != nil {
		return err
	}
	sp, err := queue.Attach(cfg.Spool)
	if err != nil {
		return usagef("%v", err)
	}
	log, err := audit.Open(cfg.Audit)
	if err != nil {
		return usagef("audit: %v", err)
	}
	defer log.Close()
	rel, err := gateway.Release(cfg, st, sp, log, gateway.ReleaseRequest{ID: fs.Arg(0), Operator: *operator, Reason: why,
		Part: *part, To: to, Force: *force, Now: time.Now()})
	switch {
	case errors.Is(err, originals.ErrNotFound), errors.Is(err, gateway.ErrNeedsForce), errors.Is(err, gateway.ErrBadOperator),
		errors.Is(err, gateway.ErrInsidePart):
		return usagef("%v", err)
	case err != nil:
		return err
	}
	what := "the whole original"
	if *part != "" {
		what = "part " + *part
	}
	fmt.Fprintf(stdout, "released %s of %s to %s as %s (audited)\n", what, fs.Arg(0), printable(strings.Join(rel.Rcpts, ", ")), rel.SpoolID)
	return tellGateway(cfg, stdout, "add "+rel.SpoolID, false)
}
