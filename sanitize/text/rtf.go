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

// rtfState is what a group sets and its end restores.
type rtfState struct {
	skip     bool
	uc       int // characters to skip after \uN
	codePage int
}

// rtfSymbols are the control words that stand for a character.
var rtfSymbols = map[string]string{
	"par": "\n", "line": "\n", "row": "\n", "sect": "\n", "page": "\n", "tab": "\t", "cell": "\t",
	"emdash": "—", "endash": "–", "bullet": "•", "lquote": "‘", "rquote": "’", "ldblquote": "“", "rdblquote": "”",
}

// RTFToText extracts the text of an RTF document (Outlook's rich-text
// bodies). It reads only text: no object, picture or field instruction is
// kept. Malformed input yields whatever text was read.
func RTFToText(src []byte) string {
	r := &rtfReader{src: src, docCP: 1252, fontCP: map[int]int{}, st: rtfState{uc: 1, codePage: 1252}}
	for i := 0; i < len(src) && len(r.stack) < 1000; i++ {
		i = r.step(i)
	}
	r.flush()
	return r.out.String()
}

// rtfReader is what RTFToText knows as it reads.
type rtfReader struct {
	src       []byte
	out       strings.Builder
	pending   []byte // \'hh bytes awaiting decoding in st.codePage
	docCP     int
	fontCP    map[int]int // code page of each font
	st        rtfState
	stack     []rtfState // of the groups open around st
	skipChars int        // characters still to skip after \uN
}

// flush decodes the pending \'hh bytes in the current code page.
func (r *rtfReader) flush() {
	if len(r.pending) > 0 {
		s, _ := rtfCodePage(r.st.codePage).NewDecoder().Bytes(r.pending)
		r.out.Write(s)
		r.pending = r.pending[:0]
	}
}

// emit writes document text, unless the group is skipped.
func (r *rtfReader) emit(s string) {
	if r.st.skip {
		return
	}
	r.flush()
	r.out.WriteString(s)
}

// pop closes a group.
func (r *rtfReader) pop() {
	if n := len(r.stack); n > 0 {
		r.st, r.stack = r.stack[n-1], r.stack[:n-1]
	}
}

// step reads what starts at src[i] and returns the index of its last byte.
func (r *rtfReader) step(i int) int {
	switch c := r.src[i]; c {
	case '{':
		r.flush()
		r.stack = append(r.stack, r.st)
	case '}':
		r.flush()
		r.pop()
	case '\r', '\n':
	case '\\':
		return r.control(i)
	default:
		if r.skipChars > 0 {
			r.skipChars--
		} else if !r.st.skip {
			r.flush()
			r.out.WriteByte(c)
		}
	}
	return i
}

// control reads the control symbol or word at src[i] (a backslash) and
// returns the index of its last byte.
func (r *rtfReader) control(i int) int {
	if i+1 >= len(r.src) {
		return i
	}
	switch next := r.src[i+1]; {
	case next == '\'' && i+3 < len(r.src):
		if r.skipChars > 0 {
			r.skipChars--
		} else if !r.st.skip {
			if b, err := strconv.ParseUint(string(r.src[i+2:i+4]), 16, 8); err == nil {
				r.pending = append(r.pending, byte(b))
			}
		}
		return i + 3
	case next == '*':
		r.st.skip = true
	case next == '\\' || next == '{' || next == '}':
		r.emit(string(next))
	case next == '~':
		r.emit("\u00a0")
	case isLetter(next):
		return r.controlWord(i)
	} // other control symbols: nothing
	return i + 1
}

// controlWord reads the control word at src[i] (a backslash), its numeric
// argument and the space that ends it, and returns the index of its last
// byte (of the font table's closing brace, for the font table).
func (r *rtfReader) controlWord(i int) int {
	src := r.src
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
	if word == "fonttbl" {
		end := rtfFontTable(src, k, r.fontCP)
		r.pop()
		return end
	}
	r.apply(word, arg, hasArg)
	return k - 1
}

// apply does what a control word does to the text.
func (r *rtfReader) apply(word string, arg int, hasArg bool) {
	switch {
	case rtfSkip[word]:
		r.st.skip = true
	case word == "ansicpg":
		r.docCP, r.st.codePage = arg, arg
	case word == "f" && hasArg:
		r.flush()
		if cp, ok := r.fontCP[arg]; ok && cp != 0 {
			r.st.codePage = cp
		} else {
			r.st.codePage = r.docCP
		}
	case word == "uc":
		r.st.uc = arg
	case word == "u" && hasArg:
		if arg < 0 {
			arg += 65536
		}
		r.emit(string(rune(arg)))
		r.skipChars = r.st.uc
	case rtfSymbols[word] != "":
		r.emit(rtfSymbols[word])
	}
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
