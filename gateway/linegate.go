package gateway

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// lineGate enforces accept.max_line_length below go-smtp. go-smtp's own
// check (v0.25.1 lineLimitReader) fails a read after it has consumed the
// bytes, and bufio then hands the cut line to go-smtp as if it were
// complete: the truncated command is executed (a first reply), and the
// sticky error gives "500 5.4.0 Too long line, closing connection" (a
// second). The gate hands go-smtp at most one line per read and no part of
// a line that is too long, so go-smtp's own check never fires:
//   - a command line that is too long is answered here, once, with
//     "500 5.5.2 Line too long", discarded through its LF, and the session
//     goes on. RFC 5321 4.5.3.1.10 names 500 for a line too long, and 3.8
//     lets a server close the connection only after QUIT or with a 421.
//   - a data line that is too long fails go-smtp's DATA read once with
//     smtp.ErrTooLongLine (toReply: "500 5.5.2"), is discarded, and go-smtp
//     drains the rest of the data: one reply, and the session goes on.
//
// It follows go-smtp's state from the client's lines and go-smtp's replies:
// data after a 354 until ".\r\n" at the start of a line; a BDAT chunk, as
// go-smtp parses the command, passes uncounted; after STARTTLS is answered
// 220 everything passes (ciphertext: inside TLS go-smtp's own check applies,
// as this layer sees no lines there).
//
// It also counts the commands before the first MAIL
// (accept.max_commands_before_mail), on the command lines it splits, never
// on data lines or BDAT chunk bytes: a client that only probes (NOOP,
// VRFY, HELO loops) gets "421 4.7.0" and the session ends. Every command
// line counts, one that is too long too; MAIL and STARTTLS count only when
// go-smtp refuses them. Counting ends when go-smtp accepts a MAIL (250),
// or answers STARTTLS with 220: past it the gate sees only ciphertext,
// whose 0x0A bytes are not lines, and inside TLS the session deadline
// (accept.session_timeout) bounds a prober.
//
// read runs on the session's goroutine only; replies may be written from
// others (shutdown), so what Write saw is handed over atomically.
type lineGate struct {
	max int // bytes per line, CRLF included; 0: off

	maxCmds   int    // commands allowed before MAIL; 0: not counted (or no longer)
	cmds      int    // counted so far
	mailAsked bool   // MAIL went to go-smtp while counting; its reply decides
	host      string // the server's name, in the 421
	refused   error  // set once the gate ended the session

	buf      []byte // read from the client, not yet handed out
	scratch  []byte
	err      error // from the client, returned once buf is handed out
	mode     int
	chunk    uint64 // gateChunk: bytes still to pass
	left     int    // bytes of a checked line still to hand out
	after    func() // applied when the checked line is handed out
	skipping bool   // discarding the rest of a line that is too long
	crlf     bool   // gateData: the previous data line ended with CRLF
	tlsAsked bool   // STARTTLS went to go-smtp; its reply decides

	lastReply atomic.Int32 // code of the last reply go-smtp wrote
	replies   atomic.Int64 // how many it wrote
	seen      int64
}

const (
	gateCommand = iota
	gateData
	gateChunk
	gateRaw
)

var errTooManyCommands = errors.New("gateway: too many commands before MAIL")

var replyLineTooLongRaw = wireLine(replyLineTooLong, "")

// reply notes a reply go-smtp writes.
func (g *lineGate) reply(p []byte) {
	if len(p) >= 3 {
		if code, err := strconv.Atoi(string(p[:3])); err == nil {
			g.lastReply.Store(int32(code))
			g.replies.Add(1)
		}
	}
}

