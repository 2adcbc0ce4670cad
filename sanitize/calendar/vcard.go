package calendar

import (
	"fmt"
	"strings"
)

// Contact is what a vCard holds that staff need.
type Contact struct {
	FN      string
	N       []string // family; given; additional; prefix; suffix
	Org     []string // organisation and its units
	Title   string
	Tels    []Typed
	Emails  []Typed
	Addrs   []Address
	Note    string
	Dropped int // photos, sounds, keys, URLs, X- properties and the rest
}

// Typed is a value with its TYPE parameters (work, home, cell…).
type Typed struct {
	Value string
	Types []string
}

// Address is an ADR: post office box; extended; street; locality;
// region; postal code; country.
type Address struct {
	Parts []string
	Types []string
}

// maxValues bounds the phones, mails and addresses kept per card.
const maxValues = 50

var contactProps = []string{"VERSION", "FN", "N", "ORG", "TITLE", "TEL", "EMAIL", "ADR", "NOTE"}

// ReadContacts reads the VCARD components of a parse.
func ReadContacts(p *Parsed) []Contact {
	var out []Contact
	for _, comp := range p.Components {
		if comp.Name != "VCARD" {
			continue
		}
		var c Contact
		c.Dropped = len(comp.Children)
		for _, pr := range comp.Props {
			c.read(pr)
		}
		out = append(out, c)
	}
	return out
}

func (c *Contact) read(p Prop) {
	switch p.Name {
	case "FN":
		c.FN = clip(p.Text(), 500)
	case "N":
		c.N = clipAll(p.Parts(), 5)
	case "ORG":
		c.Org = clipAll(p.Parts(), 5)
	case "TITLE":
		c.Title = clip(p.Text(), 500)
	case "NOTE":
		c.Note = p.Text()
	case "TEL":
		if v := cleanTel(p.Text()); v != "" && len(c.Tels) < maxValues {
			c.Tels = append(c.Tels, Typed{v, types(p)})
		}
	case "EMAIL":
		if v := cleanAddr(strings.TrimPrefix(strings.TrimPrefix(p.Text(), "mailto:"), "MAILTO:")); v != "" && len(c.Emails) < maxValues {
			c.Emails = append(c.Emails, Typed{v, types(p)})
		}
	case "ADR":
		if len(c.Addrs) < maxValues {
			c.Addrs = append(c.Addrs, Address{clipAll(p.Parts(), 7), types(p)})
		}
	case "VERSION":
	default:
		c.Dropped++
	}
}

func clipAll(parts []string, n int) []string {
	parts = parts[:min(len(parts), n)]
	for i := range parts {
		parts[i] = clip(strings.ReplaceAll(parts[i], "\n", " "), 500)
	}
	return parts
}

// cleanTel keeps a telephone number's digits and the signs written with
// them; a tel: URI's scheme is dropped.
func cleanTel(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "TEL:")
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r == '+', r == '-', r == ' ', r == '(', r == ')', r == '#', r == '*', r == ',', r == '.':
			return r
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '－' || r == '‐' || r == '−':
			return '-'
		}
		return -1
	}, s)
	return clip(strings.TrimSpace(s), 40)
}

// types are the TYPE parameters known to vCard (work, home, cell, fax,
// voice, pref…), lower-case.
func types(p Prop) []string {
	var out []string
	for _, v := range p.Params["TYPE"] {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			switch t {
			case "work", "home", "cell", "fax", "voice", "pref", "pager", "msg", "text", "internet", "dom", "intl", "postal", "parcel":
				out = append(out, t)
			}
		}
	}
	return out
}

var typeLabels = map[string]string{"work": "勤務先 work", "home": "自宅 home", "cell": "携帯 mobile", "fax": "FAX fax", "pager": "ポケベル pager"}

func typeText(ts []string) string {
	var ls []string
	for _, t := range ts {
		if l := typeLabels[t]; l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return ""
	}
	return "（" + strings.Join(ls, "、") + "）"
}

