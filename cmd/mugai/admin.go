package main

import "mugai/gateway"

// checkOperator refuses an -operator name outside gateway.OperatorRule
// (exit 2) before anything is done: names reach the audit log and the
// headers of released mail.
func checkOperator(name string) error {
	if err := gateway.CheckOperator(name); err != nil {
		return usagef("-operator %q is not accepted: an operator name is %s", name, gateway.OperatorRule)
	}
	return nil
}

// cleanReason reduces a -reason to what is recorded (gateway.CleanReason:
// one line, no control or format characters, at most gateway.MaxReason
// characters) and refuses one that is empty then.
func cleanReason(reason string) (string, error) {
	r := gateway.CleanReason(reason)
	if r == "" {
		return "", usagef("-reason must say why in words (it is audited); %q has none", reason)
	}
	return r, nil
}
