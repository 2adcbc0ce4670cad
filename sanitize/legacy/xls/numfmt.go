package xls

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// builtinFormats are the number formats a workbook may use by id without
// a FORMAT record ([MS-XLS] 2.4.126), in their Japanese Excel forms: a
// date (14) shows as 2026/11/30, and ids 27–36 and 50–58 are the Japanese
// built-in date formats, with the era (令和) where Japanese Excel has it.
var builtinFormats = map[uint16]string{
	1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
	5: `"¥"#,##0;"¥"\-#,##0`, 6: `"¥"#,##0;[Red]"¥"\-#,##0`,
	7: `"¥"#,##0.00;"¥"\-#,##0.00`, 8: `"¥"#,##0.00;[Red]"¥"\-#,##0.00`,
	9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
	14: "yyyy/m/d", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
	18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "yyyy/m/d h:mm",
	27: `[$-411]ge.m.d`, 28: `[$-411]ggge"年"m"月"d"日"`, 29: `[$-411]ggge"年"m"月"d"日"`,
	30: "m/d/yy", 31: `yyyy"年"m"月"d"日"`, 32: `h"時"mm"分"`, 33: `h"時"mm"分"ss"秒"`,
	34: `yyyy"年"m"月"`, 35: `m"月"d"日"`, 36: `[$-411]ge.m.d`,
	37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
	45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0", 48: "##0.0E+0", 49: "@",
	50: `[$-411]ge.m.d`, 51: `[$-411]ggge"年"m"月"d"日"`, 52: `yyyy"年"m"月"`, 53: `m"月"d"日"`,
	54: `[$-411]ggge"年"m"月"d"日"`, 55: `yyyy"年"m"月"`, 56: `m"月"d"日"`,
	57: `[$-411]ge.m.d`, 58: `[$-411]ggge"年"m"月"d"日"`,
}

// token kinds of a format section.
const (
	tLit  = 'L' // literal text
	tDate = 'D' // date or time code, lower case: "yyyy", "m", "[h]", "am/pm", "aaa", "g"
	tNum  = 'N' // digit placeholders and number signs: 0 # ? . , E+
	tGen  = 'G' // "General" inside a section
)

type tok struct {
	k byte
	s string
}

// formatNumber returns v as a cell with format code shows it; code "" is
// General.
func formatNumber(code string, v float64, date1904 bool) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "#NUM!"
	}
	secs := sections(code)
	sec, neg := secs[0], false
	switch {
	case len(secs) >= 3 && v == 0:
		sec = secs[2]
	case len(secs) >= 2 && v < 0:
		sec, v, neg = secs[1], -v, true // the section writes its own sign
	}
	if strings.Contains(strings.ToUpper(sec), "[$-F800]") {
		sec = `yyyy"年"m"月"d"日"` // the system's long date, in Japanese
	} else if strings.Contains(strings.ToUpper(sec), "[$-F400]") {
		sec = "h:mm:ss"
	}
	toks := tokenize(sec)
	isDate, isNum, fraction, text := false, false, false, false
	for _, t := range toks {
		text = text || (t.k == tLit && t.s == "@")
		isDate = isDate || t.k == tDate
		isNum = isNum || t.k == tNum || t.k == tGen
		fraction = fraction || (t.k == tLit && t.s == "/")
	}
	switch {
	case isDate:
		if s, ok := formatDate(toks, v, date1904); ok {
			return s
		}
		return general(v)
	case !isNum && !text:
		var b strings.Builder // literals only: shown instead of the number
		for _, t := range toks {
			b.WriteString(t.s)
		}
		return b.String()
	case !isNum || fraction:
		// text only (@) or a fraction: the plain number
		if neg {
			return "-" + general(v)
		}
		return general(v)
	}
	return formatDigits(toks, v)
}

// sections splits a format code at the semicolons outside quotes.
func sections(code string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && !quoted:
			i++
		case c == ';' && !quoted:
			out = append(out, code[start:i])
			start = i + 1
		}
	}
	out = append(out, code[start:])
	if strings.EqualFold(strings.TrimSpace(out[0]), "general") || out[0] == "" {
		out[0] = "General"
	}
	return out
}

// tokenize splits one section into literals, date codes and number signs.
func tokenize(sec string) []tok {
	var out []tok
	lit := func(s string) { out = append(out, tok{tLit, s}) }
	for i := 0; i < len(sec); {
		c := sec[i]
		lower := c | 0x20
		switch {
		case c == '"':
			end := strings.IndexByte(sec[i+1:], '"')
			if end < 0 {
				end = len(sec) - i - 1
			}
			lit(sec[i+1 : i+1+end])
			i += end + 2
		case c == '\\' || c == '_' || c == '*':
			_, n := utf8.DecodeRuneInString(sec[min(i+1, len(sec)):])
			if c == '\\' {
				lit(sec[i+1 : i+1+n]) // escaped: itself; _x pads, *x fills: nothing
			}
			i += 1 + n
		case c == '[':
			end := strings.IndexByte(sec[i:], ']')
			if end < 0 { // unclosed: to the end
				end = len(sec) - i
			}
			out = append(out, bracket(sec[i+1:i+end])...)
			i += end + 1
		case len(sec)-i >= 7 && strings.EqualFold(sec[i:i+7], "general"):
			out = append(out, tok{tGen, ""})
			i += 7
		case lower == 'e' && i+1 < len(sec) && (sec[i+1] == '+' || sec[i+1] == '-') && len(out) > 0 && out[len(out)-1].k == tNum:
			out = append(out, tok{tNum, "E" + sec[i+1:i+2]})
			i += 2
		case strings.IndexByte("ymdhsge", lower) >= 0:
			n := run(sec[i:], c)
			out = append(out, tok{tDate, strings.Repeat(string(lower), n)})
			i += n
		case lower == 'a':
			code, n := ampm(sec[i:])
			if n == 0 {
				lit(sec[i : i+1])
				n = 1
			} else {
				out = append(out, tok{tDate, code})
			}
			i += n
		case strings.IndexByte("0#?.,", c) >= 0:
			out = append(out, tok{tNum, sec[i : i+1]})
			i++
		default:
			_, n := utf8.DecodeRuneInString(sec[i:])
			lit(sec[i : i+n])
			i += n
		}
	}
	return out
}

