package text

import (
	"strconv"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// rtfSkip lists destinations whose text is not document text.
var rtfSkip = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true, "object": true,
	"fldinst": true, "themedata": true, "datastore": true, "latentstyles": true, "listtable": true,
	"listoverridetable": true, "rsidtbl": true, "generator": true, "xmlnstbl": true, "header": true,
	"footer": true, "filetbl": true, "revtbl": true, "pgdsctbl": true, "objdata": true, "bkmkstart": true,
	"bkmkend": true, "mmathPr": true, "colorschememapping": true,
}

// codePages maps RTF code pages and \fcharset values to encodings.
func rtfCodePage(cp int) encoding.Encoding {
	switch cp {
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 949:
		return korean.EUCKR
	case 950:
		return traditionalchinese.Big5
	case 1251:
		return charmap.Windows1251
	case 1250:
		return charmap.Windows1250
	}
	return charmap.Windows1252
}

func fcharsetCodePage(cs int) int {
	switch cs {
	case 128:
		return 932
	case 134:
		return 936
	case 129:
		return 949
	case 136:
		return 950
	case 204:
		return 1251
	case 238:
		return 1250
	}
	return 0
}

type rtfState struct {
	skip     bool
	uc       int // characters to skip after \uN
	codePage int
}

// RTFToText extracts the text of an RTF document (Outlook's rich-text
// bodies). It reads only text: no object, picture or field instruction is
// kept. Malformed input yields whatever text was read.
func RTFToText(src []byte) string {
	var out strings.Builder
	var pending []byte // \'hh bytes awaiting decoding in st.codePage
	docCP := 1252
	fontCP := map[int]int{}
	curFont := -1
	st := rtfState{uc: 1, codePage: docCP}
	var stack []rtfState
	skipChars := 0
	flush := func() {
		if len(pending) > 0 {
			s, _ := rtfCodePage(st.codePage).NewDecoder().Bytes(pending)
			out.Write(s)
			pending = pending[:0]
		}
	}
	emit := func(s string) {
		if st.skip {
			return
		}
		flush()
		out.WriteString(s)
	}
	for i := 0; i < len(src) && len(stack) < 1000; i++ {
		c := src[i]
		switch c {
		case '{':
			flush()
			stack = append(stack, st)
		case '}':
			flush()
			if n := len(stack); n > 0 {
				st, stack = stack[n-1], stack[:n-1]
			}
		case '\r', '\n':
		case '\\':
			if i+1 >= len(src) {
				break
			}
			next := src[i+1]
			switch {
			case next == '\'' && i+3 < len(src):
				if skipChars > 0 {
					skipChars--
				} else if !st.skip {
					if b, err := strconv.ParseUint(string(src[i+2:i+4]), 16, 8); err == nil {
						pending = append(pending, byte(b))
					}
				}
				i += 3
			case next == '*':
				st.skip = true
				i++
			case next == '\\' || next == '{' || next == '}':
				emit(string(next))
				i++
			case next == '~':
				emit("\u00a0")
				i++
			case isLetter(next):
				j := i + 1
				for j < len(src) && isLetter(src[j]) {
					j++
				}
				word := string(src[i+1 : j])
				k := j
				if k < len(src) && (src[k] == '-' || src[k] >= '0' && src[k] <= '9') {
					k++
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
				}
				arg, hasArg := 0, k > j
				if hasArg {
					arg, _ = strconv.Atoi(string(src[j:k]))
				}
				if k < len(src) && src[k] == ' ' {
					k++
				}
				i = k - 1
				switch {
				case rtfSkip[word]:
					if word == "fonttbl" {
						i = rtfFontTable(src, i+1, fontCP)
						if n := len(stack); n > 0 {
							st, stack = stack[n-1], stack[:n-1]
						}
						continue
					}
					st.skip = true
				case word == "ansicpg":
					docCP, st.codePage = arg, arg
				case word == "f" && hasArg:
					flush()
					curFont = arg
					if cp, ok := fontCP[curFont]; ok && cp != 0 {
						st.codePage = cp
					} else {
						st.codePage = docCP
					}
				case word == "uc":
					st.uc = arg
				case word == "u" && hasArg:
					if arg < 0 {
						arg += 65536
					}
					emit(string(rune(arg)))
					skipChars = st.uc
				case word == "par" || word == "line" || word == "row" || word == "sect" || word == "page":
					emit("\n")
				case word == "tab" || word == "cell":
					emit("\t")
				case word == "emdash":
					emit("—")
				case word == "endash":
					emit("–")
				case word == "bullet":
					emit("•")
				case word == "lquote":
					emit("‘")
				case word == "rquote":
					emit("’")
				case word == "ldblquote":
					emit("“")
				case word == "rdblquote":
					emit("”")
				}
			default:
				i++ // other control symbols
			}
		default:
			if skipChars > 0 {
				skipChars--
				continue
			}
			if !st.skip {
				flush()
				out.WriteByte(c)
			}
		}
	}
	flush()
	return out.String()
}

// rtfFontTable reads \fN ... \fcharsetM pairs up to the end of the font
// table group and returns the index of its closing brace.
func rtfFontTable(src []byte, i int, fontCP map[int]int) int {
	depth, font := 1, -1
	for ; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		case '\\':
			j := i + 1
			for j < len(src) && isLetter(src[j]) {
				j++
			}
			word := string(src[i+1 : j])
			k := j
			for k < len(src) && (src[k] >= '0' && src[k] <= '9' || src[k] == '-' && k == j) {
				k++
			}
			n, err := strconv.Atoi(string(src[j:k]))
			if err == nil {
				switch word {
				case "f":
					font = n
				case "fcharset":
					fontCP[font] = fcharsetCodePage(n)
				}
			}
			i = max(i, k-1)
		}
	}
	return i
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
