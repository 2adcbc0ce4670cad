package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"mugai/policy"
	"mugai/policy/strictyaml"
	"mugai/sanitize"
)

// clausesFlag adds -clauses to a policy command.
func clausesFlag(fs *flags) *string {
	return fs.String("clauses", "", "clause catalogue to check citations against (default: the embedded one)")
}

// onePolicyArg parses "[-clauses FILE] [FILE]" and loads that policy.
func onePolicyArg(name string, args []string, stderr io.Writer) (*policy.Policy, error) {
	fs := newFlags(name, stderr, "[-clauses FILE] [FILE]")
	clauses := clausesFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 1 {
		return nil, usagef("takes at most one policy file")
	}
	return loadPolicyArg(fs.Arg(0), *clauses, stderr)
}

// loadPolicyArg loads the policy named on the command line (the embedded
// one for ""), checked against the clause catalogue in clauses (the
// embedded one for ""), printing problems as file:line.
func loadPolicyArg(file, clauses string, stderr io.Writer) (*policy.Policy, error) {
	cs := policy.DefaultClauses()
	if clauses != "" {
		var err error
		if cs, err = policy.LoadClauses(clauses); err != nil {
			var se *strictyaml.Error
			if errors.As(err, &se) {
				fmt.Fprintln(stderr, se.Error())
				return nil, &failure{code: 1}
			}
			return nil, usagef("-clauses: %v", err)
		}
	}
	pol, err := policy.LoadFile(file, cs)
	if err != nil {
		var se *strictyaml.Error
		if errors.As(err, &se) {
			fmt.Fprintln(stderr, se.Error())
			return nil, &failure{code: 1}
		}
		return nil, usagef("%v", err)
	}
	return pol, nil
}

// cmdPolicyExplain prints every rule of a policy, built-in ones included,
// with its reasons and the full text of the clause it cites: what an
// auditor reads to see why the gateway does what it does.
func cmdPolicyExplain(args []string, stdout, stderr io.Writer) error {
	pol, err := onePolicyArg("policy explain", args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "policy %q from %s (sha256 %s)\n", pol.Name, pol.Source, pol.SHA256)
	fmt.Fprintf(stdout, "The notice staff read is written in: %s (body.notice_languages).\n", strings.Join(pol.Body.NoticeLanguages, ", "))
	fmt.Fprintf(stdout, "The first rule that matches a part decides. Built-in rules decide before the policy's rules for\n"+
		"broken structure, files written into a body, programs (never made harmless) and files mugai cannot\n"+
		"rebuild (unknown content, archives it cannot open, HTML); encrypted and disguised files and polyglots\n"+
		"too, unless a rule names that flag; a sanitizer that fails removes its part; builtin-default removes\n"+
		"what no rule matches.\n")
	show := func(label string, r policy.Rule) {
		fmt.Fprintf(stdout, "\n%s %s — %s\n", label, r.ID, r.Action)
		if label != "built-in" {
			fmt.Fprintf(stdout, "  match:   %s\n", describeMatch(r.Match))
		}
		if o := describeOptions(r.Options); o != "" {
			fmt.Fprintf(stdout, "  options: %s\n", o)
		}
		fmt.Fprintf(stdout, "  release: %s (%s)\n", r.ReleaseMode(), releaseWords[r.ReleaseMode()])
		if r.ID == policy.RuleEncrypted.ID {
			fmt.Fprintf(stdout, "           a password-protected ZIP can be unlocked by its recipient in the portal (its members then decided by these rules)\n")
		}
		if r.Reason.JA != "" || r.Reason.EN != "" {
			fmt.Fprintf(stdout, "  理由:    %s\n  reason:  %s\n", r.Reason.JA, r.Reason.EN)
		}
		c, ok := pol.Clauses.Lookup(r.Clause)
		if !ok { // cannot happen for a policy that loaded
			fmt.Fprintf(stdout, "  clause:  %s (not in the catalogue)\n", r.Clause)
			return
		}
		fmt.Fprintf(stdout, "  clause:  %s %s\n           %s\n", c.ID, c.Title, c.Text)
	}
	for i, r := range pol.Rules {
		show(fmt.Sprintf("rule %d", i+1), r)
	}
	for _, r := range policy.Builtins() {
		show("built-in", r)
	}
	return nil
}

// releaseWords says what each release mode lets staff do in the portal.
var releaseWords = map[string]string{
	policy.ReleaseNever:    "staff cannot ask for the original; only mugai originals release",
	policy.ReleaseApproval: "staff may ask for the original; an approver decides",
	policy.ReleaseSelf:     "staff get the original at once when they ask",
}

