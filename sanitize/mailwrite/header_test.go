package mailwrite

import (
	"mime"
	"net/mail"
	"strings"
	"testing"
)

// readField parses a header block with net/mail and returns the one
// field it must hold, raw and decoded.
func readField(t *testing.T, block []byte, name string) (raw, decoded string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(block)))
	if err != nil {
		t.Fatalf("%q: %v", block, err)
	}
	if len(m.Header) != 1 || len(m.Header[name]) != 1 {
		t.Fatalf("%q: fields %v, want one %s", block, m.Header, name)
	}
	raw = m.Header[name][0]
	decoded, err = new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return raw, decoded
}

// checkLines: CRLF only, every line within 78 characters unless it holds
// one word (after the field name, on the first), every continuation line
// folded.
func checkLines(t *testing.T, block []byte) {
	t.Helper()
	s := string(block)
	if strings.Count(s, "\n") != strings.Count(s, "\r\n") || strings.Count(s, "\r") != strings.Count(s, "\r\n") {
		t.Errorf("%q: bare CR or LF", s)
	}
	for i, line := range strings.Split(strings.TrimSuffix(s, "\r\n\r\n"), "\r\n") {
		words := strings.Fields(line)
		if i == 0 {
			words = words[1:]
		}
		if len(line) > 78 && len(words) > 1 || len(line) > 998 {
			t.Errorf("%q: line of %d characters", line, len(line))
		}
		if i > 0 && !strings.HasPrefix(line, " ") {
			t.Errorf("%q: line %d is not a continuation", s, i)
		}
	}
}

// TestFoldJapaneseSubject: a long Japanese subject becomes encoded words
// folded between them, every line within 78 characters, decoding to the
// subject; no character is split across words.
func TestFoldJapaneseSubject(t *testing.T) {
	for _, subject := range []string{
		"【重要】令和8年度 第3回 情報セキュリティ委員会の開催について（日程調整のお願い・資料送付）",
		strings.Repeat("無害化通信のお知らせ", 30),
		"会議 meeting " + strings.Repeat("予定", 40) + " end",
		"絵文字😀を含む件名😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
	} {
		var h Header
		h.AddText("Subject", subject)
		b := h.Bytes()
		checkLines(t, b)
		if _, dec := readField(t, b, "Subject"); dec != subject {
			t.Errorf("%q decodes to %q", subject, dec)
		}
		for _, w := range strings.Fields(strings.TrimPrefix(string(b), "Subject:")) {
			if len(w) > 75 {
				t.Errorf("encoded word of %d characters: %s", len(w), w)
			}
		}
	}
}

// TestHeaderInjection: CR, LF and other control characters in a value
// cannot end the field or start another, whether the value is text or
// structured.
func TestHeaderInjection(t *testing.T) {
	for _, v := range []string{
		"invoice\r\nBcc: victim@example.jp",
		"invoice\nBcc: victim@example.jp",
		"invoice\rBcc: victim@example.jp",
		"invoice\r\n\r\nbody text",
		"a\x00b\x1b[31mc\x7fd",
		"請求書\r\nBcc: victim@example.jp",
	} {
		for _, add := range []func(*Header){
			func(h *Header) { h.AddText("Subject", v) },
			func(h *Header) { h.Add("Subject", v) },
		} {
			var h Header
			add(&h)
			b := h.Bytes()
			checkLines(t, b)
			_, dec := readField(t, b, "Subject")
			if strings.ContainsAny(dec, "\r\n\x00\x1b\x7f") {
				t.Errorf("%q: a control character got through: %q", v, dec)
			}
		}
	}
}

// TestText: plain ASCII stays; non-ASCII, ASCII that looks like an
// encoded word and a word too long for a line are encoded, and decode to
// what was given, on one line: white space controls are spaces, other
// controls are gone.
func TestText(t *testing.T) {
	tests := []struct {
		in, want string // want: decoded ("" for in)
		plain    bool   // written as want, not encoded
	}{
		{in: "Re: meeting on Thursday", plain: true},
		{in: "see https://example.jp/" + strings.Repeat("x", 100), plain: true}, // a long URL: a long line, within 998
		{in: "会議"},
		{in: "=?utf-8?b?4oCu?= forged"},
		{in: strings.Repeat("x", 1000)},
		{in: "tab\there", want: "tab here", plain: true},
		{in: "two\r\nlines", want: "two  lines", plain: true},
		{in: "bell\x07", want: "bell", plain: true},
		{in: "会議\r\nBcc: x@example.jp\x00", want: "会議  Bcc: x@example.jp"},
	}
	for _, tc := range tests {
		if tc.want == "" {
			tc.want = tc.in
		}
		got := Text(tc.in, EncodedWords)
		if (got == tc.want) != tc.plain {
			t.Errorf("Text(%q) = %q; plain %v", tc.in, got, tc.plain)
		}
		if dec, err := new(mime.WordDecoder).DecodeHeader(got); err != nil || dec != tc.want {
			t.Errorf("Text(%q) = %q decodes to %q, %v; want %q", tc.in, got, dec, err, tc.want)
		}
	}
}

// TestAddresses: display names as atoms, quoted strings or encoded words;
// every list reads back with net/mail.
func TestAddresses(t *testing.T) {
	list := []*mail.Address{
		{Name: "Sato", Address: "sato@example.co.jp"},
		{Name: "Sato, Taro (営業)", Address: "taro@example.co.jp"},
		{Name: `Say "hi"`, Address: "hi@example.jp"},
		{Address: "plain@example.jp"},
		{Name: "=?utf-8?q?x?=", Address: "x@example.jp"},
	}
	var h Header
	h.Add("To", Addresses(list, EncodedWords))
	b := h.Bytes()
	checkLines(t, b)
	m, _ := mail.ReadMessage(strings.NewReader(string(b)))
	got, err := m.Header.AddressList("To")
	if err != nil || len(got) != len(list) {
		t.Fatalf("%s: %v %v", b, got, err)
	}
	for i, a := range got {
		if a.Name != list[i].Name || a.Address != list[i].Address {
			t.Errorf("address %d reads back as %q <%s>, want %q <%s>", i, a.Name, a.Address, list[i].Name, list[i].Address)
		}
	}
	if !strings.Contains(string(b), "To: Sato <sato@example.co.jp>,") || !strings.Contains(string(b), `"Say \"hi\"" <hi@example.jp>`) {
		t.Errorf("written as %q", b)
	}
}
