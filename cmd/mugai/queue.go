package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"mugai/gateway"
	"mugai/gateway/queue"
	"mugai/policy/audit"
	"mugai/policy/strictyaml"
)

// configSetup parses -config and the given extra flags, and loads the
// configuration (findConfig: -config, $MUGAI_CONFIG, the installed one,
// the embedded defaults): the start of every admin command that works on
// a gateway's stores.
func configSetup(name string, args []string, stderr io.Writer, usage string, extra func(*flags)) (*flags, gateway.Config, error) {
	fs := newFlags(name, stderr, usage)
	configFile := fs.String("config", "", "configuration file (default: $MUGAI_CONFIG, else "+systemConfig+" when it exists, else the embedded defaults)")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, gateway.Config{}, err
	}
	cfg, err := findConfig(*configFile).load()
	if err != nil {
		return nil, cfg, usagef("%s", oneLine(err))
	}
	return fs, cfg, nil
}

// queueSetup parses -config (and the given extra flags) and opens the spool.
func queueSetup(name string, args []string, stderr io.Writer, usage string, extra func(*flags)) (*flags, gateway.Config, *queue.Spool, error) {
	fs, cfg, err := configSetup(name, args, stderr, usage, extra)
	if err != nil {
		return nil, cfg, nil, err
	}
	// Attach, never Open: Open's crash recovery would delete a message
	// file the running gateway is writing before its meta.
	sp, err := queue.Attach(cfg.Spool)
	if err != nil {
		return nil, cfg, nil, usagef("spool directory %s (%s): %v", cfg.Spool, configName(fs), err)
	}
	return fs, cfg, sp, nil
}

