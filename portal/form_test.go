package portal

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]string // nil: an error
	}{
		// well-formed
		{"", map[string]string{}},
		{"a=1&b=2", map[string]string{"a": "1", "b": "2"}},
		{"a=%E3%81%82+b&c=", map[string]string{"a": "あ b", "c": ""}},
		{"a&&b=%2B%26%3D", map[string]string{"a": "", "b": "+&="}},
		{"pw=a%00b%ffc", map[string]string{"pw": "a\x00b\xffc"}},
		{"a=b=c", map[string]string{"a": "b=c"}},
		// malformed
		{"a=%", nil},
		{"a=%4", nil},
		{"a=%zz", nil},
		{"%=1", nil},
		{"=1", nil},
		{"a=1&a=2", nil},
		{manyFields(maxFields + 1), nil},
	} {
		f, err := parseForm([]byte(c.in))
		if c.want == nil {
			if err == nil {
				t.Errorf("%q: no error", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(f.names) != len(c.want) {
			t.Errorf("%q: %d fields, want %d", c.in, len(f.names), len(c.want))
		}
		for k, v := range c.want {
			if !f.has(k) || f.get(k) != v {
				t.Errorf("%q: %s = %q, want %q", c.in, k, f.get(k), v)
			}
		}
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("f" + strings.Repeat("x", i) + "=1")
	}
	return b.String()
}

func TestFormZero(t *testing.T) {
	f, err := parseForm([]byte("password=hunter2&csrf=x"))
	if err != nil {
		t.Fatal(err)
	}
	pw := f.bytes("password")
	f.zero()
	if !bytes.Equal(pw, make([]byte, len("hunter2"))) {
		t.Errorf("password after zero: %q", pw)
	}
}

func TestReadFormLimits(t *testing.T) {
	for _, c := range []struct {
		name, ctype, body string
		err               error
	}{
		{"at the limit", "application/x-www-form-urlencoded", "a=" + strings.Repeat("x", maxBody-2), nil},
		{"over the limit", "application/x-www-form-urlencoded", "a=" + strings.Repeat("x", maxBody-1), errBodyTooLarge},
		{"with a charset", "application/x-www-form-urlencoded; charset=utf-8", "a=1", nil},
		{"multipart", "multipart/form-data; boundary=x", "--x--", errFormType},
		{"no type", "", "a=1", errFormType},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		_, err := readForm(httptest.NewRecorder(), r)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}

// FuzzParseForm: no panic; whatever parses re-encodes (url.Values) to a
// body that parses to the same fields; net/url agrees on what parses.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=%E3%81%82+b", "pw=%00%ff&csrf=abc", "a&&b", "a=%", "=x", "a=1&a=2", "%41=%42"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		form, err := parseForm(in)
		if err != nil {
			return
		}
		if len(form.names) > maxFields || len(form.names) != len(form.values) {
			t.Fatalf("%d names, %d values", len(form.names), len(form.values))
		}
		vals := url.Values{}
		for i, n := range form.names {
			if n == "" {
				t.Fatal("an empty name")
			}
			vals.Add(n, string(form.values[i]))
		}
		if std, err := url.ParseQuery(string(in)); err == nil {
			for k, v := range vals {
				if len(std[k]) != 1 || std[k][0] != v[0] {
					t.Fatalf("%q: %s = %q, net/url %q", in, k, v[0], std[k])
				}
			}
		}
		again, err := parseForm([]byte(vals.Encode()))
		if err != nil {
			t.Fatalf("re-encoded %q: %v", vals.Encode(), err)
		}
		for i, n := range form.names {
			if !bytes.Equal(again.bytes(n), form.values[i]) {
				t.Fatalf("%s: %q then %q", n, form.values[i], again.bytes(n))
			}
		}
		form.zero()
		for _, v := range form.values {
			if bytes.ContainsFunc(v, func(r rune) bool { return r != 0 }) {
				t.Fatal("zero left a byte")
			}
		}
	})
}
