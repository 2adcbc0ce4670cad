// Package calendar reads calendar invitations (iCalendar, RFC 5545) and
// contact cards (vCard 2.1, 3.0 and 4.0) within fixed limits, renders what
// staff need of them as text for the message body (Japanese first, English
// labels beside), and writes them anew with only those fields: a minimal
// iCalendar that calendar programs import, a minimal vCard 3.0.
//
// Nothing of the input is copied into a rebuilt file as it is: every value
// written is one this package parsed (dates and times, durations,
// recurrence rules) or text it unescaped and escapes again. Attachments,
// alarms, X- properties, photos, sounds, keys and URLs never come through;
// links in text are defanged.
package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Errors of a parse that cannot go on.
var (
	ErrLimit     = errors.New("calendar: over a limit")
	ErrStructure = errors.New("calendar: broken component structure")
)

// Limits bound what one parse holds. Zero fields take the defaults.
type Limits struct {
	MaxBytes      int // input (default 8 MiB)
	MaxLines      int // content lines after unfolding (default 50,000)
	MaxLineBytes  int // one content line after unfolding; longer ones are skipped (default 256 KiB)
	MaxComponents int // BEGIN…END blocks (default 2,000)
	MaxProperties int // properties of all components together (default 30,000)
	MaxDepth      int // nesting of components (default 4: VCALENDAR > VTIMEZONE > STANDARD, VEVENT > VALARM)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxBytes, 8<<20)
	def(&l.MaxLines, 50_000)
	def(&l.MaxLineBytes, 256<<10)
	def(&l.MaxComponents, 2_000)
	def(&l.MaxProperties, 30_000)
	def(&l.MaxDepth, 4)
	return l
}

// Prop is one property: its name upper-cased (a vCard group prefix such
// as "item1." dropped), its parameters (names upper-cased, values as
// written, quotes removed) and its raw value (not yet unescaped).
type Prop struct {
	Name   string
	Params map[string][]string
	Value  string
}

// Param returns the first value of a parameter, "" when absent.
func (p Prop) Param(name string) string {
	if v := p.Params[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Component is a BEGIN…END block.
type Component struct {
	Name     string
	Props    []Prop
	Children []*Component
}

// Prop returns the first property named name, and whether there is one.
func (c *Component) Prop(name string) (Prop, bool) {
	for _, p := range c.Props {
		if p.Name == name {
			return p, true
		}
	}
	return Prop{}, false
}

// Parsed is the result of a parse: the top-level components and what had
// to be skipped on the way.
type Parsed struct {
	Components []*Component
	LongLines  int // content lines over MaxLineBytes, skipped
	BadLines   int // lines that are not content lines, skipped
}

// Parse reads iCalendar or vCard data (already UTF-8; see Decode) into
// components. It fails on a limit, on END without its BEGIN, and on a
// component left open.
func Parse(data []byte, lim Limits) (*Parsed, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrLimit, len(data))
	}
	res := &Parsed{}
	b := builder{lim: lim, res: res}
	err := unfold(data, lim, func(line []byte, long bool) error {
		if long {
			res.LongLines++
			return nil
		}
		return b.line(line)
	})
	if err != nil {
		return nil, err
	}
	if len(b.stack) > 0 {
		return nil, fmt.Errorf("%w: %s not ended", ErrStructure, b.stack[len(b.stack)-1].Name)
	}
	return res, nil
}

// builder turns content lines into components.
type builder struct {
	lim        Limits
	res        *Parsed
	stack      []*Component
	components int
	props      int
}

func (b *builder) line(line []byte) error {
	p, ok := parseLine(string(line))
	if !ok {
		b.res.BadLines++
		return nil
	}
	switch p.Name {
	case "BEGIN":
		name := strings.ToUpper(strings.TrimSpace(p.Value))
		if b.components++; b.components > b.lim.MaxComponents {
			return fmt.Errorf("%w: more than %d components", ErrLimit, b.lim.MaxComponents)
		}
		if len(b.stack) >= b.lim.MaxDepth {
			return fmt.Errorf("%w: components nested deeper than %d", ErrLimit, b.lim.MaxDepth)
		}
		c := &Component{Name: name}
		if n := len(b.stack); n > 0 {
			b.stack[n-1].Children = append(b.stack[n-1].Children, c)
		} else {
			b.res.Components = append(b.res.Components, c)
		}
		b.stack = append(b.stack, c)
	case "END":
		name := strings.ToUpper(strings.TrimSpace(p.Value))
		n := len(b.stack)
		if n == 0 || b.stack[n-1].Name != name {
			return fmt.Errorf("%w: END:%s does not close the open component", ErrStructure, clip(name, 40))
		}
		b.stack = b.stack[:n-1]
	default:
		n := len(b.stack)
		if n == 0 {
			b.res.BadLines++ // a property outside any component
			return nil
		}
		if b.props++; b.props > b.lim.MaxProperties {
			return fmt.Errorf("%w: more than %d properties", ErrLimit, b.lim.MaxProperties)
		}
		b.stack[n-1].Props = append(b.stack[n-1].Props, p)
	}
	return nil
}