func describeOptions(o policy.Options) string {
	var parts []string
	add := func(k, v string) {
		if v != "" && v != "0" {
			parts = append(parts, k+"="+v)
		}
	}
	add("links", o.Links)
	add("into", o.Into)
	add("dpi", fmt.Sprint(o.DPI))
	add("quality", fmt.Sprint(o.Quality))
	add("pages", fmt.Sprint(o.Pages))
	add("uri", o.URI)
	return strings.Join(parts, " ")
}

// cmdPolicyCheck validates a policy, prints every problem as file:line, or
// the effective rules when it is valid.
func cmdPolicyCheck(args []string, stdout, stderr io.Writer) error {
	pol, err := onePolicyArg("policy check", args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "policy %q from %s: valid, sha256 %s\n", pol.Name, pol.Source, pol.SHA256)
	fmt.Fprintf(stdout, "body: prefer=%s links=%s charset=%s notice=%s subject_tag=%q custom_notice_text=%v notice_languages=%s\n",
		pol.Body.Prefer, pol.Body.Links, pol.Body.Charset, pol.Body.Notice, pol.Body.SubjectTag, pol.Body.NoticeText.JA != "",
		strings.Join(pol.Body.NoticeLanguages, ","))
	if a := pol.Authentication; len(a.AuthservIDs) > 0 {
		fmt.Fprintf(stdout, "authentication: trusted authserv-ids %s, at most %d Received above\n", strings.Join(a.AuthservIDs, ", "), a.ReceivedAbove)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tID\tACTION\tCLAUSE\tMATCH")
	for i, r := range pol.Rules {
		m := describeMatch(r.Match)
		if r.Options.Links != "" {
			m += " links=" + r.Options.Links
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, r.ID, r.Action, r.Clause, m)
	}
	for _, b := range policy.Builtins() {
		fmt.Fprintf(tw, "-\t%s\t%s\t%s\t(built in) %s\n", b.ID, b.Action, b.Clause, b.Reason.EN)
	}
	return tw.Flush()
}

func describeMatch(m policy.Match) string {
	var parts []string
	for _, f := range []struct {
		k string
		v policy.List
	}{{"role", m.Role}, {"type", m.Type}, {"declared_type", m.DeclaredType}, {"extension", m.Extension}, {"flags", m.Flags},
		{"sender", m.Sender}, {"recipient", m.Recipient}, {"authenticated", m.Authenticated}} {
		if len(f.v) > 0 {
			parts = append(parts, f.k+"="+strings.Join(f.v, ","))
		}
	}
	if d := m.ArchiveDepth; d.Min != nil || d.Max != nil {
		lo, hi := "0", "∞"
		if d.Min != nil {
			lo = fmt.Sprint(*d.Min)
		}
		if d.Max != nil {
			hi = fmt.Sprint(*d.Max)
		}
		parts = append(parts, "archive_depth="+lo+"–"+hi)
	}
	if m.Size.Min != "" || m.Size.Max != "" {
		parts = append(parts, "size="+m.Size.String())
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

// cmdPolicyTest is the dry run before deploying a policy: each message is
// rebuilt under it, nothing is written but the table of what would happen
// to each part, and which rule decided; with the envelope given or
// assumed from the header, and each rule that could not be evaluated for
// lack of data named.
func cmdPolicyTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy test", stderr, "[-clauses FILE] [-from ADDR] [-rcpt ADDR]... [-client IP] FILE MESSAGE...")
	clauses := clausesFlag(fs)
	envf := envelopeFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usagef("needs a policy file and at least one message")
	}
	if err := envf.check(); err != nil {
		return err
	}
	pol, err := loadPolicyArg(fs.Arg(0), *clauses, stderr)
	if err != nil {
		return err
	}
	var obs observer
	rb := &sanitize.Rebuilder{Policy: obs.watch(pol), Sanitizers: sanitizers(userCache())}
	fmt.Fprintf(stdout, "policy %q (sha256 %s)\n", pol.Name, pol.SHA256)
	for _, name := range fs.Args()[1:] {
		msg, err := os.ReadFile(name)
		if err != nil {
			return usagef("%v", err)
		}
		env := envf.forMessage(msg)
		obs.start(env.missing)
		res, err := rb.Rebuild(env.env, bytes.NewReader(msg))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stdout, "\n%s (%d bytes out, %d decisions)\n", name, len(res.Message), len(res.Decisions))
		env.print(stdout)
		printDecisions(stdout, res.Decisions)
		printUnapplied(stdout, pol, res.Decisions, obs.take())
	}
	return nil
}