// sync applies the reply go-smtp gave to the last line handed out.
func (g *lineGate) sync() {
	if n := g.replies.Load(); n != g.seen {
		g.seen = n
		code := g.lastReply.Load()
		switch {
		case g.mode == gateCommand && code == codeStartData:
			g.mode, g.crlf = gateData, true
		case g.tlsAsked && code == codeReadyTLS:
			g.mode = gateRaw
		case g.mailAsked && code == codeMailOK:
			g.maxCmds = 0 // counting ends at the first MAIL go-smtp takes
		case g.mailAsked, g.tlsAsked && g.maxCmds > 0:
			g.cmds++ // refused: a command like any other
		}
		g.tlsAsked, g.mailAsked = false, false
	}
}

// read fills p from raw (the client), w takes the replies the gate gives.
func (g *lineGate) read(p []byte, raw func([]byte) (int, error), w io.Writer) (int, error) {
	if g.refused != nil {
		return 0, g.refused
	}
	g.sync()
	for {
		step, n, err := g.step(p, raw, w)
		switch step {
		case stepReturn:
			return n, err
		case stepAgain:
			continue
		}
		if g.err != nil {
			return 0, g.takeErr()
		}
		if g.scratch == nil {
			g.scratch = make([]byte, 4096)
		}
		n, g.err = raw(g.scratch)
		g.buf = append(g.buf, g.scratch[:n]...)
	}
}

// lineStep is what the buffered bytes tell read to do next.
type lineStep int

const (
	stepFill   lineStep = iota // read more from the connection
	stepAgain                  // look again: the buffer or the mode changed
	stepReturn                 // give go-smtp n bytes (or the error)
)

// step looks at what is buffered in the current mode.
func (g *lineGate) step(p []byte, raw func([]byte) (int, error), w io.Writer) (lineStep, int, error) {
	switch {
	case g.left > 0: // the rest of a line that fits
		n := copy(p, g.buf[:g.left])
		g.buf, g.left = g.buf[n:], g.left-n
		if g.left == 0 && g.after != nil {
			g.after()
			g.after = nil
		}
		return stepReturn, n, nil
	case g.mode == gateRaw || g.mode == gateChunk && g.chunk > 0:
		n, err := g.passRaw(p, raw)
		return stepReturn, n, err
	case g.mode == gateChunk:
		g.mode = gateCommand
		return stepAgain, 0, nil
	case g.skipping:
		if i := bytes.IndexByte(g.buf, '\n'); i >= 0 {
			g.buf, g.skipping = g.buf[i+1:], false
			return stepAgain, 0, nil
		}
		g.buf = g.buf[:0]
		return stepFill, 0, nil
	}
	return g.nextLine(p, w)
}

// passRaw hands over bytes not taken line by line: everything after
// STARTTLS is answered (the TLS layer reads them), and a BDAT chunk (at
// most what is left of it).
func (g *lineGate) passRaw(p []byte, raw func([]byte) (int, error)) (int, error) {
	q := p
	if g.mode == gateChunk {
		q = p[:min(uint64(len(p)), g.chunk)]
	}
	n := copy(q, g.buf)
	g.buf = g.buf[n:]
	if n == 0 {
		if g.err != nil {
			return 0, g.takeErr()
		}
		n, g.err = raw(q)
	}
	if g.mode == gateChunk {
		g.chunk -= uint64(n)
	}
	if n == 0 && g.err != nil {
		return 0, g.takeErr()
	}
	return n, nil
}

// nextLine starts on the next buffered line: a line that fits is counted
// (a command) and handed over; a line too long is dropped.
func (g *lineGate) nextLine(p []byte, w io.Writer) (lineStep, int, error) {
	i := bytes.IndexByte(g.buf, '\n')
	switch {
	case i >= 0 && i < g.max:
		if g.mode == gateCommand {
			if err := g.count(commandVerb(g.buf[:i+1]), w); err != nil {
				return stepReturn, 0, err
			}
		}
		g.left = i + 1
		g.after = g.lineDone(g.buf[:i+1])
		return stepAgain, 0, nil
	case i >= 0 || len(g.buf) >= g.max:
		return g.tooLong(i, w)
	case g.err != nil && len(g.buf) > 0:
		// The client's last bytes, with no LF: go-smtp sees them, then
		// the error.
		n := copy(p, g.buf)
		g.buf = g.buf[n:]
		return stepReturn, n, nil
	}
	return stepFill, 0, nil
}

