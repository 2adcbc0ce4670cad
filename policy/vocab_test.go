package policy

import (
	"strings"
	"testing"
)

// TestActions: the enum holds what this build carries out; a policy
// naming a planned action (reject) or an unknown one is told which exist.
func TestActions(t *testing.T) {
	for _, a := range allActions {
		if got, err := ParseAction(string(a)); got != a || err != nil {
			t.Errorf("ParseAction(%s) = %q, %v", a, got, err)
		}
		if ja, en := a.Label(); ja == string(a) || en == string(a) {
			t.Errorf("%s has no notice label", a)
		}
	}
	tests := []struct{ in, want string }{
		{"reject", `action "reject" is not available in this version of mugai (available: textify, keep, disarm, flatten, extract, strip)`},
		{"explode", `unknown action "explode" (one of: textify, keep, disarm, flatten, extract, strip)`},
		{"", `unknown action ""`},
	}
	for _, tc := range tests {
		if _, err := ParseAction(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAction(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	_, err := Parse("r.yaml", []byte("rules:\n  - id: refuse\n    clause: \"6(6)\"\n    match: {role: attachment}\n    action: reject\n    reason: {ja: x, en: y}\n"), DefaultClauses())
	if err == nil || !strings.Contains(err.Error(), `r.yaml:5: rules[0] (refuse): action "reject" is not available in this version of mugai`) {
		t.Errorf("a policy naming reject: %v", err)
	}
}
