package text

import "strings"

// EnrichedToText renders text/enriched (RFC 1896): formatting commands
// dropped, <param> contents dropped, "<<" is "<", and in filled text one
// line break is a space while n breaks are n-1.
func EnrichedToText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	nofill := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<' && strings.HasPrefix(s[i:], "<<"):
			b.WriteByte('<')
			i++
		case c == '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return b.String()
			}
			tag := strings.ToLower(s[i+1 : i+end])
			i += end
			switch tag {
			case "nofill":
				nofill++
			case "/nofill":
				nofill = max(0, nofill-1)
			case "param":
				if close := strings.Index(strings.ToLower(s[i:]), "</param>"); close >= 0 {
					i += close + len("</param>") - 1
				}
			}
		case c == '\n' && nofill == 0:
			n := 1
			for i+1 < len(s) && s[i+1] == '\n' {
				n++
				i++
			}
			if n == 1 {
				b.WriteByte(' ')
			} else {
				b.WriteString(strings.Repeat("\n", n-1))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
