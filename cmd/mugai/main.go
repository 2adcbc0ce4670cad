// Command mugai is the mail sanitization gateway: an SMTP relay that rebuilds
// every message from the Internet side as text before it enters LGWAN.
//
// Subcommands are a table of {words, fn}; each writes its own help. Usage
// errors and bad configuration exit 2 with one line naming the problem.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	words []string
	args  string
	help  string
	fn    func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{[]string{"serve"}, "[-config FILE] [-v]", "run the SMTP relay (config: -config, $MUGAI_CONFIG, /etc/mugai/mugai.yaml, else the embedded defaults)", cmdServe},
		{[]string{"sanitize"}, "[-policy FILE] [-audit FILE] [-explain] [-from ADDR] [-rcpt ADDR]... [-client IP] [FILE|-]", "rebuild one message offline and print it", cmdSanitize},
		{[]string{"config", "check"}, "[-config FILE]", "validate a configuration and print it as it takes effect (every problem as file:line: key.path)", cmdConfigCheck},
		{[]string{"policy", "check"}, "[-clauses FILE] [FILE]", "validate a policy and print its effective rules", cmdPolicyCheck},
		{[]string{"policy", "explain"}, "[-clauses FILE] [FILE]", "print every rule with its reasons and the full text of the clause it cites", cmdPolicyExplain},
		{[]string{"policy", "test"}, "[-clauses FILE] [-from ADDR] [-rcpt ADDR]... [-client IP] FILE MESSAGE...", "dry run: show what a policy would do with each part of each message", cmdPolicyTest},
		{[]string{"queue", "list"}, "[-config FILE]", "list the messages waiting for delivery and those kept in failed/", cmdQueueList},
		{[]string{"queue", "flush"}, "[-config FILE]", "make the running gateway try every waiting message now", cmdQueueFlush},
		{[]string{"queue", "requeue"}, "[-config FILE] -operator NAME ID", "put a message from failed/ back in the queue (audited)", cmdQueueRequeue},
		{[]string{"queue", "delete"}, "[-config FILE] -operator NAME -reason TEXT ID", "delete a message from the queue or failed/ (audited)", cmdQueueDelete},
		{[]string{"queue", "purge-failed"}, "[-config FILE] -operator NAME [-older-than 30d]", "delete the messages kept in failed/ longer than -older-than (each audited)", cmdQueuePurgeFailed},
		{[]string{"originals", "list"}, "[-config FILE] [-from ADDR] [-rcpt ADDR] [-since DATE] [-until DATE] [-id ID] [-message-id ID]", "list the kept originals (原本保管)", cmdOriginalsList},
		{[]string{"originals", "show"}, "[-config FILE] ID", "show an original's envelope and part tree with the decisions (never its content)", cmdOriginalsShow},
		{[]string{"originals", "release"}, "[-config FILE] -operator NAME -reason TEXT [-part PATH] [-to ADDR]... [-force] ID", "deliver a kept original, or one part of it attached to a notice (audited)", cmdOriginalsRelease},
		{[]string{"originals", "purge"}, "[-config FILE] -operator NAME", "remove originals past originals_retention (audited; serve also does it daily)", cmdOriginalsPurge},
		{[]string{"portal", "passwd"}, "[-config FILE] NAME", "set an approver's password in portal.users (read from standard input; bcrypt, as htpasswd -B)", cmdPortalPasswd},
		{[]string{"report"}, "[-config FILE] [-since DATE] [-until DATE] [-tz ZONE] [-format text|csv|html] [AUDIT...]", "summarise audit logs: messages, decisions by action/rule/clause/type, removals, deliveries, releases", cmdReport},
		{[]string{"load"}, "[-n N] [-c C] [-message FILE] [-from ADDR] [-to ADDR] [-sink ADDR] HOST:PORT", "send a load over concurrent SMTP sessions; report msg/s, latency percentiles, errors, end-to-end time", cmdLoad},
		{[]string{"version"}, "", "print the version", cmdVersion},
	}
}

// usageError makes the process exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// failure is a non-usage error whose message was already printed; it only
// sets the exit code.
type failure struct{ code int }

func (f *failure) Error() string { return fmt.Sprintf("exit %d", f.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if len(args) < len(c.words) || !equalWords(args[:len(c.words)], c.words) {
			continue
		}
		err := c.fn(args[len(c.words):], stdout, stderr)
		var ue *usageError
		var f *failure
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "mugai %s: %s\n", strings.Join(c.words, " "), ue.msg)
			return 2
		case errors.As(err, &f):
			return f.code
		default:
			fmt.Fprintf(stderr, "mugai %s: %v\n", strings.Join(c.words, " "), err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "mugai: unknown command %q (run 'mugai help')\n", strings.Join(args, " "))
	return 2
}

func equalWords(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mugai: mail sanitization gateway (無害化通信)")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  mugai %s %s\n      %s\n", strings.Join(c.words, " "), c.args, c.help)
	}
}

// flags is a FlagSet whose errors are usage errors and whose help is
// printed only when asked for with -h.
type flags struct {
	*flag.FlagSet
	name, usage string
	stderr      io.Writer
}

func newFlags(name string, stderr io.Writer, usage string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parse errors print one line, not the help
	return &flags{FlagSet: fs, name: name, usage: usage, stderr: stderr}
}

// parseFlags parses args; -h prints the help and returns flag.ErrHelp.
func parseFlags(fs *flags, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(fs.stderr, "usage: mugai %s %s\n", fs.name, fs.usage)
		fs.SetOutput(fs.stderr)
		fs.PrintDefaults()
		return err
	}
	return usagef("%v", err)
}

func cmdVersion(args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return usagef("takes no arguments")
	}
	fmt.Fprintln(stdout, "mugai", version)
	return nil
}
