package token

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var (
	secretA = bytes.Repeat([]byte{0xA5}, SecretLen)
	secretB = bytes.Repeat([]byte{0x5A}, SecretLen)
	t0      = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

const msgID = "20261201T090000-b0e299d1fb09"

func TestSignVerify(t *testing.T) {
	exp := t0.Add(90 * 24 * time.Hour)
	tok := Sign(secretA, msgID, exp)
	if strings.ContainsAny(tok, "+/=\r\n") {
		t.Fatalf("token %q is not URL-safe without padding", tok)
	}
	id, got, ok := Verify(secretA, tok, t0)
	if !ok || id != msgID || !got.Equal(exp) {
		t.Fatalf("Verify = %q, %v, %v; want %q, %v, true", id, got, ok, msgID, exp)
	}
}

func TestVerifyRefuses(t *testing.T) {
	exp := t0.Add(time.Hour)
	tok := Sign(secretA, msgID, exp)
	// tok's version, expiry and id with another id's MAC.
	raw, _ := b64.DecodeString(tok)
	otherRaw, _ := b64.DecodeString(Sign(secretA, "20261201T090000-000000000000", exp))
	spliced := b64.EncodeToString(append(raw[:len(raw)-macLen:len(raw)-macLen], otherRaw[len(otherRaw)-macLen:]...))
	for _, tc := range []struct {
		name   string
		secret []byte
		tok    string
		now    time.Time
	}{
		// Other keys and ids.
		{"other secret", secretB, tok, t0},
		{"other id's MAC", secretA, spliced, t0},
		{"empty secret", nil, tok, t0},
		// Expiry boundary: valid before, not at the second it names.
		{"at expiry", secretA, tok, exp},
		{"after expiry", secretA, tok, exp.Add(time.Nanosecond)},
		// Malformed.
		{"empty", secretA, "", t0},
		{"truncated by one", secretA, tok[:len(tok)-1], t0},
		{"truncated MAC", secretA, tok[:len(tok)-4], t0},
		{"extra byte", secretA, tok + "A", t0},
		{"padding", secretA, tok + "=", t0},
		{"standard alphabet", secretA, strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+", t0},
		{"newline inside", secretA, tok[:10] + "\n" + tok[10:], t0},
		{"CR at end", secretA, tok + "\r", t0},
		{"garbage", secretA, "not a token at all, just words!", t0},
		{"over-long", secretA, strings.Repeat("A", 1<<20), t0},
		{"empty id", secretA, Sign(secretA, "", exp), t0},
		{"over-long id", secretA, Sign(secretA, strings.Repeat("x", MaxIDLen+1), exp), t0},
	} {
		if id, _, ok := Verify(tc.secret, tc.tok, tc.now); ok {
			t.Errorf("%s: verified as %q", tc.name, id)
		}
	}
	if _, _, ok := Verify(secretA, tok, exp.Add(-time.Nanosecond)); !ok {
		t.Errorf("refused a nanosecond before expiry")
	}
	if _, _, ok := Verify(secretA, Sign(secretA, strings.Repeat("x", MaxIDLen), exp), t0); !ok {
		t.Errorf("refused an id of MaxIDLen bytes")
	}
}

// Every bit of every byte of the decoded token matters.
func TestVerifyTamperEachByte(t *testing.T) {
	tok := Sign(secretA, msgID, t0.Add(time.Hour))
	raw, err := b64.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if id, _, ok := Verify(secretA, b64.EncodeToString(b), t0); ok {
				t.Fatalf("byte %d bit %d flipped: verified as %q", i, bit, id)
			}
		}
	}
	// And each character of the text, replaced by every other one of the
	// alphabet.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, _, ok := Verify(secretA, bad, t0); ok {
				t.Fatalf("character %d changed to %q: verified", i, c)
			}
		}
	}
}

// Sub-second expiries are cut, never rounded up.
func TestSignCutsToSeconds(t *testing.T) {
	exp := t0.Add(1500 * time.Millisecond)
	_, got, ok := Verify(secretA, Sign(secretA, msgID, exp), t0)
	if !ok || !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("expiry %v, %v; want %v", got, ok, t0.Add(time.Second))
	}
}

func TestMAC(t *testing.T) {
	base := MAC(secretA, "csrf", "session", "form")
	for _, tc := range []struct {
		name string
		tag  string
	}{
		{"other secret", MAC(secretB, "csrf", "session", "form")},
		{"other purpose", MAC(secretA, "login", "session", "form")},
		{"split differently", MAC(secretA, "csrf", "sessio", "nform")},
		{"joined", MAC(secretA, "csrf", "sessionform")},
		{"purpose moved into parts", MAC(secretA, "", "csrf", "session", "form")},
		{"extra empty part", MAC(secretA, "csrf", "session", "form", "")},
	} {
		if Equal(tc.tag, base) {
			t.Errorf("%s: same tag", tc.name)
		}
	}
	if !Equal(base, MAC(secretA, "csrf", "session", "form")) {
		t.Error("MAC is not deterministic")
	}
	if len(base) != 43 || strings.ContainsAny(base, "+/=") {
		t.Errorf("tag %q: want 43 URL-safe characters", base)
	}
	// A link's MAC is not a MAC tag of the link's own fields.
	tok := Sign(secretA, msgID, t0.Add(time.Hour))
	raw, _ := b64.DecodeString(tok)
	linkTag := b64.EncodeToString(raw[len(raw)-macLen:])
	if Equal(linkTag, MAC(secretA, linkDomain, string(raw[:headLen]), msgID)) {
		t.Error("MAC with the link domain as purpose forges a link")
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(Sign(secretA, msgID, t0.Add(time.Hour)))
	f.Add(Sign(secretA, "x", t0.Add(time.Hour)))
	f.Add(Sign(secretB, msgID, t0.Add(time.Hour)))
	f.Add("")
	f.Add("AQAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		id, exp, ok := Verify(secretA, tok, t0)
		if !ok {
			if id != "" || !exp.IsZero() {
				t.Fatalf("refused token returned %q, %v", id, exp)
			}
			return
		}
		if again := Sign(secretA, id, exp); again != tok {
			t.Fatalf("verified %q but Sign(%q, %v) = %q", tok, id, exp, again)
		}
		if !t0.Before(exp) {
			t.Fatalf("verified an expired token (%v)", exp)
		}
	})
}