// tooLong drops a line longer than the limit (its end at i, or not yet
// read when i < 0): nothing of it goes to go-smtp. In DATA it is
// go-smtp's line-too-long error; a command line is counted all the same
// and answered, never run.
func (g *lineGate) tooLong(i int, w io.Writer) (lineStep, int, error) {
	if i >= 0 {
		g.buf = g.buf[i+1:]
	} else {
		g.buf, g.skipping = g.buf[:0], true
	}
	if g.mode == gateData {
		return stepReturn, 0, smtp.ErrTooLongLine
	}
	if err := g.count("", w); err != nil {
		return stepReturn, 0, err
	}
	if _, err := w.Write(replyLineTooLongRaw); err != nil {
		return stepReturn, 0, err
	}
	return stepAgain, 0, nil
}

func (g *lineGate) takeErr() error {
	err := g.err
	g.err = nil
	return err
}

// lineDone returns what a line that fits changes once it is handed out.
func (g *lineGate) lineDone(line []byte) func() {
	if g.mode == gateData {
		if g.crlf && string(line) == ".\r\n" {
			return func() { g.mode = gateCommand }
		}
		g.crlf = bytes.HasSuffix(line, []byte("\r\n"))
		return nil
	}
	// As go-smtp's parseCmd and handleBdat read it.
	cmd := strings.TrimRight(string(line), "\r\n")
	switch up := strings.ToUpper(cmd); {
	case strings.HasPrefix(up, "STARTTLS"):
		g.tlsAsked = true
	case len(cmd) > 5 && up[:5] == "BDAT ":
		args := strings.Fields(cmd[5:])
		if len(args) == 0 || len(args) > 2 || len(args) == 2 && !strings.EqualFold(args[1], "LAST") {
			return nil
		}
		size, err := strconv.ParseUint(args[0], 10, 32)
		if err != nil {
			return nil
		}
		return func() { g.mode, g.chunk = gateChunk, size }
	}
	return nil
}

// count counts a command line before go-smtp sees it, by its verb
// (commandVerb). Over maxCmds the client gets 421, nothing more of what it
// sent is handed out, and every read fails with errTooManyCommands (go-smtp
// then closes the connection).
func (g *lineGate) count(verb string, w io.Writer) error {
	if g.maxCmds <= 0 {
		return nil
	}
	switch verb {
	case "MAIL":
		g.mailAsked = true // sync counts it if go-smtp refuses it
	case "STARTTLS": // likewise, through tlsAsked (lineDone)
	default:
		g.cmds++
	}
	if g.cmds <= g.maxCmds {
		return nil
	}
	g.refused, g.buf, g.left = errTooManyCommands, nil, 0
	if _, err := w.Write(wireLine(replyTooManyCommands, g.host)); err != nil {
		return errors.Join(errTooManyCommands, err)
	}
	return errTooManyCommands
}

// commandVerb is the verb of a command line as go-smtp's parseCmd reads it
// (v0.25.1): STARTTLS when the line starts with it, else the first four
// bytes upper-cased when the line is just them or they are followed by a
// space; "" for a line go-smtp refuses as mangled or empty. Nothing later
// in the line matters: "NOOP MAIL FROM:<a@b>" is a NOOP.
func commandVerb(line []byte) string {
	line = bytes.TrimRight(line, "\r\n")
	switch {
	case len(line) >= len("STARTTLS") && strings.EqualFold(string(line[:len("STARTTLS")]), "STARTTLS"):
		return "STARTTLS"
	case len(line) == 4, len(line) > 4 && line[4] == ' ':
		return strings.ToUpper(string(line[:4]))
	}
	return ""
}
