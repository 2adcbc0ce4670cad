package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"mugai/gateway"
	"mugai/gateway/queue"
	"mugai/policy/audit"
)

// pidName is the file in the spool where serve writes its process id, so
// that the queue commands can tell the running gateway to rescan.
const pidName = "mugai.pid"

// configSetup parses -config and the given extra flags, and loads the
// configuration (the embedded defaults without -config): the start of
// every admin command that works on a gateway's stores.
func configSetup(name string, args []string, stderr io.Writer, usage string, extra func(*flags)) (*flags, gateway.Config, error) {
	fs := newFlags(name, stderr, usage)
	configFile := fs.String("config", "", "configuration file (default: the embedded defaults)")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, gateway.Config{}, err
	}
	cfg := gateway.Defaults()
	if *configFile != "" {
		var err error
		if cfg, err = gateway.LoadConfig(*configFile); err != nil {
			return nil, cfg, usagef("%s", oneLine(err))
		}
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
		return nil, cfg, nil, usagef("%v", err)
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
			if r.LastReply != "" {
				last = r.LastReply
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d/%d\t%s\t%s\n", e.ID, state, time.Since(e.Created).Round(time.Second), from, p, dl, f, next, truncate(last, 60))
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
	return signalGateway(cfg, stdout, true)
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
	id := fs.Arg(0)
	if _, err := sp.Requeue(id, time.Now()); errors.Is(err, queue.ErrNotFound) {
		return usagef("no message %s in %s", id, filepath.Join(cfg.Spool, "failed"))
	} else if err != nil {
		return err
	}
	if err := auditAdmin(cfg, func(l *audit.Log) error { return l.Requeued(id, *operator, "from failed/") }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s requeued\n", id)
	return signalGateway(cfg, stdout, false)
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
	id := fs.Arg(0)
	if err := sp.Delete(id); errors.Is(err, queue.ErrNotFound) {
		return usagef("no message %s in %s", id, cfg.Spool)
	} else if err != nil {
		return err
	}
	if err := auditAdmin(cfg, func(l *audit.Log) error { return l.Deleted(id, *operator, why) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s deleted (the original stays in the originals store)\n", id)
	return signalGateway(cfg, stdout, false)
}

func auditAdmin(cfg gateway.Config, fn func(*audit.Log) error) error {
	l, err := audit.Open(cfg.Audit)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(l)
}

// signalGateway asks the running gateway to rescan its spool (SIGUSR1).
func signalGateway(cfg gateway.Config, stdout io.Writer, mustRun bool) error {
	b, err := os.ReadFile(filepath.Join(cfg.Spool, pidName))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err == nil && perr == nil && pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGUSR1); err == nil {
			fmt.Fprintf(stdout, "the running gateway (pid %d) rescans its spool now\n", pid)
			return nil
		}
	}
	if mustRun {
		return fmt.Errorf("no running gateway found (pid file %s)", filepath.Join(cfg.Spool, pidName))
	}
	fmt.Fprintln(stdout, "no running gateway: the change takes effect when it starts")
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