func cmdQueueList(args []string, stdout, stderr io.Writer) error {
	fs, _, sp, err := queueSetup("queue list", args, stderr, "[-config FILE]", nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments")
	}
	waiting, failed, err := sp.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGE\tFROM\tRECIPIENTS (pending/delivered/failed)\tNEXT ATTEMPT\tLAST REPLY")
	row := func(e *queue.Entry, state string) {
		var p, dl, f int
		last := ""
		for _, r := range e.Rcpts {
			switch r.Status {
			case queue.StatusPending:
				p++
			case queue.StatusDelivered:
				dl++
			case queue.StatusFailed:
				f++
			}
			if r.Last != nil {
				last = r.Last.String()
			}
		}
		next := e.NextAttempt.Local().Format("01-02 15:04:05")
		if state == "failed" {
			next = "-"
		}
		from := e.From
		if from == "" {
			from = "<>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d/%d\t%s\t%s\n", printable(e.ID), state, time.Since(e.Created).Round(time.Second), printable(from), p, dl, f, next, printable(truncate(last, 60)))
	}
	for _, e := range waiting {
		row(e, "queued")
	}
	for _, e := range failed {
		row(e, "failed")
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d queued, %d failed\n", len(waiting), len(failed))
	return nil
}

func cmdQueueFlush(args []string, stdout, stderr io.Writer) error {
	fs, cfg, _, err := queueSetup("queue flush", args, stderr, "[-config FILE]", nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments")
	}
	return tellGateway(cfg, stdout, "flush", true)
}

func cmdQueueRequeue(args []string, stdout, stderr io.Writer) error {
	var operator *string
	fs, cfg, sp, err := queueSetup("queue requeue", args, stderr, "[-config FILE] -operator NAME ID", func(f *flags) {
		operator = f.String("operator", "", "who requeues (recorded in the audit log)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || *operator == "" {
		return usagef("needs -operator NAME and one message ID")
	}
	if err := checkOperator(*operator); err != nil {
		return err
	}
	id, err := checkID(fs.Arg(0))
	if err != nil {
		return err
	}
	if _, err := sp.Requeue(id, time.Now()); errors.Is(err, queue.ErrNotFound) {
		return usagef("no message %s in %s", id, filepath.Join(cfg.Spool, "failed"))
	} else if err != nil {
		return err
	}
	if err := auditAdmin(cfg, func(l *audit.Log) error { return l.Requeued(id, *operator, "from failed/") }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s requeued\n", id)
	return tellGateway(cfg, stdout, "add "+id, false)
}

func cmdQueueDelete(args []string, stdout, stderr io.Writer) error {
	var operator, reason *string
	fs, cfg, sp, err := queueSetup("queue delete", args, stderr, "[-config FILE] -operator NAME -reason TEXT ID", func(f *flags) {
		operator = f.String("operator", "", "who deletes (recorded in the audit log)")
		reason = f.String("reason", "", "why (recorded in the audit log)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || *operator == "" || *reason == "" {
		return usagef("needs -operator NAME, -reason TEXT and one message ID")
	}
	if err := checkOperator(*operator); err != nil {
		return err
	}
	why, err := cleanReason(*reason)
	if err != nil {
		return err
	}
	id, err := checkID(fs.Arg(0))
	if err != nil {
		return err
	}
	if err := sp.Delete(id); errors.Is(err, queue.ErrNotFound) {
		return usagef("no message %s in %s", id, cfg.Spool)
	} else if err != nil {
		return err
	}
	if err := auditAdmin(cfg, func(l *audit.Log) error { return l.Deleted(id, *operator, why) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s deleted (the original stays in the originals store)\n", id)
	return tellGateway(cfg, stdout, "drop "+id, false)
}

// cmdQueuePurgeFailed removes the messages kept in failed/ for longer
// than -older-than (their age as queue list shows it: since received, or
// since requeued), each audited as deleted. Nothing else expires failed/.
func cmdQueuePurgeFailed(args []string, stdout, stderr io.Writer) error {
	var operator, olderThan *string
	fs, cfg, sp, err := queueSetup("queue purge-failed", args, stderr, "[-config FILE] -operator NAME [-older-than 30d]", func(f *flags) {
		operator = f.String("operator", "", "who purges (recorded in the audit log)")
		olderThan = f.String("older-than", "30d", "purge what failed/ has kept longer than this (such as 30d, 36h)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || *operator == "" {
		return usagef("needs -operator NAME and no arguments")
	}
	if err := checkOperator(*operator); err != nil {
		return err
	}
	age, err := parseAge(*olderThan)
	if err != nil {
		return err
	}
	_, failed, err := sp.List()
	if err != nil {
		return err
	}
	l, err := audit.Open(cfg.Audit)
	if err != nil {
		return err
	}
	defer l.Close()
	now := time.Now()
	n := 0
	for _, e := range failed {
		if now.Sub(e.Created) <= age {
			continue
		}
		// The record is durable before the message goes: a crash between
		// the two leaves the message and its record (the next purge
		// removes it), never a removal nobody recorded.
		if err := l.Deleted(e.ID, *operator, fmt.Sprintf("purge-failed: kept in failed/ for %s, over %s", now.Sub(e.Created).Round(time.Second), *olderThan)); err != nil {
			return err
		}
		if err := l.Sync(); err != nil {
			return err
		}
		if err := sp.DeleteFailed(e.ID); errors.Is(err, queue.ErrNotFound) {
			continue // requeued or deleted meanwhile
		} else if err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(stdout, "purged %d of %d messages in failed/ (older than %s)\n", n, len(failed), *olderThan)
	return nil
}

// parseAge reads a duration as the configuration does: 30s, 5m, 2h, 30d
// (strictyaml.ParseDuration).
func parseAge(s string) (time.Duration, error) {
	d, err := strictyaml.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("-older-than %q is not a duration (%s)", s, strictyaml.DurationSyntax)
	}
	return d, nil
}

func auditAdmin(cfg gateway.Config, fn func(*audit.Log) error) error {
	l, err := audit.Open(cfg.Audit)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(l)
}

// checkID refuses (exit 2) an id that is not one mugai gives: ids name
// files, and "../x" or "/etc/x" must never reach a path.
func checkID(id string) (string, error) {
	if err := queue.ValidID(id); err != nil {
		return "", usagef("%q is not a message id: ids are 1 to %d letters, digits, '-', '_' or '.'", id, queue.MaxIDLen)
	}
	return id, nil
}

// tellGateway sends a control request to the running gateway through the
// spool's control socket (never a signal to a process id read from a
// file). When nothing answers: with mustRun (flush, which changes nothing
// itself) an error; else the change is on disk already and the gateway
// picks it up at its next start, so the command succeeds and says so.
func tellGateway(cfg gateway.Config, stdout io.Writer, req string, mustRun bool) error {
	reply, err := gateway.AskGateway(cfg.Spool, req)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "the running gateway: %s\n", printable(reply))
		return nil
	case mustRun:
		return fmt.Errorf("%v: is the gateway running?", err)
	case errors.Is(err, gateway.ErrNotRunning):
		fmt.Fprintln(stdout, "no running gateway (nothing answers on its control socket): the change takes effect at its next start")
	default:
		fmt.Fprintf(stdout, "the running gateway did not confirm (%v): the change takes effect at its next start or with mugai queue flush\n", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
