package sanitize

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"mugai/sanitize/mailwrite"
	"mugai/sanitize/text"
)

// headers holds the input header fields we carry over, decoded and
// validated, ready to be written anew.
type headers struct {
	from, to, cc, replyTo []*mail.Address
	subject               string
	date                  time.Time
	hasDate               bool
	messageID             string // validated "<...>"
	origMessageID         string
	inReplyTo, references []string
	received              []string // the trace so far, newest first, cleaned
	actions               string   // the X-Mugai-Actions value (ours, see actionsValue); "" for none
}

// maxTrace bounds the Received fields we carry over. It is above every
// MTA's hop limit (Postfix: 50), so a looping message still reaches one
// that stops it.
const maxTrace = 100

// traceField cleans one Received field for carrying over (RFC 5321 4.4:
// a relay must not remove the trace). It is written anew: unfolded,
// whitespace collapsed, every byte outside printable ASCII replaced by
// "?", words and the field bounded so that it folds within 998 octets.
func traceField(v string) string {
	if len(v) > 2000 {
		v = v[:2000]
	}
	words := strings.Fields(strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\r' || r == '\n':
			return ' '
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, v))
	for i, w := range words {
		if len(w) > 200 {
			words[i] = w[:200]
		}
	}
	return strings.Join(words, " ")
}

var msgIDPattern = regexp.MustCompile(`<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>`)

// readHeaders extracts the fields we carry over from the top-level header.
func readHeaders(root *node, env Envelope, hostname string) headers {
	h := root.header
	var out headers
	first := func(k string) string { return h.Get(k) }
	out.from, _ = text.ParseAddressList(first("From"))
	out.to, _ = text.ParseAddressList(strings.Join(h.Values("To"), ", "))
	out.cc, _ = text.ParseAddressList(strings.Join(h.Values("Cc"), ", "))
	out.replyTo, _ = text.ParseAddressList(first("Reply-To"))
	out.subject = text.DecodeHeader(first("Subject"))
	if t, err := mail.ParseDate(text.DecodeHeader(first("Date"))); err == nil {
		out.date, out.hasDate = t, true
	}
	if ids := msgIDPattern.FindAllString(first("Message-Id"), 1); len(ids) == 1 {
		out.messageID, out.origMessageID = ids[0], ids[0]
	}
	out.inReplyTo = msgIDPattern.FindAllString(first("In-Reply-To"), 5)
	refs := msgIDPattern.FindAllString(first("References"), -1)
	if len(refs) > 20 { // keep the thread root and the most recent ones
		refs = append(refs[:1:1], refs[len(refs)-19:]...)
	}
	out.references = refs
	for _, v := range h.Values("Received") {
		if len(out.received) == maxTrace {
			break
		}
		if t := traceField(v); t != "" {
			out.received = append(out.received, t)
		}
	}
	if len(out.from) == 0 {
		if a, err := mail.ParseAddress("<" + env.From + ">"); env.From != "" && err == nil {
			out.from = []*mail.Address{{Name: "", Address: a.Address}}
		} else {
			out.from = []*mail.Address{{Name: "送信者不明 unknown sender", Address: "unknown-sender@invalid"}}
		}
	}
	if !out.hasDate {
		out.date = env.Received
	}
	if out.messageID == "" {
		id := env.ID
		if id == "" {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		out.messageID = "<" + id + "@" + hostname + ">"
	}
	return out
}

// textEncoder writes header text and the body in the output charset.
type textEncoder struct{ jis bool }

// chooseEncoder picks ISO-2022-JP when the policy asks for it and every
// text of the message fits; otherwise UTF-8.
func chooseEncoder(charset string, in headers, body string) textEncoder {
	if charset != "iso-2022-jp" {
		return textEncoder{}
	}
	all := []string{body, in.subject}
	for _, list := range [][]*mail.Address{in.from, in.to, in.cc, in.replyTo} {
		for _, a := range list {
			all = append(all, a.Name)
		}
	}
	for _, s := range all {
		if _, ok := text.EncodeJIS(s); !ok {
			return textEncoder{}
		}
	}
	return textEncoder{jis: true}
}

// words encodes non-ASCII text as encoded words in the output charset.
func (e textEncoder) words(s string) string {
	if e.jis {
		return text.EncodeJISWords(s)
	}
	return mailwrite.EncodedWords(s)
}

// write produces the new message: our Received, the trace carried over,
// X-Mugai-Id, the other carried over fields, and a single text/plain part, or multipart/mixed when the
// policy kept attachments.
func (rb *Rebuilder) write(env Envelope, in headers, text string, kept []attachment) []byte {
	enc := chooseEncoder(rb.Policy.Body.Charset, in, text)
	hw := rb.header(env, in, enc)
	var buf bytes.Buffer
	ctype, cte, body := enc.body(text)
	if len(kept) == 0 {
		hw.Add("Content-Type", ctype)
		hw.Add("Content-Transfer-Encoding", cte)
		buf.Write(hw.Bytes())
		buf.Write(body)
		return buf.Bytes()
	}
	var mp mailwrite.Multipart
	var th mailwrite.Header
	th.Add("Content-Type", ctype)
	th.Add("Content-Transfer-Encoding", cte)
	mp.Add(&th, body)
	for _, a := range kept {
		mp.Add(attachmentPart(a))
	}
	hw.Add("Content-Type", mailwrite.MediaType("multipart/mixed", mailwrite.Param{Name: "boundary", Value: mp.Boundary()}))
	buf.Write(hw.Bytes())
	buf.Write(mp.Bytes())
	return buf.Bytes()
}

// attachmentPart writes one attachment in base64, but for a message we
// rebuilt (message/rfc822): RFC 2046 5.2.1 allows only 7bit, 8bit or
// binary there, and ours is 7-bit text with short lines (headers encoded
// and folded, bodies in base64 or 7bit), so it goes as 7bit. One that is
// not (it should not happen) goes in base64 as application/octet-stream,
// never as a message/rfc822 a client or parser would refuse.
func attachmentPart(a attachment) (*mailwrite.Header, []byte) {
	var ah mailwrite.Header
	ctype, cte, body := a.ctype, "base64", []byte(nil)
	if ctype == "message/rfc822" {
		if sevenBit(a.data) {
			cte, body = "7bit", a.data
		} else {
			ctype = "application/octet-stream"
		}
	}
	if body == nil {
		body = mailwrite.Base64(a.data)
	}
	ct, cd := mailwrite.Attachment(ctype, a.name)
	ah.Add("Content-Type", ct)
	ah.Add("Content-Disposition", cd)
	ah.Add("Content-Transfer-Encoding", cte)
	return &ah, body
}

// sevenBit says whether data is 7bit as RFC 2045 2.7 defines it: ASCII
// without NUL, CR and LF only as CRLF, lines of at most 998 octets, and
// ending with CRLF (so the boundary line that follows starts a line).
func sevenBit(data []byte) bool {
	line := 0
	for i, c := range data {
		switch {
		case c == 0 || c >= 0x80:
			return false
		case c == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				return false
			}
		case c == '\n':
			if i == 0 || data[i-1] != '\r' {
				return false
			}
			line = -1
		}
		if line++; line > 999 { // 998 octets and the CR
			return false
		}
	}
	return len(data) == 0 || bytes.HasSuffix(data, []byte("\r\n"))
}

