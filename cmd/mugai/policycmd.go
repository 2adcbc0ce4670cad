package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"mugai/policy"
	"mugai/policy/strictyaml"
)

// cmdPolicyCheck validates a policy, prints every problem as file:line, or
// the effective rules when it is valid.
func cmdPolicyCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy check", stderr, "[FILE]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("takes at most one policy file")
	}
	pol, err := policy.LoadFile(fs.Arg(0))
	if err != nil {
		var se *strictyaml.Error
		if errors.As(err, &se) {
			fmt.Fprintln(stderr, se.Error())
			return &failure{code: 1}
		}
		return usagef("%v", err)
	}
	fmt.Fprintf(stdout, "policy %q from %s: valid, sha256 %s\n", pol.Name, pol.Source, pol.SHA256)
	fmt.Fprintf(stdout, "body: prefer=%s links=%s charset=%s\n\n", pol.Body.Prefer, pol.Body.Links, pol.Body.Charset)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tID\tACTION\tCLAUSE\tMATCH")
	for i, r := range pol.Rules {
		m := describeMatch(r.Match)
		if r.Options.Links != "" {
			m += " links=" + r.Options.Links
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, r.ID, r.Action, r.Clause, m)
	}
	for _, b := range []struct {
		r    policy.Rule
		what string
	}{
		{policy.RuleStructure, "parts beyond limits or with broken MIME"},
		{policy.RuleHiddenText, "hidden text found in an HTML body"},
		{policy.RuleLinkCheck, "links whose text names another host"},
		{policy.RuleDefault, "parts no rule matches"},
	} {
		fmt.Fprintf(tw, "-\t%s\t%s\t%s\t(built in) %s\n", b.r.ID, b.r.Action, b.r.Clause, b.what)
	}
	return tw.Flush()
}

func describeMatch(m policy.Match) string {
	var parts []string
	for _, f := range []struct {
		k string
		v policy.List
	}{{"role", m.Role}, {"type", m.Type}, {"declared_type", m.DeclaredType}, {"extension", m.Extension}} {
		if len(f.v) > 0 {
			parts = append(parts, f.k+"="+strings.Join(f.v, ","))
		}
	}
	if len(parts) == 0 {
		return "(every part)"
	}
	return strings.Join(parts, " ")
}

// oneLine folds a multi-line error (a list of problems) into one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
