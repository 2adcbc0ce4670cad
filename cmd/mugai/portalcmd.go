package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"mugai/gateway"
	"mugai/portal/auth"
)

// stdin is where commands read secrets from; tests replace it.
var stdin io.Reader = os.Stdin

// cmdPortalPasswd sets an approver's password in portal.users, read as
// one line from standard input (never from the command line, where ps and
// the shell history would see it). A running gateway sees it at the next
// login.
func cmdPortalPasswd(args []string, stdout, stderr io.Writer) error {
	fs, cfg, err := configSetup("portal passwd", args, stderr, "[-config FILE] NAME  (the password is read from standard input)", nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("needs one user name")
	}
	// The name reaches the audit log and the released mail's header as
	// the approver: it follows the operator rule.
	if err := gateway.CheckOperator(fs.Arg(0)); err != nil {
		return usagef("%v", err)
	}
	if cfg.Portal.Users == "" {
		return usagef("portal.users is not set in the configuration: approvers log in through portal.trusted_header, or set it")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	password := []byte(strings.TrimRight(line, "\r\n"))
	defer clear(password)
	if len(password) == 0 {
		return usagef("no password on standard input (e.g. read -rs p && printf '%%s\\n' \"$p\" | mugai portal passwd %s)", fs.Arg(0))
	}
	if err := auth.SetPassword(cfg.Portal.Users, fs.Arg(0), password); err != nil {
		return usagef("portal.users %s (%s): %v", cfg.Portal.Users, configName(fs), err)
	}
	fmt.Fprintf(stdout, "password of %s set in %s\n", printable(fs.Arg(0)), cfg.Portal.Users)
	return nil
}

// configName says which configuration a command used, for errors about a
// path it named.
func configName(fs *flags) string {
	flag := ""
	if f := fs.Lookup("config"); f != nil {
		flag = f.Value.String()
	}
	return findConfig(flag).String()
}
