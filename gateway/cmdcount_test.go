package gateway

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

// finalReplies keeps the last line of each reply after the banner (a
// multi-line EHLO reply is one reply).
func finalReplies(lines []string) []string {
	var out []string
	for i, l := range lines {
		if i == 0 && strings.HasPrefix(l, "220 ") || len(l) < 4 || l[3] != ' ' {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestCommandCounter: accept.max_commands_before_mail counts parsed
// command lines (the verb at the start of the line, any case), never bytes
// elsewhere in a line, message data or BDAT chunks; a client over it gets
// 421 4.7.0 after exactly the allowed replies.
func TestCommandCounter(t *testing.T) {
	const limit = 5
	tg := startGateway(t, func(c *Config) { c.Accept.MaxCmdsBeforeMail = limit })
	tooMany := "421 4.7.0 " + tg.cfg.Hostname + " Too many commands before MAIL"
	body := "From: a@example.jp\r\nSubject: c\r\n\r\n" + strings.Repeat("NOOP\r\nMAIL FROM:<x@example.jp>\r\nRSET\r\nHELO x\r\n", 10)
	cases := []struct {
		name   string
		script string
		cut    int // replies before the 421; -1: never cut (ends with 221)
	}{
		// Cut off: the limit's worth of replies, then 421.
		{"bypass: MAIL FROM: later in a NOOP line", "NOOP MAIL FROM:<a@b>\r\n" + strings.Repeat("NOOP\r\n", 50), limit},
		{"verbs in one write", "HELO a\r\nEHLO a\r\nrset\r\nVRFY postmaster\r\nHELP\r\nXYZZY plugh\r\nnoop\r\nQUIT\r\n", limit},
		{"empty and mangled lines", "\r\nEHLO a\r\n  MAIL FROM:<a@example.jp>\r\nNOOP\r\nnoop MAIL FROM:<a@example.jp>\r\nQUIT\r\n", limit},
		{"MAIL refused counts", strings.Repeat("MAIL FROM:<a@example.jp>\r\n", 20), limit + 1},    // before EHLO: 502
		{"STARTTLS refused counts", "EHLO a\r\n" + strings.Repeat("STARTTLS\r\n", 20), limit + 1}, // no TLS configured: 502
		// Counting ends at the first MAIL go-smtp takes.
		{"lower-case mail from", "EHLO a\r\nmail from:<a@example.jp>\r\n" + strings.Repeat("NOOP\r\n", 20) + "QUIT\r\n", -1},
		{"MAIL as the last allowed", "EHLO a\r\n" + strings.Repeat("NOOP\r\n", limit-1) + "MAIL FROM:<a@example.jp>\r\n" + strings.Repeat("NOOP\r\n", 20) + "QUIT\r\n", -1},
		{"data lines that look like commands", "EHLO a\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\n" + body + ".\r\n" +
			strings.Repeat("NOOP\r\n", 10) + "QUIT\r\n", -1},
		{"BDAT chunk holding MAIL FROM:", "EHLO a\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\n" +
			"BDAT " + itoa(len(body)) + " LAST\r\n" + body + strings.Repeat("NOOP\r\n", 10) + "QUIT\r\n", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := rawDialogue(t, tg.addr, tc.script)
			got := finalReplies(lines)
			all := strings.Join(lines, "\n")
			if tc.cut < 0 {
				if strings.Contains(all, "421") || len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "221 ") {
					t.Errorf("a session that reached MAIL was cut:\n%s", all)
				}
				return
			}
			i := 0
			for i < len(got) && !strings.HasPrefix(got[i], "421 ") {
				i++
			}
			if i != tc.cut || i == len(got) || !strings.HasPrefix(got[i], tooMany) {
				t.Fatalf("want %d replies then %q:\n%s", tc.cut, tooMany, all)
			}
			for _, l := range got[i+1:] {
				if !strings.HasPrefix(l, "421 ") {
					t.Errorf("a command ran after the 421: %q\n%s", l, all)
				}
			}
		})
	}
}

// fakeSession stands in for go-smtp above a lineGate: it reads what the
// gate hands out as go-smtp does (a line at a time, DATA to ".", a BDAT
// chunk by its size) and replies through the gate's reply hook. It accepts
// DATA and BDAT whatever came before, so that data and chunks arrive while
// the gate is still counting, which go-smtp itself never allows.
type fakeSession struct {
	g        *lineGate
	out      bytes.Buffer // every reply: the session's and the gate's own
	mailCode string       // reply to MAIL
	tlsCode  string       // reply to STARTTLS; "220": the rest is raw
	raw      []byte       // what passed after a 220 to STARTTLS
}

func (f *fakeSession) reply(code string) {
	line := code + " x\r\n"
	f.out.WriteString(line)
	f.g.reply([]byte(line))
}

func (f *fakeSession) Read(p []byte) (int, error) { panic("unused") }

func (f *fakeSession) run(script string) error {
	src := strings.NewReader(script)
	r := bufio.NewReader(readerFunc(func(p []byte) (int, error) { return f.g.read(p, src.Read, &f.out) }))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		switch verb := commandVerb([]byte(line)); verb {
		case "DATA":
			f.reply("354")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return err
				}
				if l == ".\r\n" {
					break
				}
			}
			f.reply("250")
		case "BDAT":
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
				return err
			}
			f.reply("250")
		case "MAIL":
			f.reply(f.mailCode)
		case "STARTTLS":
			f.reply(f.tlsCode)
			if f.tlsCode == "220" {
				f.raw, err = io.ReadAll(r)
				return err
			}
		default:
			f.reply("250")
		}
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestLineGateCounts drives the gate alone: data lines and BDAT chunk
// bytes are never counted even while counting runs, a line too long counts,
// and nothing counts past a 220 to STARTTLS (ciphertext).
func TestLineGateCounts(t *testing.T) {
	const limit = 3
	looksLikeCommands := strings.Repeat("NOOP\r\nMAIL FROM:<a@b>\r\nRSET\r\n", 10)
	cases := []struct {
		name     string
		script   string
		mailCode string
		tlsCode  string
		cut      int // replies before the 421; -1: never cut
	}{
		// DATA counts once; its lines do not.
		{"data lines", "DATA\r\n" + looksLikeCommands + ".\r\nNOOP\r\nNOOP\r\nNOOP\r\n", "250", "502", 4},
		// BDAT counts once; its chunk does not, lines or not.
		{"bdat chunk", "BDAT " + itoa(len(looksLikeCommands)+5) + "\r\n" + looksLikeCommands + "MAIL " + "NOOP\r\nNOOP\r\nNOOP\r\n", "250", "502", limit},
		// A line too long is answered 500 by the gate and counts.
		{"line too long", strings.Repeat("NOOP "+strings.Repeat("x", 200)+"\r\n", 5), "250", "502", limit},
		{"line too long, no LF yet", "NOOP\r\nNOOP\r\nNOOP\r\nNOOP " + strings.Repeat("x", 5000), "250", "502", limit},
		// MAIL: the first one taken ends the counting; refused ones count.
		{"mail taken", "NOOP\r\nNOOP\r\nMAIL FROM:<a@b>\r\n" + strings.Repeat("NOOP\r\n", 10), "250", "502", -1},
		{"mail refused", strings.Repeat("MAIL FROM:<a@b>\r\n", 10), "550", "502", limit + 1},
		// STARTTLS answered 220: what follows is ciphertext, not lines.
		{"tls", "NOOP\r\nSTARTTLS\r\n" + strings.Repeat("\x16\x03\x01\n", 100), "250", "220", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSession{g: &lineGate{max: 100, maxCmds: limit, host: "mx.test"}, mailCode: tc.mailCode, tlsCode: tc.tlsCode}
			err := f.run(tc.script)
			replies := strings.Split(strings.TrimSuffix(f.out.String(), "\r\n"), "\r\n")
			if tc.cut < 0 {
				if err != nil && err != io.EOF || strings.Contains(f.out.String(), "421") {
					t.Fatalf("cut off (%v):\n%s", err, f.out.String())
				}
				if tc.tlsCode == "220" && len(f.raw) != 400 {
					t.Errorf("%d bytes passed after STARTTLS, want 400", len(f.raw))
				}
				return
			}
			if err != errTooManyCommands {
				t.Fatalf("session ended with %v, want errTooManyCommands:\n%s", err, f.out.String())
			}
			if len(replies) != tc.cut+1 || replies[tc.cut] != "421 4.7.0 mx.test Too many commands before MAIL, closing" {
				t.Errorf("want %d replies then the 421:\n%s", tc.cut, f.out.String())
			}
		})
	}
}
