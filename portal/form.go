package portal

import (
	"errors"
	"io"
	"mime"
	"net/http"
)

// maxBody bounds every POST body (the forms are a few short fields).
const maxBody = 16 << 10

// maxFields bounds the fields of one form.
const maxFields = 16

var (
	errBodyTooLarge = errors.New("portal: form body too large")
	errFormSyntax   = errors.New("portal: malformed form body")
	errFormType     = errors.New("portal: not an urlencoded form")
)

// form is a parsed application/x-www-form-urlencoded body. Values are
// byte slices the form owns, so a password can be wiped after use: the
// portal never reads a form through net/http's ParseForm, whose strings
// cannot be zeroed. Call zero when done.
type form struct {
	names  []string
	values [][]byte
}

// readForm reads r's body, at most maxBody bytes, into one buffer it
// wipes after decoding, and parses it. A body over the limit is
// errBodyTooLarge.
func readForm(w http.ResponseWriter, r *http.Request) (*form, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errFormType
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	buf := make([]byte, maxBody+1)
	defer clear(buf)
	n, err := io.ReadFull(body, buf)
	switch {
	case err == nil || n > maxBody:
		return nil, errBodyTooLarge
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	return parseForm(buf[:n])
}

// parseForm decodes an urlencoded body: fields separated by '&', name
// and value by the first '=', '+' for a space, %XX escapes. A bad escape,
// an empty or repeated name or more than maxFields fields is
// errFormSyntax. The input is not kept.
func parseForm(b []byte) (*form, error) {
	f := &form{}
	for len(b) > 0 {
		var field []byte
		field, b = cut(b, '&')
		if len(field) == 0 {
			continue
		}
		name, value := cut(field, '=')
		n, err := unescape(name)
		if err != nil || len(n) == 0 {
			f.zero()
			return nil, errFormSyntax
		}
		v, err := unescape(value)
		if err != nil || len(f.names) == maxFields || f.has(string(n)) {
			clear(v)
			f.zero()
			return nil, errFormSyntax
		}
		f.names = append(f.names, string(n))
		f.values = append(f.values, v)
	}
	return f, nil
}

// cut splits b at the first sep (dropped); rest is empty without one.
func cut(b []byte, sep byte) (before, rest []byte) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// unescape decodes '+' and %XX into a new slice.
func unescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(s) {
				clear(out)
				return nil, errFormSyntax
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				clear(out)
				return nil, errFormSyntax
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (f *form) has(name string) bool {
	for _, n := range f.names {
		if n == name {
			return true
		}
	}
	return false
}

// bytes returns name's value, nil when absent; the slice stays the
// form's (wiped by zero).
func (f *form) bytes(name string) []byte {
	for i, n := range f.names {
		if n == name {
			return f.values[i]
		}
	}
	return nil
}

// get returns name's value as a string, for fields that are not secret.
func (f *form) get(name string) string { return string(f.bytes(name)) }

// zero wipes every value.
func (f *form) zero() {
	if f == nil {
		return
	}
	for _, v := range f.values {
		clear(v)
	}
}
