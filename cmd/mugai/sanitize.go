package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"mugai/policy"
	"mugai/policy/audit"
	"mugai/sanitize"
)

// cmdSanitize rebuilds one message offline: the dry run an admin uses to see
// what the gateway would deliver, with the envelope given (-from, -rcpt,
// -client) or assumed from the message's header.
func cmdSanitize(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sanitize", stderr, "[-policy FILE] [-audit FILE] [-explain] [-from ADDR] [-rcpt ADDR]... [-client IP] [FILE|-]")
	policyFile := fs.String("policy", "", "policy file (default: the embedded policy)")
	auditFile := fs.String("audit", "", "append the decisions to this audit file as JSON lines")
	explain := fs.Bool("explain", false, "print the envelope assumed, a table of the decisions and the rules not applied for lack of data to stderr")
	envf := envelopeFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("takes at most one message file")
	}
	if err := envf.check(); err != nil {
		return err
	}
	pol, err := policy.LoadFile(*policyFile, policy.DefaultClauses())
	if err != nil {
		return usagef("%s", oneLine(err))
	}
	name, msg, err := readMessageArg(fs)
	if err != nil {
		return err
	}
	env := envf.forMessage(msg)
	var obs observer
	obs.start(env.missing)
	rb := &sanitize.Rebuilder{Policy: obs.watch(pol), Sanitizers: sanitizers(userCache())}
	res, err := rb.Rebuild(env.env, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *auditFile != "" {
		log, err := audit.Open(*auditFile)
		if err != nil {
			return usagef("-audit: %v", err)
		}
		defer log.Close()
		if err := log.Decided("", res.Decisions, pol.SHA256); err != nil {
			return err
		}
	}
	if _, err := stdout.Write(res.Message); err != nil {
		return err
	}
	if *explain {
		env.print(stderr)
		printDecisions(stderr, res.Decisions)
		printUnapplied(stderr, pol, res.Decisions, obs.take())
	}
	return nil
}

// readMessageArg reads the message named by the one argument, or standard
// input for none or "-".
func readMessageArg(fs *flags) (string, []byte, error) {
	if fs.NArg() == 0 || fs.Arg(0) == "-" {
		msg, err := io.ReadAll(os.Stdin)
		return "-", msg, err
	}
	msg, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fs.Arg(0), nil, usagef("%v", err)
	}
	return fs.Arg(0), msg, nil
}

func printDecisions(w io.Writer, ds []policy.Decision) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tACTION\tRULE\tCLAUSE\tREASON\tDECLARED\tDETECTED\tSIZE\tFILENAME\tDETAIL")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Path, d.Action, d.RuleID, d.Clause,
			d.Reason, dash(d.DeclaredType), dash(d.DetectedType), d.Size, dash(d.Filename), dash(d.Detail))
	}
	tw.Flush()
}

// userCache is where offline commands keep the compiled WASM modules.
func userCache() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "mugai")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
