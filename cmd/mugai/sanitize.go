package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"mugai/policy"
	"mugai/policy/audit"
	"mugai/sanitize"
)

// cmdSanitize rebuilds one message offline: the dry run an admin uses to see
// what the gateway would deliver.
func cmdSanitize(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sanitize", stderr, "[-policy FILE] [-audit FILE] [-explain] [FILE|-]")
	policyFile := fs.String("policy", "", "policy file (default: the embedded policy)")
	auditFile := fs.String("audit", "", "append the decisions to this audit file as JSON lines")
	explain := fs.Bool("explain", false, "print a table of the decisions to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("takes at most one message file")
	}
	pol, err := policy.LoadFile(*policyFile, policy.DefaultClauses())
	if err != nil {
		return usagef("%s", oneLine(err))
	}
	var in io.Reader = os.Stdin
	name := "-"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		f, err := os.Open(name)
		if err != nil {
			return usagef("%v", err)
		}
		defer f.Close()
		in = f
	}
	rb := &sanitize.Rebuilder{Policy: pol, Sanitizers: sanitizers(userCache())}
	res, err := rb.Rebuild(sanitize.Envelope{Received: time.Now()}, in)
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
		printDecisions(stderr, res.Decisions)
	}
	return nil
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