// unfold splits data into content lines: CRLF or LF ends a line; a line
// that starts with a space or a tab continues the one before (RFC 5545
// 3.1, the space dropped). A vCard 2.1 quoted-printable value continues on
// the next line after a soft line break ("=" at the end). A line longer
// than MaxLineBytes is reported as long, its text not kept.
func unfold(data []byte, lim Limits, emit func(line []byte, long bool) error) error {
	var cur []byte
	long, have, lines := false, false, 0
	named, qp := false, false // the line's name and parameters are read; they say QUOTED-PRINTABLE
	flush := func() error {
		if !have {
			return nil
		}
		if lines++; lines > lim.MaxLines {
			return fmt.Errorf("%w: more than %d lines", ErrLimit, lim.MaxLines)
		}
		err := emit(cur, long)
		cur, long, have, named, qp = cur[:0], false, false, false, false
		return err
	}
	for len(data) > 0 {
		raw := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		switch {
		case have && len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t'):
			raw = raw[1:]
		case have && qp && len(cur) > 0 && cur[len(cur)-1] == '=': // a soft line break
			cur = cur[:len(cur)-1]
		default:
			if err := flush(); err != nil {
				return err
			}
			if len(bytes.TrimSpace(raw)) == 0 {
				continue
			}
			have = true
		}
		if long || len(cur)+len(raw) > lim.MaxLineBytes {
			long, cur = true, cur[:0]
			continue
		}
		if !named {
			if colon := bytes.IndexByte(raw, ':'); colon >= 0 {
				named = true
				qp = bytes.Contains(bytes.ToUpper(cur), []byte("QUOTED-PRINTABLE")) || // the folded part before
					bytes.Contains(bytes.ToUpper(raw[:colon]), []byte("QUOTED-PRINTABLE"))
			}
		}
		cur = append(cur, raw...)
	}
	return flush()
}

// parseLine splits a content line into name, parameters and value:
// name *(";" param) ":" value, where a parameter value may be quoted
// (and then holds ";" and ":"). vCard 2.1 parameters without a name
// ("TEL;CELL:") are TYPE values. ok is false for a line that is not one.
func parseLine(s string) (Prop, bool) {
	i := strings.IndexAny(s, ";:")
	if i <= 0 {
		return Prop{}, false
	}
	name := strings.ToUpper(s[:i])
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 { // vCard group: "item1.EMAIL"
		name = name[dot+1:]
	}
	if !isName(name) {
		return Prop{}, false
	}
	p := Prop{Name: name}
	rest := s[i:]
	for len(rest) > 0 && rest[0] == ';' {
		var key string
		var vals []string
		var ok bool
		key, vals, rest, ok = parseParam(rest[1:])
		if !ok {
			return Prop{}, false
		}
		if p.Params == nil {
			p.Params = map[string][]string{}
		}
		p.Params[key] = append(p.Params[key], vals...)
	}
	if len(rest) == 0 || rest[0] != ':' {
		return Prop{}, false
	}
	p.Value = rest[1:]
	return p, true
}

// parseParam reads one parameter, up to the ";" or ":" after it.
func parseParam(s string) (key string, vals []string, rest string, ok bool) {
	i := strings.IndexAny(s, "=;:")
	if i <= 0 {
		return "", nil, "", false
	}
	key = strings.ToUpper(strings.TrimSpace(s[:i]))
	if s[i] != '=' { // vCard 2.1: "TEL;CELL;VOICE:", "NOTE;QUOTED-PRINTABLE:"
		if key == "QUOTED-PRINTABLE" || key == "BASE64" || key == "8BIT" || key == "7BIT" {
			return "ENCODING", []string{key}, s[i:], isName(key)
		}
		return "TYPE", []string{key}, s[i:], isName(key)
	}
	s = s[i+1:]
	for {
		var v string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return "", nil, "", false
			}
			v, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexAny(s, ",;:")
			if end < 0 {
				return "", nil, "", false
			}
			v, s = s[:end], s[end:]
		}
		vals = append(vals, caretDecode(v))
		if len(s) == 0 || s[0] != ',' {
			return key, vals, s, isName(key)
		}
		s = s[1:]
	}
}

// caretDecode undoes RFC 6868 parameter escapes: ^n, ^^, ^'.
func caretDecode(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	return strings.NewReplacer("^n", "\n", "^N", "\n", "^^", "^", "^'", `"`).Replace(s)
}

// isName reports an iana-token or x-name: letters, digits and "-".
func isName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
