package text

import (
	"regexp"
	"strings"
)

var (
	uuBegin  = regexp.MustCompile(`^begin(-base64)? [0-7]{3,4} (.+)$`)
	yBegin   = regexp.MustCompile(`^=ybegin .*name=(.+)$`)
	binHexID = "(This file must be converted with BinHex"
)

// StripEmbeddedFiles removes files written as text into a body — uuencode
// (begin … end), yEnc (=ybegin … =yend) and BinHex 4.0 blocks, each
// replaced by a line saying so — and returns the text without them and a
// description of each.
func StripEmbeddedFiles(text string) (string, []string) {
	lines := strings.Split(text, "\n")
	var out, found []string
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r ")
		var end func(string) bool
		var what string
		switch {
		case uuBegin.MatchString(line):
			what = "uuencode: " + uuBegin.FindStringSubmatch(line)[2]
			end = func(l string) bool { return l == "end" || l == "====" }
		case yBegin.MatchString(line):
			what = "yEnc: " + strings.TrimSpace(yBegin.FindStringSubmatch(line)[1])
			end = func(l string) bool { return strings.HasPrefix(l, "=yend") }
		case strings.HasPrefix(line, binHexID):
			what = "BinHex"
			end = func(l string) bool { return len(l) > 1 && strings.HasSuffix(l, ":") && !strings.HasPrefix(l, binHexID) }
		default:
			out = append(out, lines[i])
			continue
		}
		// Drop through the end marker; an unterminated block runs to the
		// end of the text (fail closed).
		j := i + 1
		for ; j < len(lines); j++ {
			if end(strings.TrimRight(lines[j], "\r ")) {
				break
			}
		}
		found = append(found, what)
		out = append(out, "[埋め込みファイルを削除 embedded file removed: "+CleanLine(what)+"]")
		i = j
	}
	return strings.Join(out, "\n"), found
}
