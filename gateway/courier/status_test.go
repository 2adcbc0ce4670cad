package courier

import "testing"

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in       string
		ok       bool
		code     int
		enhanced string
		status   string
	}{
		// The enhanced code right after the reply code, in its class.
		{"550 5.1.1 no such user", true, 550, "5.1.1", "5.1.1"},
		{"451 4.3.0 try later", true, 451, "4.3.0", "4.3.0"},
		{"552 5.2.2", true, 552, "5.2.2", "5.2.2"},
		// Elsewhere, or of another class: derived from the reply code.
		{"550 refused by host 2.0.0.1", true, 550, "", "5.0.0"},
		{"550 2.0.0 odd", true, 550, "", "5.0.0"},
		{"550 4.1.1 odd", true, 550, "", "5.0.0"},
		{"451 5.1.1 odd", true, 451, "", "4.0.0"},
		{"550 5.1 short", true, 550, "", "5.0.0"},
		{"550 5.1.1000 long", true, 550, "", "5.0.0"},
		{"550 5.-1.1 sign", true, 550, "", "5.0.0"},
		{"550", true, 550, "", "5.0.0"},
		// Not a reply.
		{"connect: dial tcp 10.0.0.1:25: connection refused", false, 0, "", ""},
		{"5500 x", false, 0, "", ""},
		{"", false, 0, "", ""},
	} {
		e, ok := ParseReply(tc.in)
		if ok != tc.ok {
			t.Errorf("%q: ok %v", tc.in, ok)
			continue
		}
		if !ok {
			continue
		}
		if e.Code != tc.code || e.Enhanced != tc.enhanced || e.Status() != tc.status {
			t.Errorf("%q: %d %q %q, want %d %q %q", tc.in, e.Code, e.Enhanced, e.Status(), tc.code, tc.enhanced, tc.status)
		}
	}
}

func TestStatusWithoutReply(t *testing.T) {
	if s := (&Error{Msg: "connect: refused"}).Status(); s != "4.0.0" {
		t.Errorf("temporary local: %s", s)
	}
	if s := (&Error{Permanent: true, Msg: "x"}).Status(); s != "5.0.0" {
		t.Errorf("permanent local: %s", s)
	}
}