// run counts the letters at the start of s equal to c in any case.
func run(s string, c byte) int {
	n := 0
	for n < len(s) && s[n]|0x20 == c|0x20 {
		n++
	}
	return n
}

// ampm reads AM/PM, A/P (as "am/pm", "a/p" with the case kept in the
// code's first letter) and the Japanese weekday codes aaa and aaaa.
func ampm(s string) (string, int) {
	switch {
	case len(s) >= 5 && strings.EqualFold(s[:5], "am/pm"):
		return "am/pm" + s[:1], 5
	case len(s) >= 3 && strings.EqualFold(s[:3], "a/p"):
		return "a/p" + s[:1], 3
	case run(s, 'a') >= 3:
		n := run(s, 'a')
		return strings.Repeat("a", min(n, 4)), n
	}
	return "", 0
}

// bracket reads a [...] part: elapsed time ([h], [mm], [ss]) and a
// currency symbol ([$¥-411]); colours, conditions and locales show nothing.
func bracket(in string) []tok {
	if in != "" && run(in, in[0]) == len(in) && strings.IndexByte("hms", in[0]|0x20) >= 0 {
		return []tok{{tDate, "[" + strings.ToLower(in) + "]"}}
	}
	if strings.HasPrefix(in, "$") {
		sym, _, _ := strings.Cut(in[1:], "-")
		if sym != "" {
			return []tok{{tLit, sym}}
		}
	}
	return nil
}

// general writes a number as the General format does, to 15 significant
// digits and without the binary noise of decimal fractions.
func general(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "#NUM!"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	if a := math.Abs(r); a >= 1e-9 && a < 1e15 {
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
	return strconv.FormatFloat(r, 'E', -1, 64)
}

// maxDigits bounds the digits a format's placeholders ask for (a format
// code is at most 255 characters in Excel).
const maxDigits = 255

// formatDigits writes v by a number section: literals before and after,
// digit placeholders with decimals, thousands separators, scaling commas,
// percent and scientific notation. A negative v gets a minus sign in
// front (a section of its own for negative numbers was given -v).
func formatDigits(toks []tok, v float64) string {
	first, last := -1, -1
	var pat strings.Builder
	for i, t := range toks {
		if t.k == tNum || t.k == tGen {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var pre, post strings.Builder
	for i, t := range toks {
		if t.k == tLit && t.s == "%" {
			v *= 100
		}
		switch {
		case i < first:
			pre.WriteString(t.s)
		case i > last:
			post.WriteString(t.s)
		case t.k == tNum:
			pat.WriteString(t.s)
		case t.k == tGen:
			pat.WriteString("G")
		}
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return sign + pre.String() + digits(pat.String(), v) + post.String()
}

// digits formats v (not negative) by a pattern of 0 # ? . , E+ G.
func digits(pat string, v float64) string {
	if strings.Contains(pat, "G") {
		return general(v)
	}
	if i := strings.IndexAny(pat, "E"); i >= 0 {
		_, frac, _ := strings.Cut(pat[:i], ".")
		return strconv.FormatFloat(v, 'E', min(len(frac), maxDigits), 64)
	}
	intPat, frac, hasPoint := strings.Cut(pat, ".")
	for strings.HasSuffix(intPat, ",") { // each trailing comma scales by a thousand
		intPat = intPat[:len(intPat)-1]
		v /= 1000
	}
	frac = strings.ReplaceAll(frac, ",", "")
	s := fixed(v, min(len(frac), maxDigits))
	ip, fp, _ := strings.Cut(s, ".")
	minFrac := strings.Count(frac, "0")
	for len(fp) > minFrac && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	if ip == "0" && !strings.Contains(intPat, "0") {
		ip = ""
	}
	if n := min(strings.Count(intPat, "0"), maxDigits); len(ip) < n {
		ip = strings.Repeat("0", n-len(ip)) + ip
	}
	if strings.Contains(intPat, ",") {
		ip = group(ip)
	}
	if hasPoint {
		return ip + "." + fp
	}
	return ip
}

// group puts thousands separators into a string of digits.
func group(ip string) string {
	var b strings.Builder
	for i, c := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fixed writes v (not negative) with dec decimals, rounding half away
// from zero on its 15 significant digits as Excel does (2.675 → 2.68,
// where the binary value would give 2.67).
func fixed(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'e', 14, 64) // d.dddddddddddddde±XX
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	d := []byte(strings.Replace(mant, ".", "", 1))
	point := e + 1 // digits before the decimal point
	if point < 1 {
		d = append([]byte(strings.Repeat("0", 1-point)), d...)
		point = 1
	}
	need := point + dec
	for len(d) <= need {
		d = append(d, '0')
	}
	up := d[need] >= '5'
	d = d[:need]
	for i := need - 1; up && i >= 0; i-- {
		if d[i] == '9' {
			d[i] = '0'
			continue
		}
		d[i]++
		up = false
	}
	if up {
		d = append([]byte{'1'}, d...)
		point++
	}
	ip := strings.TrimLeft(string(d[:point]), "0")
	if ip == "" {
		ip = "0"
	}
	if dec == 0 {
		return ip
	}
	return ip + "." + string(d[point:])
}