// Name is the name to show: FN, else N family then given (the Japanese
// order).
func (c Contact) Name() string {
	if c.FN != "" {
		return c.FN
	}
	var ns []string
	for _, i := range []int{3, 0, 1, 2, 4} {
		if i < len(c.N) && c.N[i] != "" {
			ns = append(ns, c.N[i])
		}
	}
	return strings.Join(ns, " ")
}

// addrText writes an address in the Japanese order: postal code, region,
// locality, street, extended, post office box, country.
func addrText(a Address) string {
	part := func(i int) string {
		if i < len(a.Parts) {
			return a.Parts[i]
		}
		return ""
	}
	var ss []string
	if z := part(5); z != "" {
		ss = append(ss, "〒"+z)
	}
	for _, i := range []int{4, 3, 2, 1, 0, 6} {
		if v := part(i); v != "" {
			ss = append(ss, v)
		}
	}
	return strings.Join(ss, " ")
}

// RenderContacts writes contact cards for staff.
func RenderContacts(cs []Contact, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "――― 連絡先 / Contact card%s ―――\n", nameSuffix(name))
	if len(cs) == 0 {
		b.WriteString("連絡先が見つかりませんでした。 No contact was found.\n")
	}
	for i, c := range cs {
		if i == maxShownEvents {
			fmt.Fprintf(&b, "\nほか %d 件の連絡先は省略しました。 %s not shown.\n", len(cs)-i, plural(len(cs)-i, "more contact", "more contacts"))
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		field(&b, "氏名 Name", c.Name())
		field(&b, "所属 Organization", strings.Join(nonEmpty(c.Org), " "))
		field(&b, "役職 Title", c.Title)
		for _, t := range c.Tels {
			field(&b, "電話 Phone", t.Value+typeText(t.Types))
		}
		for _, e := range c.Emails {
			field(&b, "メール Email", e.Value+typeText(e.Types))
		}
		for _, a := range c.Addrs {
			field(&b, "住所 Address", addrText(a)+typeText(a.Types))
		}
		if n := strings.TrimSpace(c.Note); n != "" {
			n, _ = cutText(n, maxFieldText)
			b.WriteString("メモ Note:\n")
			indent(&b, n)
		}
	}
	return b.String()
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// WriteContacts writes the contacts as minimal vCard 3.0 cards: FN, N,
// ORG, TITLE, TEL, EMAIL, ADR and NOTE (links defanged); nothing else.
func WriteContacts(cs []Contact) []byte {
	var w lineWriter
	for _, c := range cs {
		w.line("BEGIN:VCARD")
		w.line("VERSION:3.0")
		name := c.Name()
		if name == "" {
			name = "（名前なし / no name）"
		}
		w.line("FN:" + escapeText(safeText(name)))
		n := append(c.N[:len(c.N):len(c.N)], make([]string, 5)...)[:5]
		w.line("N:" + structured(n))
		if len(nonEmpty(c.Org)) > 0 {
			w.line("ORG:" + structured(c.Org))
		}
		if c.Title != "" {
			w.line("TITLE:" + escapeText(safeText(c.Title)))
		}
		for _, t := range c.Tels {
			w.line("TEL" + typeParam(t.Types) + ":" + escapeText(t.Value))
		}
		for _, e := range c.Emails {
			w.line("EMAIL" + typeParam(append([]string{"internet"}, without(e.Types, "internet")...)) + ":" + e.Value)
		}
		for _, a := range c.Addrs {
			parts := append(a.Parts[:len(a.Parts):len(a.Parts)], make([]string, 7)...)[:7]
			w.line("ADR" + typeParam(a.Types) + ":" + structured(parts))
		}
		if c.Note != "" {
			w.line("NOTE:" + escapeText(safeText(c.Note)))
		}
		w.line("END:VCARD")
	}
	return w.Bytes()
}

func structured(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = escapeText(safeText(p))
	}
	return strings.Join(out, ";")
}

func typeParam(ts []string) string {
	if len(ts) == 0 {
		return ""
	}
	return ";TYPE=" + strings.Join(ts, ",")
}

func without(ss []string, x string) []string {
	var out []string
	for _, s := range ss {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}
