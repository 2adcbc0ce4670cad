package text

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Params is a parsed Content-Type or Content-Disposition value.
type Params struct {
	Value    string            // "text/plain", "attachment"; lower-case
	Map      map[string]string // the parameters, decoded to UTF-8, names lower-case
	Dups     []string          // names given more than once with different values
	Extended map[string]bool   // names given in RFC 2231 form (name*, name*0…)
}

// ParseParams parses a header value with parameters ourselves, because the
// standard library and go-message drop what Japanese mailers send: RFC 2231
// values in shift_jis or iso-2022-jp, continuations (name*0*, name*1, out
// of order too), RFC 2047 words inside quotes, raw 8-bit bytes, unquoted
// values with spaces. It never fails: what it cannot read it leaves out.
func ParseParams(s string) Params {
	segs := splitParams(s)
	p := Params{Value: strings.ToLower(strings.TrimSpace(segs[0])), Map: map[string]string{}, Extended: map[string]bool{}}
	plain := map[string]string{}
	extended := map[string]string{}
	sections := map[string][]paramSection{}
	seen := map[string]string{}
	for _, seg := range segs[1:] {
		name, val, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		val = unquoteParam(strings.TrimSpace(val))
		if name == "" {
			continue
		}
		if prev, dup := seen[name]; dup && prev != val {
			p.Dups = append(p.Dups, name)
		}
		seen[name] = val
		base, rest, star := strings.Cut(name, "*")
		if star {
			p.Extended[base] = true
		}
		switch {
		case !star:
			plain[name] = val
		case rest == "":
			extended[base] = decode2231(val)
		default:
			num, enc := strings.CutSuffix(rest, "*")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			sections[base] = append(sections[base], paramSection{n, val, enc})
		}
	}
	for k, v := range plain {
		p.Map[k] = DecodeHeader(v)
	}
	for k, secs := range sections {
		p.Map[k] = CleanLine(joinSections(secs))
	}
	for k, v := range extended { // name* wins over name and name*0
		p.Map[k] = CleanLine(v)
	}
	slices.Sort(p.Dups)
	p.Dups = slices.Compact(p.Dups)
	return p
}

// paramSection is one section of an RFC 2231 continued value (name*n or
// name*n*).
type paramSection struct {
	n       int
	val     string
	encoded bool // name*n*: percent-encoded, the first one with charset'language'
}

// joinSections puts the sections of a continued value in order, joins
// their bytes and decodes them in the charset the first one names.
func joinSections(secs []paramSection) string {
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].n < secs[j].n })
	charset := ""
	var raw []byte
	for i, sec := range secs {
		v := sec.val
		if sec.encoded {
			if i == 0 && sec.n == 0 {
				if parts := strings.SplitN(v, "'", 3); len(parts) == 3 {
					charset, v = parts[0], parts[2]
				}
			}
			raw = append(raw, pctDecode(v)...)
		} else {
			raw = append(raw, v...)
		}
	}
	return decodeParamBytes(raw, charset)
}

// splitParams splits on semicolons outside quoted strings.
func splitParams(s string) []string {
	var segs []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				segs = append(segs, s[start:i])
				start = i + 1
			}
		}
	}
	return append(segs, s[start:])
}

// unquoteParam removes quotes and backslash escapes; an unterminated quote
// runs to the end.
func unquoteParam(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// decode2231 decodes charset'language'percent-encoded-value.
func decode2231(v string) string {
	parts := strings.SplitN(v, "'", 3)
	if len(parts) != 3 {
		return DecodeHeader(v)
	}
	return decodeParamBytes(pctDecode(parts[2]), parts[0])
}

func pctDecode(s string) []byte {
	if u, err := url.PathUnescape(s); err == nil {
		return []byte(u)
	}
	var b []byte // tolerate stray '%'
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

// decodeParamBytes decodes RFC 2231 bytes in charset, guessing when the
// charset is missing or wrong.
func decodeParamBytes(raw []byte, charset string) string {
	s, _, _ := Decode(raw, charset)
	return s
}