// header returns the new message's header up to MIME-Version: our
// Received, the trace carried over, X-Mugai-Id, X-Mugai-Actions, and the
// other fields carried over.
func (rb *Rebuilder) header(env Envelope, in headers, enc textEncoder) *mailwrite.Header {
	var hw mailwrite.Header
	host := rb.hostname()
	if env.ID != "" && !env.Nested {
		hw.Add("Received", receivedLine(env, host))
	}
	for _, r := range in.received {
		hw.Add("Received", r)
	}
	if env.ID != "" && !env.Nested {
		hw.Add("X-Mugai-Id", env.ID)
	}
	if in.actions != "" {
		hw.Add(actionsField, in.actions)
	}
	hw.Add("Date", in.date.Format(time.RFC1123Z))
	hw.Add("From", mailwrite.Addresses(in.from, enc.words))
	for _, f := range []struct {
		name string
		list []*mail.Address
	}{{"To", in.to}, {"Cc", in.cc}, {"Reply-To", in.replyTo}} {
		if len(f.list) > 0 {
			hw.Add(f.name, mailwrite.Addresses(f.list, enc.words))
		}
	}
	if in.subject != "" {
		hw.Add("Subject", mailwrite.Text(in.subject, enc.words))
	}
	hw.Add("Message-ID", in.messageID)
	if len(in.inReplyTo) > 0 {
		hw.Add("In-Reply-To", strings.Join(in.inReplyTo, " "))
	}
	if len(in.references) > 0 {
		hw.Add("References", strings.Join(in.references, " "))
	}
	hw.Add("MIME-Version", "1.0")
	return &hw
}

func receivedLine(env Envelope, host string) string {
	helo := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]_", r)) {
			return r
		}
		return -1
	}, env.Helo)
	if helo == "" {
		helo = "unknown"
	}
	var b strings.Builder
	b.WriteString("from " + helo)
	if env.ClientIP != "" {
		b.WriteString(" ([" + env.ClientIP + "])")
	}
	b.WriteString(" by " + host + " (mugai) with ESMTP id " + env.ID)
	if len(env.Rcpts) == 1 {
		if a, err := mail.ParseAddress("<" + env.Rcpts[0] + ">"); err == nil {
			b.WriteString(" for " + (&mail.Address{Address: a.Address}).String())
		}
	}
	b.WriteString("; " + env.Received.Format(time.RFC1123Z))
	return b.String()
}

// safeFilename removes path components, control characters, and every
// character that is not visible text in a name (format characters such as
// bidi controls and zero-width joiners, line and paragraph separators).
func safeFilename(s string) string {
	s = visibleName(s)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120])
	}
	if strings.Trim(s, ". ") == "" { // "", ".", "..", "...": no name, only a hidden extension would be left
		s = "attachment"
	}
	return s
}

// visibleName is s on one line with only visible characters: controls,
// format characters (bidi controls, zero-width ones, tags), line and
// paragraph separators and private-use characters removed.
func visibleName(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) {
			return -1
		}
		return r
	}, text.CleanLine(s)))
}

// body returns the Content-Type, transfer encoding and CRLF body of the
// text part: ISO-2022-JP is 7bit; UTF-8 is 7bit when it is short-lined
// ASCII, base64 otherwise.
func (e textEncoder) body(s string) (ctype, cte string, body []byte) {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	if e.jis {
		if b, ok := text.EncodeJIS(s); ok && maxLineLen(string(b)) <= 998 {
			return "text/plain; charset=ISO-2022-JP", "7bit", b
		}
	}
	if isASCII(s) && maxLineLen(s) <= 998 {
		return "text/plain; charset=UTF-8", "7bit", []byte(s)
	}
	return "text/plain; charset=UTF-8", "base64", mailwrite.Base64([]byte(s))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func maxLineLen(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\r\n") {
		m = max(m, len(l))
	}
	return m
}
